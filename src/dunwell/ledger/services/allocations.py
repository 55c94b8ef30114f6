"""Allocations: a payment, a credit note, a write-off, a void or a discount settling open items.

Each use-case is one transaction: lock the rows (in primary-key order), check, write the
allocation rows, refresh the stored balances, and append the history entry. Nothing here edits or
deletes an allocation: undoing one is a reversal row with the opposite amount.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum

from dunwell.core.bulk import insert_keyed
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.core.money import Money, round_half_up_integer
from dunwell.ledger.lock_objects import lock
from dunwell.ledger.models import (
    ActivityKind,
    Allocation,
    AllocationKind,
    Instalment,
    ItemKind,
    OpenItem,
    Payment,
    WriteOff,
)
from dunwell.ledger.rules.allocation_order import (
    APPLICATION_ORDER,
    OpenPart,
    plan_oldest_first,
    split_over_instalments,
)
from dunwell.ledger.services import activity
from dunwell.ledger.services.balances import refresh_items, refresh_payments
from dunwell.ledger.services.fx import rate_on
from dunwell.terms.rules.due_dates import DiscountOffer, discount_earned


def _money(minor: int, currency: str) -> Money:
    return Money.from_minor(minor, currency)


def _check_open(item: OpenItem, amount_minor: int, open_minor: int | None = None) -> None:
    """`open_minor`: what is open on the item now, when a batch changed it (else the stored)."""
    open_minor = item.open_minor if open_minor is None else open_minor
    if amount_minor <= 0:
        raise DunwellError(
            ErrorCode.INVALID, "an allocation must be more than zero", field="amount"
        )
    if item.voided_on is not None:
        raise DunwellError(ErrorCode.ALREADY_VOID, f"{item} was voided on {item.voided_on}")
    if amount_minor > open_minor:
        raise DunwellError(
            ErrorCode.OVER_ALLOCATION,
            f"cannot allocate {_money(amount_minor, item.currency)} to {item}: only "
            f"{_money(max(open_minor, 0), item.currency)} is open",
            field="amount",
        )


def _parts(item: OpenItem, amount_minor: int) -> list[tuple[date, int]]:
    """Which due dates an amount settles: the item's own, or its instalments earliest first."""
    return Running({item.pk: item}).parts(item, amount_minor)


class Running:
    """A batch's items as its earlier requests left them: what is open on each, and, for items
    in instalments, on each due date. Each request of `allocate_payments` and `write_offs` is
    checked and split against these, so that two requests for one item in one batch see each
    other (at most three queries for the whole batch, none per request)."""

    def __init__(self, items: Mapping[int, OpenItem]) -> None:
        self.open = {pk: item.open_minor for pk, item in items.items()}
        self.due: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
        split = [pk for pk, item in items.items() if item.has_instalments]
        if split:
            for item_id, due_on, amount in Instalment.objects.filter(item_id__in=split).values_list(
                "item_id", "due_on", "amount_minor"
            ):
                self.due[item_id][due_on] += amount
            for item_id, due_on, amount in Allocation.objects.filter(
                target_id__in=split
            ).values_list("target_id", "target_due_on", "amount_minor"):
                self.due[item_id][due_on] -= amount
        offered = [pk for pk, item in items.items() if item.discount_until and item.discount_minor]
        self.granted: dict[int, int] = defaultdict(int)
        if offered:
            for item_id, total in (
                Allocation.objects.filter(target_id__in=offered, kind=AllocationKind.DISCOUNT)
                .values("target_id")
                .annotate(total=Sum("amount_minor"))
                .values_list("target_id", "total")
            ):
                self.granted[item_id] = total or 0

    def check(self, item: OpenItem, amount_minor: int) -> None:
        _check_open(item, amount_minor, self.open[item.pk])

    def parts(self, item: OpenItem, amount_minor: int) -> list[tuple[date, int]]:
        if not item.has_instalments:
            return [(item.due_on, amount_minor)]
        return split_over_instalments(amount_minor, sorted(self.due[item.pk].items()))

    def take(self, item: OpenItem, amount_minor: int) -> list[tuple[date, int]]:
        """The parts of `amount_minor` on `item`, from now on counted as settled."""
        parts = self.parts(item, amount_minor)
        self.open[item.pk] -= amount_minor
        if item.has_instalments:
            for due_on, part in parts:
                self.due[item.pk][due_on] -= part
        return parts

    def discount_earned(self, item: OpenItem, paid_on: date) -> int:
        """The early-payment discount earned by a payment on `paid_on` that left open what is
        open now (counted as granted from now on)."""
        if item.discount_until is None or not item.discount_minor:
            return 0
        offer = DiscountOffer(item.discount_until, item.discount_minor)
        earned = discount_earned(offer, paid_on=paid_on, open_after_minor=self.open[item.pk],
                                 granted_minor=self.granted[item.pk])  # fmt: skip
        self.granted[item.pk] += earned
        return earned


