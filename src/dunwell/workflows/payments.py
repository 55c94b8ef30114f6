"""Applying payments: the allocations, and in the same transaction what they do to the customers'
promises to pay and plan instalments (`cases.services.tracking`), each with its history entry.
`receive_and_apply` records a payment another system reports and applies it in one go."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cases.services import tracking
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.core.money import round_half_up_integer
from dunwell.ledger.models import Allocation, ItemKind, OpenItem, Payment
from dunwell.ledger.services.allocations import Share, allocate_oldest_first, allocate_payments
from dunwell.ledger.services.fx import rate_on
from dunwell.ledger.services.payments import PaymentInput, receive_payment


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


@transaction.atomic
def receive_and_apply(
    *,
    company: Company,
    spec: PaymentInput,
    items: Sequence[tuple[OpenItem, int | None]] = (),
    oldest_first: bool = False,
    actor: User | None,
    at: datetime,
    note: str = "",
) -> tuple[Payment, list[Allocation]]:
    """Record a received payment (`receive_payment`) and apply it, in one transaction.

    `items` are applied in the order given, each (item, amount in the item's currency; None: what
    is open on it, as far as the payment reaches). Without items and with `oldest_first` it is
    spread over the customer's open items oldest due first (`allocate_oldest_first`); else it
    stays unapplied on the account. The promises and instalments the money keeps follow it.
    """
    payment = receive_payment(company=company, spec=spec, actor=actor, at=at, note=note)
    rows: list[Allocation] = []
    if items:
        shares = _shares(payment, items)
        rows = apply_payments(company=company, shares=shares, actor=actor, at=at)
    elif oldest_first:
        rows = allocate_oldest_first(company=company, payment=payment, actor=actor, at=at)
        tracking.after_payments(company=company, customer_ids={r.customer_id for r in rows},
                                on=payment.value_on, at=at, actor=actor)  # fmt: skip
    payment.refresh_from_db(fields=["unapplied_minor", "settled_on"])
    return payment, rows


def _shares(payment: Payment, items: Sequence[tuple[OpenItem, int | None]]) -> list[Share]:
    """The allocations of `receive_and_apply`'s named items: an amount left open takes what is
    open on the item, at most what the payment still has (converted through the dated rate when
    the item is in another currency); an item the payment no longer reaches is refused (the
    ledger refuses an amount that is more than is open or than the payment has)."""
    if len({item.pk for item, _ in items}) != len(items):
        raise DunwellError(ErrorCode.INVALID, "an invoice is named twice", field="invoices")
    left = payment.unapplied_minor
    shares = []
    for item, wanted in items:
        if item.kind == ItemKind.CREDIT_NOTE:
            raise DunwellError(ErrorCode.INVALID, f"{item.number} is a credit note: a payment "
                               "settles what is owed", field="invoices")  # fmt: skip
        on = max(payment.value_on, item.issued_on)
        rate = Decimal(1) if item.currency == payment.currency else rate_on(
            payment.currency, item.currency, on)[0]  # fmt: skip
        # rounded down: what the payment still has must cover the converted amount
        amount = wanted if wanted is not None else min(item.open_minor, int(Decimal(left) * rate))
        if amount <= 0:
            raise DunwellError(ErrorCode.INVALID, f"{item.number}: nothing of the payment is "
                               "left for it, or nothing is open on it", field="invoices")  # fmt: skip
        left -= round_half_up_integer(Decimal(amount) / rate)
        shares.append(Share(payment.pk, item.pk, amount, note="named with the payment"))
    return shares
