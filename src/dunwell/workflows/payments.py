"""Applying payments: the allocations, and in the same transaction what they do to the customers'
promises to pay and plan instalments (`cases.services.tracking`), each with its history entry."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cases.services import tracking
from dunwell.core.models import Company
from dunwell.ledger.models import Allocation, OpenItem, Payment
from dunwell.ledger.services.allocations import Share, allocate_payments


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
    share = Share(payment.pk, item.pk, amount_minor, on, note)
    return apply_payments(company=company, shares=[share], actor=actor, at=at)


@transaction.atomic
def apply_payments(
    *, company: Company, shares: Sequence[Share], actor: User | None, at: datetime
) -> list[Allocation]:
    """Allocate the shares (`ledger.services.allocations.allocate_payments`, set-based) and track
    the customers' promises and instalments, one value date of the payments after another, so
    that a promise is kept on the day the money that completed it came, as when each payment is
    applied on its own day."""
    value_on = dict(
        Payment.objects.filter(pk__in={s.payment_id for s in shares}).values_list("pk", "value_on")
    )
    by_day: dict[date, list[Share]] = defaultdict(list)
    for share in shares:
        by_day[share.on or value_on.get(share.payment_id, date.min)].append(share)
    rows: list[Allocation] = []
    for _, group in sorted(by_day.items()):
        made = allocate_payments(company=company, shares=group, actor=actor, at=at)
        effective: dict[date, set[int]] = defaultdict(set)
        for row in made:
            effective[row.effective_on].add(row.customer_id)
        for on, customers in sorted(effective.items()):
            tracking.after_payments(company=company, customer_ids=customers, on=on, at=at,
                                    actor=actor)  # fmt: skip
        rows += made
    return rows