def _rows(
    item: OpenItem,
    amount_minor: int,
    *,
    kind: AllocationKind,
    on: date,
    at: datetime,
    actor: User | None,
    parts: list[tuple[date, int]] | None = None,
    **links: object,
) -> list[Allocation]:
    """The rows that settle `amount_minor` of `item`, one per due date of `parts` (default: as
    `_parts` splits it)."""
    return [
        Allocation(
            company_id=item.company_id,
            customer_id=item.customer_id,
            currency=item.currency,
            target=item,
            kind=kind,
            amount_minor=part_amount,
            effective_on=on,
            recorded_at=at,
            recorded_by=activity.stored_actor(actor),
            target_due_on=due_on,
            **links,
        )
        for due_on, part_amount in (_parts(item, amount_minor) if parts is None else parts)
    ]


@dataclass(frozen=True)
class Share:
    """One allocation of a batch: `amount_minor` (in the item's currency) of a payment to an
    item, effective `on` (default: the later of the payment's value date and the item's issue
    date), with a `note` stored on the row."""

    payment_id: int
    item_id: int
    amount_minor: int
    on: date | None = None
    note: str = ""


@transaction.atomic
def allocate_payment(
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
    """Apply `amount_minor` (in the item's currency) of a payment to an item: `allocate_payments`
    with one share."""
    share = Share(payment.pk, item.pk, amount_minor, on, note)
    return allocate_payments(company=company, shares=[share], actor=actor, at=at)


@transaction.atomic
def allocate_payments(
    *, company: Company, shares: Sequence[Share], actor: User | None, at: datetime
) -> list[Allocation]:
    """Apply payments to items share by share, in order, set-based: the items and payments
    locked once, one insert of the allocation rows, one refresh of the balances, one insert of
    the history entries. A share refused refuses the batch (its transaction).

    A payment that came within the item's early-payment discount period and leaves no more
    open than the discount settles the item: the rest is booked as the discount (DISCOUNT,
    linked to the payment, so a returned payment takes it back too).

    A payment in another currency converts through the dated rate of the effective day; the
    rate and its date are stored on the allocation and named in the history.
    """
    if not shares:
        return []
    items = lock(OpenItem, [s.item_id for s in shares])
    payments = lock(Payment, [s.payment_id for s in shares])
    _check_found(company, items, {s.item_id for s in shares})
    _check_found(company, payments, {s.payment_id for s in shares})
    running = Running(items)
    unapplied = {pk: p.unapplied_minor for pk, p in payments.items()}
    rates: dict[tuple[str, str, date], tuple[Decimal, date]] = {}
    rows: list[Allocation] = []
    entries = []
    for share in shares:
        item, payment = items[share.item_id], payments[share.payment_id]
        if payment.voided_on is not None:
            raise DunwellError(ErrorCode.ALREADY_VOID,
                               f"{payment} was voided on {payment.voided_on}")  # fmt: skip
        effective_on = share.on or max(payment.value_on, item.issued_on)
        running.check(item, share.amount_minor)
        pair = (payment.currency, item.currency, effective_on)
        if pair not in rates:
            rates[pair] = rate_on(*pair)
        rate, rate_on_day = rates[pair]
        payment_amount = (
            share.amount_minor
            if payment.currency == item.currency
            else round_half_up_integer(Decimal(share.amount_minor) / rate)
        )
        if payment_amount > unapplied[payment.pk]:
            raise DunwellError(
                ErrorCode.OVER_ALLOCATION,
                f"{payment} has only {_money(unapplied[payment.pk], payment.currency)} "
                f"unapplied, not {_money(payment_amount, payment.currency)}",
                field="amount",
            )
        unapplied[payment.pk] -= payment_amount
        fx = {} if payment.currency == item.currency else {"fx_rate": rate, "fx_on": rate_on_day}
        made = _rows(item, share.amount_minor, kind=AllocationKind.PAYMENT, on=effective_on,
                     at=at, actor=actor, parts=running.take(item, share.amount_minor),
                     payment=payment, note=share.note, **fx)  # fmt: skip
        # The payment-currency amount is split over instalment rows in proportion.
        remaining = payment_amount
        for index, row in enumerate(made):
            part = (
                remaining
                if index == len(made) - 1
                else round_half_up_integer(
                    Decimal(payment_amount * row.amount_minor) / share.amount_minor
                )
            )
            row.payment_amount_minor = part
            remaining -= part
        conversion = (
            f" ({_money(payment_amount, payment.currency)} at {rate} on {rate_on_day})"
            if fx
            else ""
        )
        about: dict[str, Any] = {"company": company, "on": effective_on, "at": at, "actor": actor,
                 "customer_id": item.customer_id, "item": item, "payment": payment,
                 "currency": item.currency}  # fmt: skip
        entries.append(activity.entry(
            kind=ActivityKind.ALLOCATED, amount_minor=share.amount_minor,
            summary=f"{_money(share.amount_minor, item.currency)} of payment "
            f"{payment.external_id} allocated to {item}{conversion}", **about,
        ))  # fmt: skip
        discount = running.discount_earned(item, payment.value_on)
        if discount:
            made += _rows(item, discount, kind=AllocationKind.DISCOUNT, on=effective_on, at=at,
                          actor=actor, parts=running.take(item, discount), payment=payment,
                          note="early-payment discount")  # fmt: skip
            entries.append(activity.entry(
                kind=ActivityKind.DISCOUNT_GRANTED, amount_minor=discount,
                summary=f"early-payment discount of {_money(discount, item.currency)} on {item}: "
                f"paid on {payment.value_on}, within the discount period to "
                f"{item.discount_until}", **about,
            ))  # fmt: skip
        rows += made
    # with their keys (callers reverse what they return); the payments are locked: their
    # allocations with keys above the last one before are these
    insert_keyed(rows, Allocation.objects.filter(payment_id__in=list(payments)))
    refresh_items(list(items))
    refresh_payments(list(payments))
    activity.record_many(entries)
    return rows


def _check_found(company: Company, rows: Mapping[int, OpenItem | Payment], ids: set[int]) -> None:
    if len(rows) != len(ids) or any(row.company_id != company.pk for row in rows.values()):
        raise DunwellError(ErrorCode.NOT_FOUND, "no such item or payment in this company")


@transaction.atomic
def allocate_oldest_first(
    *, company: Company, payment: Payment, actor: User | None, at: datetime
) -> list[Allocation]:
    """Spread a payment's unapplied amount over the customer's open items, oldest due first,
    each debt's costs and interest before its principal where the company's law says so."""
    payment = lock(Payment, [payment.pk])[payment.pk]
    candidates = OpenItem.objects.filter(
        company=company,
        customer_id=payment.customer_id,
        currency=payment.currency,
        open_minor__gt=0,
        voided_on__isnull=True,
        issued_on__lte=payment.value_on,
    ).exclude(kind=ItemKind.CREDIT_NOTE)
    parts = [
        OpenPart(pk, due, issued, open_minor, kind, related)
        for pk, due, issued, open_minor, kind, related in candidates.values_list(
            "pk", "due_on", "issued_on", "open_minor", "kind", "related_id"
        )
    ]
    order = APPLICATION_ORDER.get(company.governing_law, ())
    planned, _ = plan_oldest_first(payment.unapplied_minor, parts, order)
    items = OpenItem.objects.in_bulk([p.item_id for p in planned])
    rows: list[Allocation] = []
    for plan in planned:
        rows += allocate_payment(
            company=company,
            payment=payment,
            item=items[plan.item_id],
            amount_minor=plan.amount_minor,
            actor=actor,
            at=at,
            note="oldest first",
        )
        payment.refresh_from_db(fields=["unapplied_minor"])
    return rows


@transaction.atomic
def apply_credit_note(
    *,
    company: Company,
    credit_note: OpenItem,
    item: OpenItem,
    amount_minor: int | None = None,
    on: date | None = None,
    actor: User | None,
    at: datetime,
) -> list[Allocation]:
    """Net a credit note against an invoice: one row on each, so each keeps its own balance."""
    locked = lock(OpenItem, [credit_note.pk, item.pk])
    credit_note, item = locked[credit_note.pk], locked[item.pk]
    if credit_note.kind != ItemKind.CREDIT_NOTE:
        raise DunwellError(ErrorCode.INVALID, f"{credit_note} is not a credit note")
    if credit_note.currency != item.currency:
        raise DunwellError(
            ErrorCode.CURRENCY_MISMATCH,
            f"{credit_note} is in {credit_note.currency} and {item} in {item.currency}",
        )
    amount = (
        amount_minor if amount_minor is not None else min(-credit_note.open_minor, item.open_minor)
    )
    if amount > -credit_note.open_minor:
        raise DunwellError(
            ErrorCode.OVER_ALLOCATION,
            f"{credit_note} has only {_money(-credit_note.open_minor, item.currency)} left",
            field="amount",
        )
    _check_open(item, amount)
    effective_on = on or max(credit_note.issued_on, item.issued_on)
    rows = _rows(
        item,
        amount,
        kind=AllocationKind.CREDIT,
        on=effective_on,
        at=at,
        actor=actor,
        counter_item=credit_note,
    )
    rows += _rows(
        credit_note,
        -amount,
        kind=AllocationKind.CREDIT,
        on=effective_on,
        at=at,
        actor=actor,
        counter_item=item,
    )
    Allocation.objects.bulk_create(rows)
    refresh_items([item.pk, credit_note.pk])
    activity.record_on_item(
        item,
        ActivityKind.CREDIT_APPLIED,
        on=effective_on,
        at=at,
        actor=actor,
        amount_minor=amount,
        summary=f"{credit_note} applied to {item}: {_money(amount, item.currency)}",
    )
    return rows


@dataclass(frozen=True)
class WriteOffRequest:
    """One write-off of a batch: `amount_minor` of an item (None: all that is open) on `on`.
    `payment_id`: the payment that made it acceptable (bank charges kept back from a transfer):
    its rows are linked to that payment, without taking any of its cash, so voiding the payment
    (a bank return) takes the write-off back too, as it does an early-payment discount."""

    item_id: int
    on: date
    reason: str
    amount_minor: int | None = None
    payment_id: int | None = None


@transaction.atomic
def write_off(
    *,
    company: Company,
    item: OpenItem,
    on: date,
    reason: str,
    amount_minor: int | None = None,
    actor: User | None,
    at: datetime,
) -> WriteOff:
    request = WriteOffRequest(item.pk, on, reason, amount_minor)
    return write_offs(company=company, requests=[request], actor=actor, at=at)[0]


@transaction.atomic
def write_offs(
    *, company: Company, requests: Sequence[WriteOffRequest], actor: User | None, at: datetime
) -> list[WriteOff]:
    """Write off (parts of) items, set-based: one lock, one insert of the records, one of their
    allocation rows, one refresh, one of the history entries. A request refused refuses all."""
    if not requests:
        return []
    items = lock(OpenItem, [r.item_id for r in requests])
    _check_found(company, items, {r.item_id for r in requests})
    running = Running(items)
    records: list[tuple[WriteOff, list[tuple[date, int]], int | None]] = []
    entries = []
    for request in requests:
        item = items[request.item_id]
        amount = running.open[item.pk] if request.amount_minor is None else request.amount_minor
        running.check(item, amount)
        if not request.reason.strip():
            raise DunwellError(ErrorCode.INVALID, "a write-off needs a reason", field="reason")
        record = WriteOff(company=company, item=item, amount_minor=amount, on=request.on,
                          reason=request.reason, created_by=activity.stored_actor(actor))  # fmt: skip
        records.append((record, running.take(item, amount), request.payment_id))
        entries.append(activity.entry(
            company=company, kind=ActivityKind.WRITTEN_OFF, on=request.on, at=at, actor=actor,
            customer_id=item.customer_id, item=item, amount_minor=amount,
            currency=item.currency,
            summary=f"{_money(amount, item.currency)} of {item} written off: {request.reason}",
        ))  # fmt: skip
    WriteOff.objects.bulk_create([record for record, _, _ in records])
    rows = [
        row
        for record, parts, payment_id in records
        for row in _rows(items[record.item_id], record.amount_minor, kind=AllocationKind.WRITE_OFF,
                         on=record.on, at=at, actor=actor, parts=parts, write_off=record,
                         note=record.reason[:200], payment_id=payment_id)
    ]  # fmt: skip
    Allocation.objects.bulk_create(rows)
    refresh_items(list(items))
    activity.record_many(entries)
    return [record for record, _, _ in records]


@transaction.atomic
def void_item(
    *,
    company: Company,
    item: OpenItem,
    on: date,
    reason: str,
    actor: User | None,
    at: datetime,
) -> OpenItem:
    """Cancel a document from a date on: it stays in reports of earlier dates, as it was."""
    item = lock(OpenItem, [item.pk])[item.pk]
    if item.voided_on is not None:
        raise DunwellError(ErrorCode.ALREADY_VOID, f"{item} was already voided on {item.voided_on}")
    live = Allocation.objects.filter(target=item).aggregate(s=Sum("amount_minor"))["s"] or 0
    if live != 0:
        raise DunwellError(
            ErrorCode.HAS_ALLOCATIONS,
            f"{item} has {_money(live, item.currency)} allocated: reverse the allocations first",
        )
    if on < item.issued_on:
        raise DunwellError(ErrorCode.INVALID, f"{item} cannot be voided before it was issued")
    Allocation.objects.bulk_create(
        _rows(
            item,
            item.amount_minor,
            kind=AllocationKind.VOID,
            on=on,
            at=at,
            actor=actor,
            note=reason[:200],
        )
        if item.amount_minor > 0
        else [
            Allocation(
                company_id=item.company_id,
                customer_id=item.customer_id,
                currency=item.currency,
                target=item,
                kind=AllocationKind.VOID,
                amount_minor=item.amount_minor,
                effective_on=on,
                recorded_at=at,
                target_due_on=item.due_on,
                note=reason[:200],
            )
        ]
    )
    OpenItem.objects.filter(pk=item.pk).update(voided_on=on)
    refresh_items([item.pk])
    activity.record_on_item(
        item,
        ActivityKind.DOCUMENT_VOIDED,
        on=on,
        at=at,
        actor=actor,
        amount_minor=item.amount_minor,
        summary=f"{item} voided: {reason}",
    )
    item.refresh_from_db()
    return item


def _reversal(
    original: Allocation, on: date, at: datetime, actor: User | None, reason: str
) -> Allocation:
    return Allocation(
        company_id=original.company_id,
        customer_id=original.customer_id,
        currency=original.currency,
        target_id=original.target_id,
        kind=original.kind,
        amount_minor=-original.amount_minor,
        payment_id=original.payment_id,
        payment_amount_minor=None
        if original.payment_amount_minor is None
        else -original.payment_amount_minor,
        fx_rate=original.fx_rate,
        fx_on=original.fx_on,
        counter_item_id=original.counter_item_id,
        write_off_id=original.write_off_id,
        reversal_of=original,
        effective_on=on,
        recorded_at=at,
        recorded_by=activity.stored_actor(actor),
        note=reason[:200],
        target_due_on=original.target_due_on,
    )


@transaction.atomic
def reverse_allocations(
    *,
    company: Company,
    allocations: list[Allocation],
    on: date,
    reason: str,
    actor: User | None,
    at: datetime,
) -> list[Allocation]:
    """Undo allocations from a date on (earlier reports still show them, as they were)."""
    originals = lock(Allocation, [a.pk for a in allocations])
    for original in originals.values():
        if original.company_id != company.pk:
            raise DunwellError(ErrorCode.NOT_FOUND, "no such allocation in this company")
        if (
            original.reversal_of_id is not None
            or Allocation.objects.filter(reversal_of=original).exists()
        ):
            raise DunwellError(
                ErrorCode.INVALID, f"allocation {original.pk} is already a reversal or reversed"
            )
        if on < original.effective_on:
            raise DunwellError(
                ErrorCode.INVALID, "a reversal cannot take effect before the allocation"
            )
    rows = [_reversal(a, on, at, actor, reason) for a in originals.values()]
    Allocation.objects.bulk_create(rows)
    refresh_items([a.target_id for a in originals.values()])
    refresh_payments([a.payment_id for a in originals.values() if a.payment_id])
    for original in originals.values():
        activity.record_on_item(
            original.target,
            ActivityKind.ALLOCATION_REVERSED,
            on=on,
            at=at,
            actor=actor,
            amount_minor=-original.amount_minor,
            summary=f"{_money(original.amount_minor, original.currency)} allocated to "
            f"{original.target} reversed: {reason}",
        )
    return rows


@transaction.atomic
def void_payment(
    *,
    company: Company,
    payment: Payment,
    on: date,
    reason: str,
    actor: User | None,
    at: datetime,
) -> Payment:
    """A returned or mistaken payment: its allocations are reversed and it no longer counts."""
    payment = lock(Payment, [payment.pk])[payment.pk]
    if payment.voided_on is not None:
        raise DunwellError(ErrorCode.ALREADY_VOID, f"{payment} was already voided")
    live = list(
        Allocation.objects.filter(
            payment=payment, reversal_of__isnull=True, reversed_by__isnull=True
        )
    )
    if live:
        reverse_allocations(
            company=company, allocations=live, on=on, reason=reason, actor=actor, at=at
        )
    Payment.objects.filter(pk=payment.pk).update(voided_on=on, void_reason=reason[:200])
    refresh_payments([payment.pk])
    activity.record(
        company=company,
        kind=ActivityKind.PAYMENT_VOIDED,
        on=on,
        at=at,
        actor=actor,
        customer=payment.customer,
        payment=payment,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        summary=f"{payment} voided: {reason}",
    )
    payment.refresh_from_db()
    return payment
