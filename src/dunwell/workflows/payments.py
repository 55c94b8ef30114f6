"""Applying a payment: the allocation, and in the same transaction what it does to the customer's
promises to pay and plan instalments (`cases.services.tracking`), each with its history entry."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cases.services import tracking
from dunwell.core.models import Company
from dunwell.ledger.models import Allocation, OpenItem, Payment
from dunwell.ledger.services.allocations import allocate_payment


@transaction.atomic
def apply_payment(
    *,
    company: Company,
    payment: Payment,
    item: OpenItem,
    amount_minor: int,
    on: date | None = None,
    actor: User | None,
    at: datetime,
    note: str = "",
) -> list[Allocation]:
    """Allocate `amount_minor` of `payment` to `item` (ledger rules), then follow the money."""
    rows = allocate_payment(company=company, payment=payment, item=item, amount_minor=amount_minor,
                            on=on, actor=actor, at=at, note=note)  # fmt: skip
    effective = rows[0].effective_on if rows else (on or payment.value_on)
    tracking.after_payments(company=company, customer_ids=[item.customer_id], on=effective, at=at,
                            actor=actor)  # fmt: skip
    return rows
