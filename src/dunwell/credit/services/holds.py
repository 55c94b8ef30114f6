"""Placing and releasing a credit hold: idempotent placing (a customer on hold stays on the one
hold it has); releasing by a person with a reason, once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib.auth.models import User

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.credit.models import CreditHold, CreditPolicy
from dunwell.ledger.models import ActivityKind, Customer
from dunwell.ledger.services import activity


def place_credit_hold(
    *,
    company: Company,
    customer: Customer,
    on: date,
    at: datetime,
    reason: str,
    source: str,
    actor: User | None = None,
) -> tuple[CreditHold, bool]:
    """The customer's open hold, placed now if it had none; True when it is new."""
    if not reason.strip():
        raise DunwellError(ErrorCode.INVALID, "a credit hold needs a reason", field="reason")
    current = CreditHold.objects.filter(customer=customer, released_on__isnull=True).first()
    if current is not None:
        return current, False
    hold = CreditHold.objects.create(
        company=company,
        customer=customer,
        placed_on=on,
        placed_at=at,
        reason=reason[:200],
        source=source[:40],
        placed_by=activity.stored_actor(actor),
    )
    activity.record(
        company=company,
        kind=ActivityKind.CREDIT_HOLD_PLACED,
        on=on,
        at=at,
        actor=actor,
        customer=customer,
        summary=f"credit hold placed: {reason}",
        data={"source": source},
    )
    return hold, True


POLICY_SOURCE = "credit policy"  # holds the policy places (and releases) by itself


def release_credit_hold(
    *, company: Company, customer: Customer, on: date, at: datetime, reason: str,
    actor: User | None, override_days: int | None = None,
) -> CreditHold:  # fmt: skip
    """End the customer's open hold, with why and who decided; refused without a reason or a
    hold (a second release of the same hold finds none). A person releasing a hold the policy
    placed overrides it: no automatic hold for `override_days` (the policy's, by default)."""
    if not reason.strip():
        raise DunwellError(ErrorCode.INVALID, "releasing a credit hold needs a reason",
                           field="reason")  # fmt: skip
    current = CreditHold.objects.filter(customer=customer, released_on__isnull=True).first()
    override = None
    if current is not None and actor is not None and current.source == POLICY_SOURCE:
        if override_days is None:
            policy = CreditPolicy.objects.filter(company=company).first() or CreditPolicy()
            override_days = policy.override_days
        override = on + timedelta(days=override_days)
    released = (
        CreditHold.objects.filter(pk=current.pk, released_on__isnull=True).update(
            released_on=on,
            release_reason=reason[:200],
            released_by=activity.stored_actor(actor),
            override_until=override,
        )
        if current is not None
        else 0
    )
    if not released or current is None:
        raise DunwellError(ErrorCode.NOT_FOUND, f"{customer.account_number} is not on credit hold")
    activity.record(
        company=company,
        kind=ActivityKind.CREDIT_HOLD_RELEASED,
        on=on,
        at=at,
        actor=actor,
        customer=customer,
        summary=f"credit hold released: {reason}",
        data={
            "hold": current.pk,
            "placed_on": current.placed_on.isoformat(),
            **({"override_until": override.isoformat()} if override else {}),
        },
    )
    current.refresh_from_db()
    return current
