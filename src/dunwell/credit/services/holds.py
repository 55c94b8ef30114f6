"""Placing a credit hold (idempotent: a customer on hold stays on the one hold it has)."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth.models import User

from dunwell.core.models import Company
from dunwell.credit.models import CreditHold
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
