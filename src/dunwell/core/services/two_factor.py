"""Two-factor sign-in with an authenticator app (TOTP, RFC 6238, through django-otp; issue 6).

Administrators must use it (superusers, and anyone who is an administrator in a company:
`required`); everyone else may. A device is set up in two steps: `start` makes an unconfirmed
one whose key the person scans as a QR code (`qr_data_url`), `confirm` accepts it once a code
from the app is right. At every sign-in `check` takes a code against the person's confirmed
devices. django-otp throttles wrong codes (each one doubles the wait) and refuses a code
already used. Every outcome is in the security log (`audit`).
"""

from __future__ import annotations

from datetime import datetime

import segno
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from dunwell.core.models import AuditKind, Membership, Role
from dunwell.core.services import audit

DEVICE_NAME = "authenticator app"


def required(user: User) -> bool:
    """Whether `user` may not work without a second factor: superusers and administrators."""
    return needed(user)[1]


def needed(user: User) -> tuple[bool, bool]:
    """(has a confirmed device, must have one): what each request of a session not yet past the
    second factor asks, in one query."""
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            has_device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            is_admin=Exists(Membership.objects.filter(user=OuterRef("pk"), role=Role.ADMIN)),
        )
        .values_list("has_device", "is_admin", "is_superuser")
        .first()
    )
    if row is None:
        return False, False
    has_device, is_admin, is_superuser = row
    return bool(has_device), bool(is_admin or is_superuser)


def confirmed(user: User) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"))


@transaction.atomic
def start(user: User) -> TOTPDevice:
    """The device being set up: the unconfirmed one from before (the QR code shown again is the
    one the person may already have scanned), else a new key."""
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return pending or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def secret(device: TOTPDevice) -> str:
    """The key as the app's manual entry shows it: base32, in groups of four."""
    text = device.config_url.split("secret=", 1)[1].split("&", 1)[0]
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_data_url(device: TOTPDevice) -> str:
    """The otpauth:// address as an SVG QR code (a ``data:`` URL: no inline markup to allow)."""
    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2))


@transaction.atomic
def confirm(
    *, user: User, device: TOTPDevice, code: str, at: datetime, ip: str | None, user_agent: str
) -> bool:
    """Accept the device being set up when `code` is right; a wrong code is logged."""
    if device.user_id != user.pk or device.confirmed:
        return False
    if not device.verify_token(_digits(code)):
        audit.record(AuditKind.TWO_FACTOR_FAILED, at=at, user=user, ip=ip, user_agent=user_agent,
                     detail="while setting up the authenticator app")  # fmt: skip
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit.record(AuditKind.TWO_FACTOR_ENABLED, at=at, user=user, ip=ip, user_agent=user_agent,
                 detail=device.name)  # fmt: skip
    return True


def check(
    *, user: User, code: str, at: datetime, ip: str | None, user_agent: str
) -> TOTPDevice | None:
    """The confirmed device that `code` is right for, else None (logged)."""
    token = _digits(code)
    for device in confirmed(user):
        if device.verify_token(token):
            return device
    audit.record(AuditKind.TWO_FACTOR_FAILED, at=at, user=user, ip=ip, user_agent=user_agent,
                 detail="at sign-in")  # fmt: skip
    return None


@transaction.atomic
def reset(*, user: User, at: datetime, actor: User | None = None, detail: str = "") -> int:
    """Remove every device of `user` (a lost phone); they set up a new one at next sign-in."""
    removed: int = TOTPDevice.objects.filter(user=user).delete()[0]
    if removed:
        audit.record(AuditKind.TWO_FACTOR_RESET, at=at, user=user, actor=actor, detail=detail)
    return removed


def _digits(code: str) -> str:
    """The code as typed, without the spaces and dashes apps show in it."""
    return "".join(c for c in code if c.isdigit())
