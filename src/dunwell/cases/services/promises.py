"""Promises to pay: made and cancelled by a person; kept, partly kept or broken by the money.

What counts towards a promise is what was allocated (payments and early-payment discounts, net
of their reversals) with effect from the day it was made through its promised date plus grace, to
the promised items, or to any of the customer's items in the promise's currency when none are
named. A payment that completes it keeps it at once (`track_payments`, called in the payment's
transaction); the day after the grace has run out, `decide_due` decides the rest: kept, partly
kept or broken. A broken or partly kept promise asks the dunning run to act (`Escalation`) and
alerts the customer's owner (`Task`, kind alert). Every change has its history entry, on the
customer and on each promised item; automatic ones are keyed, so re-running a day adds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum

from dunwell.cases.models import (
    Escalation,
    EscalationSource,
    PromiseChannel,
    PromisedItem,
    PromiseState,
    PromiseToPay,
    Task,
    TaskKind,
)
from dunwell.cases.services.disputes import DISPUTABLE
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.ledger.lock_objects import lock
from dunwell.ledger.models import (
    Activity,
    ActivityKind,
    Allocation,
    AllocationKind,
    Customer,
    OpenItem,
)
from dunwell.ledger.services import activity

PROMISABLE = DISPUTABLE  # invoices, fees and interest: what dunning demands
DEFAULT_GRACE_DAYS = 3
MAX_GRACE_DAYS = 60
COUNTED = (AllocationKind.PAYMENT, AllocationKind.DISCOUNT)  # reversals keep the kind, negated


@transaction.atomic
def make_promise(
    *,
    company: Company,
    customer: Customer,
    amount_minor: int,
    currency: str,
    promised_on: date,
    promised_by: str,
    channel: str,
    items: Sequence[OpenItem] = (),
    grace_days: int | None = None,
    note: str = "",
    actor: User | None,
    on: date,
    at: datetime,
) -> PromiseToPay:
    """`customer` promises `amount_minor` in `currency` by `promised_on` (for `items`, or for
    the account in that currency when none are named)."""
    if customer.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"{customer} is not a customer of {company.code}",
                           field="customer")  # fmt: skip
    _check(amount_minor, promised_on, promised_by, channel, grace_days, on)
    open_items = OpenItem.objects.filter(
        company=company, customer=customer, kind__in=PROMISABLE, open_minor__gt=0,
        voided_on__isnull=True,
    )  # fmt: skip
    if not open_items.filter(currency=currency).exists():
        held = sorted(set(open_items.values_list("currency", flat=True)))
        raise DunwellError(ErrorCode.INVALID, f"currency {currency!r}: {customer.account_number} "
                           f"has nothing open in it (open: {', '.join(held) or 'nothing'})",
                           field="currency")  # fmt: skip
    locked = lock(OpenItem, [item.pk for item in items])
    promised = [locked[item.pk] for item in items if item.pk in locked]
    for item in promised:
        if item.company_id != company.pk or item.customer_id != customer.pk:
            raise DunwellError(ErrorCode.NOT_FOUND, f"items: {item} is not "
                               f"{customer.account_number}'s", field="items")  # fmt: skip
        if item.kind not in PROMISABLE or item.open_minor <= 0 or item.voided_on:
            raise DunwellError(ErrorCode.INVALID, f"items: {item} has nothing open",
                               field="items")  # fmt: skip
        if item.currency != currency:
            raise DunwellError(ErrorCode.CURRENCY_MISMATCH, f"items: {item} is in "
                               f"{item.currency}, the promise in {currency}", field="items")  # fmt: skip
    promise = PromiseToPay.objects.create(
        company=company, customer=customer, currency=currency, amount_minor=amount_minor,
        promised_on=promised_on,
        grace_days=DEFAULT_GRACE_DAYS if grace_days is None else grace_days,
        promised_by=promised_by.strip(), channel=channel, note=note, state=PromiseState.OPEN,
        made_on=on, created_at=at, created_by=activity.stored_actor(actor),
    )  # fmt: skip
    PromisedItem.objects.bulk_create(PromisedItem(promise=promise, item=item) for item in promised)
    what = ", ".join(sorted(item.number for item in promised)) or f"the {currency} account"
    summary = (
        f"promise to pay {_money(amount_minor, currency)} by {promised_on.isoformat()} "
        f"({promise.promised_by}, {english(promise.get_channel_display).lower()}): {what}"
        + (f": {note}" if note else "")
    )
    _record(promise, ActivityKind.PROMISE_MADE, summary, on=on, at=at, actor=actor)
    return promise


def _check(amount_minor: int, promised_on: date, promised_by: str, channel: str,
           grace_days: int | None, on: date) -> None:  # fmt: skip
    if amount_minor <= 0:
        raise DunwellError(ErrorCode.INVALID, "amount: a promise is for more than zero",
                           field="amount")  # fmt: skip
    if promised_on < on:
        raise DunwellError(ErrorCode.INVALID, f"promised_on {promised_on.isoformat()} is before "
                           f"today ({on.isoformat()})", field="promised_on")  # fmt: skip
    if not promised_by.strip():
        raise DunwellError(ErrorCode.INVALID, "promised_by: who promised, at the customer",
                           field="promised_by")  # fmt: skip
    if channel not in PromiseChannel.values:
        raise DunwellError(ErrorCode.INVALID, f"channel {channel!r}: expected one of "
                           f"{', '.join(PromiseChannel.values)}", field="channel")  # fmt: skip
    if grace_days is not None and not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise DunwellError(ErrorCode.INVALID, f"grace_days {grace_days}: 0 to {MAX_GRACE_DAYS} days",
                           field="grace_days")  # fmt: skip


@transaction.atomic
def cancel_promise(
    *, promise: PromiseToPay, reason: str, actor: User | None, on: date, at: datetime
) -> PromiseToPay:
    """Withdraw an open promise (made in error, superseded by a plan): dunning resumes."""
    if not reason.strip():
        raise DunwellError(ErrorCode.INVALID, "reason: a cancellation needs a reason",
                           field="reason")  # fmt: skip
    moved = PromiseToPay.objects.filter(pk=promise.pk, state=PromiseState.OPEN).update(
        state=PromiseState.CANCELLED, decided_on=on
    )
    promise.refresh_from_db()
    if not moved:
        raise DunwellError(
            ErrorCode.CONFLICT, f"{promise} is {english(promise.get_state_display).lower()}"
        )
    _record(promise, ActivityKind.PROMISE_CANCELLED, f"promise {promise.pk} cancelled: {reason}",
            on=on, at=at, actor=actor)  # fmt: skip
    return promise


def track_payments(
    *, company: Company, customer_ids: Sequence[int], on: date, at: datetime, actor: User | None
) -> None:
    """Allocations to these customers' items were written in this transaction: recompute what
    their open promises have received; those now paid in full are kept.

    Only the promise rows are locked (`of`): locking the joined customer row as well deadlocks
    with a concurrent payment whose allocation rows already hold a key-share lock on it."""
    promises = list(
        PromiseToPay.objects.select_for_update(of=("self",))
        .filter(company=company, customer_id__in=customer_ids, state=PromiseState.OPEN)
        .select_related("customer")
        .order_by("pk")
    )
    if not promises:
        return
    _recount(company, promises)
    for promise in promises:
        if promise.paid_minor >= promise.amount_minor:
            _decide(promise, PromiseState.KEPT, on=on, at=at, actor=actor)


def decide_due(*, company: Company, on: date, at: datetime) -> None:
    """The business date `on` has come: open promises whose promised date plus grace is past
    are kept, partly kept or broken."""
    with transaction.atomic():
        candidates = (
            PromiseToPay.objects.select_for_update(of=("self",))
            .filter(company=company, state=PromiseState.OPEN, promised_on__lt=on)
            .select_related("customer")
            .order_by("pk")
        )
        due = [p for p in candidates if p.until < on]
        if not due:
            return
        _recount(company, due)
        for promise in due:
            if promise.paid_minor >= promise.amount_minor:
                state = PromiseState.KEPT
            elif promise.paid_minor > 0:
                state = PromiseState.PARTLY_KEPT
            else:
                state = PromiseState.BROKEN
            _decide(promise, state, on=on, at=at, actor=None)


def _recount(company: Company, promises: list[PromiseToPay]) -> None:
    """`paid_minor` of each promise from the allocations in its window: two queries for all."""
    named: dict[int, set[int]] = defaultdict(set)
    for promise_id, item_id in PromisedItem.objects.filter(
        promise__in=[p.pk for p in promises]
    ).values_list("promise_id", "item_id"):
        named[promise_id].add(item_id)
    rows = (
        Allocation.objects.filter(
            company=company,
            customer_id__in={p.customer_id for p in promises},
            kind__in=COUNTED,
            effective_on__gte=min(p.made_on for p in promises),
            effective_on__lte=max(p.until for p in promises),
        )
        .values("target_id", "customer_id", "currency", "effective_on")
        .annotate(total=Sum("amount_minor"))
        .values_list("target_id", "customer_id", "currency", "effective_on", "total")
    )
    by_customer: dict[int, list[tuple[int, str, date, int]]] = defaultdict(list)
    for target_id, customer_id, currency, effective_on, total in rows:
        by_customer[customer_id].append((target_id, currency, effective_on, total))
    changed = []
    for promise in promises:
        items = named.get(promise.pk)
        paid = sum(
            total
            for target_id, currency, effective_on, total in by_customer[promise.customer_id]
            if promise.made_on <= effective_on <= promise.until
            and (target_id in items if items else currency == promise.currency)
        )
        if paid != promise.paid_minor:
            promise.paid_minor = paid
            changed.append(promise)
    PromiseToPay.objects.bulk_update(changed, ["paid_minor"])


def _decide(
    promise: PromiseToPay, state: PromiseState, *, on: date, at: datetime, actor: User | None
) -> None:
    """Move an open promise to `state` with its history; a broken or partly kept one escalates
    and alerts the owner."""
    if not PromiseToPay.objects.filter(pk=promise.pk, state=PromiseState.OPEN).update(
        state=state, decided_on=on
    ):
        return  # decided meanwhile
    promise.state, promise.decided_on = state, on
    amount = _money(promise.amount_minor, promise.currency)
    paid = _money(promise.paid_minor, promise.currency)
    deadline = promise.promised_on.isoformat()
    kind, summary = {
        PromiseState.KEPT: (ActivityKind.PROMISE_KEPT,
                            f"promise {promise.pk} kept: {paid} of {amount} by {deadline}"),
        PromiseState.PARTLY_KEPT: (ActivityKind.PROMISE_PARTLY_KEPT,
                                   f"promise {promise.pk} partly kept: {paid} of {amount} "
                                   f"by {deadline}"),
        PromiseState.BROKEN: (ActivityKind.PROMISE_BROKEN,
                              f"promise {promise.pk} broken: nothing of {amount} paid by "
                              f"{deadline}"),
    }[state]  # fmt: skip
    _record(promise, kind, summary, on=on, at=at, actor=actor, key=f"promise-{promise.pk}-{state}")
    if state != PromiseState.KEPT:
        _escalate(promise, summary, on=on, at=at)


def _escalate(promise: PromiseToPay, summary: str, *, on: date, at: datetime) -> None:
    customer = promise.customer
    item_ids = sorted(
        PromisedItem.objects.filter(promise=promise).values_list("item_id", flat=True)
    ) or sorted(
        OpenItem.objects.filter(
            customer=customer, currency=promise.currency, kind__in=PROMISABLE, open_minor__gt=0,
            voided_on__isnull=True,
        ).values_list("pk", flat=True)
    )  # fmt: skip
    reason = (
        f"promise {promise.pk} broken"
        if promise.state == PromiseState.BROKEN
        else f"promise {promise.pk} partly kept"
    )
    key = f"promise-{promise.pk}"
    Escalation.objects.bulk_create(
        [Escalation(company=promise.company, customer=customer, source=EscalationSource.BROKEN_PROMISE,
                    reason=reason, item_ids=item_ids, raised_on=on, created_at=at, key=key)],
        ignore_conflicts=True,
    )  # fmt: skip
    who = f"{promise.promised_by}, {english(promise.get_channel_display).lower()}"
    Task.objects.bulk_create(
        [Task(company=promise.company, customer=customer, kind=TaskKind.ALERT,
              title=f"{summary} ({who})"[:200], due_on=on, assignee_id=customer.owner_id,
              source=f"promise {promise.pk}", created_at=at, key=key)],
        ignore_conflicts=True,
    )  # fmt: skip


def _record(
    promise: PromiseToPay,
    kind: ActivityKind,
    summary: str,
    *,
    on: date,
    at: datetime,
    actor: User | None,
    key: str | None = None,
) -> None:
    """The entry on the customer and one on each promised item (keyed ones once only)."""
    if key is not None and Activity.objects.filter(company=promise.company, key=key).exists():
        return
    activity.record(company=promise.company, kind=kind, on=on, at=at, actor=actor,
                    customer=promise.customer, amount_minor=promise.amount_minor,
                    currency=promise.currency, summary=summary[:300],
                    data={"promise": promise.pk, "paid_minor": promise.paid_minor}, key=key)  # fmt: skip
    activity.record_many([
        activity.entry(company=promise.company, kind=kind, on=on, at=at, actor=actor,
                       customer=promise.customer, item=promised.item,
                       amount_minor=promise.amount_minor, currency=promise.currency,
                       summary=f"{summary} [promise {promise.pk}]"[:300],
                       data={"promise": promise.pk})
        for promised in promise.promised.select_related("item")
    ])  # fmt: skip


def _money(minor: int, currency: str) -> Money:
    return Money.from_minor(minor, currency)
