"""Issuing, checking and revoking API tokens (`api.ApiToken`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import User

from dunwell.api.models import ApiToken
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company

SCOPES = ("read", "write")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def issue(
    *,
    company: Company,
    name: str,
    scopes: list[str],
    days: int | None,
    actor: User | None,
    at: datetime,
) -> tuple[ApiToken, str]:
    """A new token and its text (shown this once: only its hash is kept)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise DunwellError(ErrorCode.INVALID, f"scopes: {', '.join(unknown) or 'none'}: "
                           f"expected some of {', '.join(SCOPES)}", field="scopes")  # fmt: skip
    if not name.strip():
        raise DunwellError(ErrorCode.INVALID, "a token needs a name", field="name")
    prefix = secrets.token_hex(4)
    text = f"dw_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        company=company, name=name.strip()[:80], prefix=prefix, key_hash=_hash(text),
        scopes=sorted(set(scopes)), created_at=at, created_by=actor,
        expires_at=at + timedelta(days=days) if days else None,
    )  # fmt: skip
    return token, text


def check(text: str, *, at: datetime) -> ApiToken | None:
    """The live token `text` is, else None (unknown, wrong, expired or revoked alike)."""
    parts = text.split("_")
    if len(parts) < 3 or parts[0] != "dw":
        return None
    token = ApiToken.objects.select_related("company").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.key_hash, _hash(text)):
        return None
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= at):
        return None
    if token.last_used_at is None or at - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
    return token


def revoke(*, token: ApiToken, at: datetime) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=at)
