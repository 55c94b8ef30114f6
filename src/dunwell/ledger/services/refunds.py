"""Refunds: paying a customer's unapplied cash (an overpayment, cash on account) back to them.

The ledger has no allocation without a target item, and every copy of "unapplied cash" (the
payment's `unapplied_minor`, `dunwell verify`, the aging's and the statement's cash on account)
is the payment's amount less its allocation rows. So a refund is booked the way an accountant
would: a REFUND item on the customer (a debit: the money went out to them) for the amount, settled
at once by REFUND allocations from the customer's payments with unapplied cash, oldest first.
The item is never open (it is settled on the day it is issued), the payments' unapplied cash
drops by the amount, and every stored balance stays the sum of its rows, as `verify` checks.
Promises and plans do not see it (their items are invoices; REFUND is not a paid kind).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.ledger.models import (
    ActivityKind,
    Allocation,
    AllocationKind,
    Customer,
    ItemKind,
    OpenItem,
    Payment,
)
from dunwell.ledger.services import activity
from dunwell.ledger.services.balances import refresh_items, refresh_payments


@dataclass(frozen=True)
class Refund:
    item: OpenItem
    taken: tuple[tuple[Payment, int], ...]  # (payment, amount taken from its unapplied cash)


def unapplied_cash(company: Company, customer: Customer, currency: str, on: date) -> int:
    """The customer's unapplied cash in `currency` from payments received by `on`."""
    return sum(
        Payment.objects.filter(company=company, customer=customer, currency=currency,
                               voided_on__isnull=True, value_on__lte=on, unapplied_minor__gt=0)
        .values_list("unapplied_minor", flat=True)
    )  # fmt: skip


@transaction.atomic
def refund_unapplied(
    *,
    company: Company,
    customer: Customer,
    amount_minor: int,
    currency: str,
    on: date,
    number: str,
    reason: str,
    actor: User | None,
    at: datetime,
) -> Refund:
    """Pay `amount_minor` back to `customer` out of their unapplied cash, oldest payment first.

    Refused (nothing written) when it is not more than zero, when `number` is already a refund,
    or when the customer has less unapplied cash in `currency` on `on` than the amount.
    """
    if amount_minor <= 0:
        raise DunwellError(ErrorCode.INVALID, "a refund must be more than zero", field="amount")
    if customer.company_id != company.pk:
        raise DunwellError(ErrorCode.UNKNOWN_CUSTOMER, "no such customer", field="customer")
    if OpenItem.objects.filter(company=company, kind=ItemKind.REFUND, number=number).exists():
        raise DunwellError(ErrorCode.DUPLICATE, f"refund {number} is already recorded", field="id")
    payments = list(
        Payment.objects.select_for_update()
        .filter(company=company, customer=customer, currency=currency, voided_on__isnull=True,
                value_on__lte=on, unapplied_minor__gt=0)
        .order_by("value_on", "pk")
    )  # fmt: skip
    available = sum(p.unapplied_minor for p in payments)
    if amount_minor > available:
        raise DunwellError(
            ErrorCode.OVER_ALLOCATION,
            f"cannot refund {Money.from_minor(amount_minor, currency)} to {customer}: only "
            f"{Money.from_minor(available, currency)} of their payments is unapplied on {on}",
            field="amount",
        )
    item = OpenItem.objects.create(
        company=company, customer=customer, kind=ItemKind.REFUND, number=number[:60],
        issued_on=on, due_on=on, currency=currency, amount_minor=amount_minor,
        open_minor=amount_minor, description=reason[:200], source=reason[:200],
        created_by=activity.stored_actor(actor),
    )  # fmt: skip
    taken: list[tuple[Payment, int]] = []
    left = amount_minor
    for payment in payments:
        share = min(left, payment.unapplied_minor)
        if share <= 0:
            break
        taken.append((payment, share))
        left -= share
    Allocation.objects.bulk_create(
        Allocation(company=company, customer=customer, currency=currency, target=item,
                   kind=AllocationKind.REFUND, amount_minor=share, payment=payment,
                   payment_amount_minor=share, effective_on=on, recorded_at=at,
                   recorded_by=activity.stored_actor(actor), note=reason[:200],
                   target_due_on=on)
        for payment, share in taken
    )  # fmt: skip
    refresh_items([item.pk])
    refresh_payments([p.pk for p, _ in taken])
    sources = ", ".join(
        f"{Money.from_minor(share, currency)} of payment {p.external_id}" for p, share in taken
    )
    activity.record(
        company=company, kind=ActivityKind.REFUND_PAID, on=on, at=at, actor=actor,
        customer=customer, item=item, amount_minor=amount_minor, currency=currency,
        summary=f"Refund of {Money.from_minor(amount_minor, currency)} paid to the customer "
        f"from unapplied cash ({sources}): {reason}",
    )  # fmt: skip
    item.refresh_from_db()
    return Refund(item, tuple(taken))
