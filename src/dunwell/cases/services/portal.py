"""Portal links: issued with each message, resolved at each visit, revoked, renewed on request.

`issue` makes the link a message carries (one per message: re-rendering a message after a
failed send gives the same link) or a fresh one; `resolve` turns a token back into its link, or
refuses it with the reason a visitor may be told (`PortalLinkError.reason`: "invalid" for a token
that is not ours or was changed, "revoked", "expired"). `renew` answers a visitor whose link
expired: a fresh link goes to the contact's own address on record, never to one the visitor
types, at most once an hour per link. `revoke_customer` takes every live link of an account
back (a placement with an agency, a contact who left).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from dunwell.cases.models import PortalLink
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.ledger.models import ActivityKind, Contact, Customer
from dunwell.ledger.services import activity

SALT = "dunwell.portal"
RENEW_EVERY = timedelta(hours=1)


class PortalLinkError(DunwellError):
    """A token that opens nothing; `link` is set when it was ours (expired or revoked)."""

    def __init__(self, reason: str, message: str, link: PortalLink | None = None) -> None:
        super().__init__(ErrorCode.NOT_FOUND, message)
        self.reason = reason
        self.link = link


@dataclass(frozen=True)
class Renewal:
    link: PortalLink
    email: str


def token(link: PortalLink) -> str:
    return signing.Signer(salt=SALT).sign(f"{link.pk}.{link.nonce}")


def address(link: PortalLink) -> str:
    """The link as printed in a message: absolute, on the configured SITE_URL."""
    return settings.SITE_URL.rstrip("/") + reverse("portal:home", args=[token(link)])


def issue(
    *,
    company: Company,
    customer: Customer,
    contact: Contact | None,
    at: datetime,
    source: str = "",
    days: int | None = None,
) -> PortalLink:
    """The link for `source` ("message 17": the one made before, if any), else a new one valid
    for `days` (settings.PORTAL_LINK_DAYS)."""
    if source:
        found = PortalLink.objects.filter(source=source).first()
        if found is not None:
            return found
    if customer.company_id != company.pk or (contact and contact.customer_id != customer.pk):
        raise DunwellError(ErrorCode.NOT_FOUND, "no such customer or contact in this company")
    lifetime = timedelta(days=settings.PORTAL_LINK_DAYS if days is None else days)
    return PortalLink.objects.create(
        company=company, customer=customer, contact=contact, nonce=secrets.token_urlsafe(16),
        source=source[:60], created_at=at, expires_at=at + lifetime,
    )  # fmt: skip


def resolve(text: str, *, at: datetime) -> PortalLink:
    """The live link of a token, its use counted; PortalLinkError otherwise."""
    try:
        value = signing.Signer(salt=SALT).unsign(text)
    except signing.BadSignature:
        raise PortalLinkError("invalid", "this portal link is not valid") from None
    pk, _, nonce = value.partition(".")
    link = (
        PortalLink.objects.select_related("company", "customer", "contact")
        .filter(pk=int(pk) if pk.isdigit() else 0, nonce=nonce)
        .first()
    )
    if link is None:
        raise PortalLinkError("invalid", "this portal link is not valid")
    if link.revoked_at is not None:
        raise PortalLinkError("revoked", "this portal link was withdrawn", link)
    if link.expires_at <= at:
        raise PortalLinkError("expired", "this portal link has expired", link)
    PortalLink.objects.filter(pk=link.pk).update(last_used_at=at, uses=F("uses") + 1)
    return link


@transaction.atomic
def renew(link: PortalLink, *, on: date, at: datetime) -> Renewal | None:
    """A fresh link in place of an expired one, for its contact's address on record; None when
    there is no address, the link was revoked, or a fresh one went out within the hour."""
    locked = (
        PortalLink.objects.select_for_update(of=("self",))
        .select_related("contact", "company", "customer")
        .get(pk=link.pk)
    )
    contact = locked.contact
    if locked.revoked_at is not None or contact is None or not contact.email:
        return None
    if locked.renewed_at is not None and at - locked.renewed_at < RENEW_EVERY:
        return None
    PortalLink.objects.filter(pk=locked.pk).update(renewed_at=at)
    fresh = issue(company=locked.company, customer=locked.customer, contact=contact, at=at,
                  source=f"renewal of {locked.pk} at {at:%Y-%m-%d %H:%M:%S}")  # fmt: skip
    activity.record(
        company=locked.company, kind=ActivityKind.PORTAL_LINK_RENEWED, on=on, at=at,
        actor=None, customer=locked.customer,
        summary=f"a fresh portal link sent to {contact.email} (link {locked.pk} had expired)",
    )  # fmt: skip
    return Renewal(fresh, contact.email)


@transaction.atomic
def revoke_customer(
    *, customer: Customer, reason: str, actor: User | None, on: date, at: datetime
) -> int:
    """Take back every live link of the account; how many there were."""
    live = PortalLink.objects.filter(customer=customer, revoked_at__isnull=True, expires_at__gt=at)
    count = live.update(revoked_at=at, revoked_reason=reason[:200])
    if count:
        activity.record(
            company=customer.company, kind=ActivityKind.PORTAL_LINK_REVOKED, on=on, at=at,
            actor=actor, customer=customer,
            summary=f"{count} portal link(s) withdrawn: {reason}",
        )  # fmt: skip
    return count
