"""Placing an account with a collection agency or a lawyer, following it and ending it; each step
one transaction with its history entry (on the customer and on every placed item).

What a recovery is: the agency's report that it collected an amount on a day. It is not a
payment: the money reaches the ledger the ordinary way (the agency's remittance or the debtor's
transfer, imported or recorded as a `Payment` and allocated), so nothing is booked twice. A
recovery may name that payment; it records the commission the agency earns on it, at the rate
agreed when the account was placed, rounded half up to the currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Sum

from dunwell.cases.models import (
    OPEN_STATES,
    Agency,
    AgencyKind,
    DisputedItem,
    DisputeState,
    Placement,
    PlacementItem,
    PlacementOutcome,
    PlacementRecovery,
    PlacementState,
)
from dunwell.cases.services import portal
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.ledger.lock_objects import lock
from dunwell.ledger.models import Activity, ActivityKind, Customer, ItemKind, OpenItem, Payment
from dunwell.ledger.queries import open_items
from dunwell.ledger.services import activity

PLACEABLE = (ItemKind.INVOICE, ItemKind.FEE, ItemKind.INTEREST)
KEY_LENGTH = 64  # PlacementRecovery.key: a uuid4's 32 hex digits fit, with room for a prefix
# The moves a placement makes while it is open; recall and close end it.
FORWARD = {
    PlacementState.PLACED: (PlacementState.ACKNOWLEDGED, PlacementState.IN_PROGRESS),
    PlacementState.ACKNOWLEDGED: (PlacementState.IN_PROGRESS,),
}


def commission(amount_minor: int, percent: Decimal, currency: str) -> int:
    """`percent` of an amount, rounded half up to the currency's minor unit."""
    return (Money.from_minor(amount_minor, currency) * (percent / 100)).rounded().minor


@transaction.atomic
def create_agency(
    *,
    company: Company,
    name: str,
    kind: str = AgencyKind.AGENCY,
    commission_percent: Decimal | str,
    email: str = "",
    phone: str = "",
    address: str = "",
    at: datetime,
) -> Agency:
    name = name.strip()
    if not name:
        raise DunwellError(ErrorCode.INVALID, "an agency needs a name", field="name")
    if kind not in AgencyKind.values:
        raise DunwellError(ErrorCode.INVALID, f"kind {kind!r}: expected one of "
                           f"{', '.join(AgencyKind.values)}", field="kind")  # fmt: skip
    percent = _percent(commission_percent)
    if Agency.objects.filter(company=company, name=name).exists():
        raise DunwellError(ErrorCode.DUPLICATE, f"there is an agency {name!r} already",
                           field="name")  # fmt: skip
    return Agency.objects.create(company=company, name=name, kind=kind, email=email.strip(),
                                 phone=phone.strip(), address=address.strip(),
                                 commission_percent=percent, created_at=at)  # fmt: skip


def _percent(value: Decimal | str) -> Decimal:
    try:
        percent = Decimal(str(value).strip())
    except InvalidOperation:
        percent = Decimal(-1)
    if not percent.is_finite() or not 0 <= percent <= 100 or percent != round(percent, 3):
        raise DunwellError(ErrorCode.INVALID, f"commission {value!r}: expected a percentage "
                           "from 0 to 100, e.g. 15 or 12.5", field="commission")  # fmt: skip
    return percent


@transaction.atomic
def place_account(
    *,
    company: Company,
    customer: Customer,
    agency: Agency,
    items: Sequence[OpenItem] | None = None,
    currency: str | None = None,
    on: date,
    at: datetime,
    actor: User | None,
    note: str = "",
) -> Placement:
    """Hand `items` (default: everything open in `currency`, default the customer's) to `agency`,
    each for what is open on `on`; they are not dunned while the placement is open."""
    if agency.company_id != company.pk or customer.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"{agency} or {customer} is not {company.code}'s")
    if not agency.active:
        raise DunwellError(ErrorCode.INVALID, f"{agency} is not active", field="agency")
    chosen = _placeable(company, customer, items, currency, on)
    currency = chosen[0][0].currency
    if Placement.objects.filter(
        customer=customer, currency=currency, state__in=OPEN_STATES
    ).exists():
        raise DunwellError(ErrorCode.CONFLICT, f"{customer.account_number} has an open placement "
                           f"in {currency} already: recall or close it first")  # fmt: skip
    try:
        with transaction.atomic():  # the constraint decides a race with another placement
            placement = Placement.objects.create(
                company=company, customer=customer, agency=agency, currency=currency,
                placed_on=on, placed_minor=sum(amount for _, amount in chosen),
                commission_percent=agency.commission_percent, state=PlacementState.PLACED,
                note=note.strip(), created_by=activity.stored_actor(actor), created_at=at,
            )  # fmt: skip
    except IntegrityError:
        raise DunwellError(ErrorCode.CONFLICT, f"{customer.account_number} has an open "
                           f"placement in {currency} already") from None  # fmt: skip
    PlacementItem.objects.bulk_create(
        PlacementItem(placement=placement, item=item, amount_minor=amount)
        for item, amount in chosen
    )
    what = ", ".join(f"{item.number} {Money.from_minor(a, currency)}" for item, a in chosen)
    _record(placement, ActivityKind.PLACED, on, at, actor,
            f"placed with {agency.name} ({english(agency.get_kind_display).lower()}): {what}; "
            f"{_money(placement.placed_minor, currency)} at {_pct(agency.commission_percent)} "
            "commission" + (f": {placement.note}" if placement.note else ""),
            amount_minor=placement.placed_minor)  # fmt: skip
    # The customer deals with the agency now: links in our earlier messages no longer invite
    # disputes, promises or payments to us (a later message of ours carries a fresh one).
    portal.revoke_customer(customer=customer, reason=f"account placed with {agency.name}",
                           actor=actor, on=on, at=at)  # fmt: skip
    return placement


def _placeable(
    company: Company,
    customer: Customer,
    items: Sequence[OpenItem] | None,
    currency: str | None,
    on: date,
) -> list[tuple[OpenItem, int]]:
    """(item, open on `on`) for every item to place, checked; locked for the transaction."""
    rows = open_items(company, customer, on)
    open_on = {row.item.pk: row.open_minor for row in rows}
    if items is None:
        wanted = currency or customer.currency
        candidates = [
            row.item for row in rows
            if row.item.currency == wanted and row.item.kind in PLACEABLE and row.open_minor > 0
            and not row.item.voided_on
        ]  # fmt: skip
        if not candidates:
            raise DunwellError(ErrorCode.INVALID, f"{customer.account_number} has nothing open "
                               f"in {wanted} on {on.isoformat()} to place", field="items")  # fmt: skip
    else:
        candidates = list(items)
        if not candidates:
            raise DunwellError(ErrorCode.INVALID, "a placement is of at least one invoice",
                               field="items")  # fmt: skip
    locked = lock(OpenItem, [item.pk for item in candidates])
    chosen: list[tuple[OpenItem, int]] = []
    for given in candidates:
        item = locked[given.pk]
        if item.company_id != company.pk or item.customer_id != customer.pk:
            raise DunwellError(ErrorCode.NOT_FOUND, f"{item} is not {customer.account_number}'s")
        if item.kind not in PLACEABLE or item.voided_on or open_on.get(item.pk, 0) <= 0:
            raise DunwellError(ErrorCode.INVALID, f"{item} has nothing open on {on.isoformat()} "
                               "to place", field="items")  # fmt: skip
        if chosen and item.currency != chosen[0][0].currency:
            raise DunwellError(ErrorCode.CURRENCY_MISMATCH, f"{item} is in {item.currency}, "
                               f"{chosen[0][0]} in {chosen[0][0].currency}: one placement is "
                               "in one currency", field="items")  # fmt: skip
        chosen.append((item, open_on[item.pk]))
    _refuse_disputed([item for item, _ in chosen])
    return chosen


def _refuse_disputed(items: list[OpenItem]) -> None:
    """An agency cannot collect what the customer contests: resolve the dispute first."""
    disputed = (
        DisputedItem.objects.filter(item__in=items)
        .exclude(dispute__state=DisputeState.RESOLVED)
        .values_list("item__number", "dispute_id")
        .first()
    )
    if disputed is not None:
        number, dispute_id = disputed
        raise DunwellError(ErrorCode.CONFLICT, f"{number} is in dispute {dispute_id}: resolve it "
                           "before placing it", field="items")  # fmt: skip


@transaction.atomic
def update_placement_status(
    *, placement: Placement, state: str, note: str = "", on: date, at: datetime,
    actor: User | None,
) -> Placement:  # fmt: skip
    """The agency acknowledged the file, or is working on it."""
    current = _locked(placement)
    allowed = FORWARD.get(PlacementState(current.state), ())
    if state not in [s.value for s in allowed]:
        moves = ", ".join(allowed) or "none (recall or close it)"
        raise DunwellError(ErrorCode.CONFLICT, f"placement {current.pk} is "
                           f"{english(current.get_state_display).lower()}: it may move to {moves}, "
                           f"not {state!r}", field="state")  # fmt: skip
    Placement.objects.filter(pk=current.pk).update(state=state)
    current.refresh_from_db()
    _record(current, ActivityKind.PLACEMENT_UPDATED, on, at, actor,
            f"placement {current.pk} with {current.agency.name}: "
            f"{english(current.get_state_display).lower()}" + (f": {note.strip()}" if note.strip() else ""))  # fmt: skip
    return current


@transaction.atomic
def record_recovery(
    *,
    placement: Placement,
    amount_minor: int,
    on: date,
    at: datetime,
    actor: User | None,
    payment: Payment | None = None,
    note: str = "",
    key: str | None = None,
) -> PlacementRecovery:
    """The agency reports it collected `amount_minor` on `on` (the ledger learns of the money
    through the payment that brings it in, which `payment` names when known).

    `key` makes it idempotent: a form or a script that sends the same key again (a double
    click, a retry after a timeout) books nothing and is told so, a DUPLICATE refusal on the
    field "key" naming the recovery booked the first time."""
    key = _key(key)
    current = _locked(placement)
    if key is not None:
        _refuse_repeat(current, key)
    if amount_minor <= 0:
        raise DunwellError(ErrorCode.INVALID, "a recovered amount is more than zero",
                           field="amount")  # fmt: skip
    ended = current.recalled_on or current.closed_on
    if on < current.placed_on or (ended is not None and on > ended):
        last = ended.isoformat() if ended else "today"
        raise DunwellError(ErrorCode.INVALID, f"recovered on {on.isoformat()}: expected a day "
                           f"from {current.placed_on.isoformat()} (placed) to {last}",
                           field="on")  # fmt: skip
    if payment is not None:
        _check_payment(current, payment, amount_minor)
    try:
        with transaction.atomic():  # the constraint decides, should the lock not have
            recovery = PlacementRecovery.objects.create(
                company=current.company, placement=current, amount_minor=amount_minor,
                commission_minor=commission(amount_minor, current.commission_percent,
                                            current.currency),
                recovered_on=on, payment=payment, note=note.strip(), key=key,
                created_by=activity.stored_actor(actor), created_at=at,
            )  # fmt: skip
    except IntegrityError:
        if key is not None:
            _refuse_repeat(current, key)
        raise
    paid = f", payment {payment.external_id}" if payment is not None else ""
    _record(current, ActivityKind.PLACEMENT_RECOVERED, on, at, actor,
            f"{current.agency.name} recovered {_money(amount_minor, current.currency)} "
            f"(commission {_money(recovery.commission_minor, current.currency)}{paid})"
            + (f": {recovery.note}" if recovery.note else ""), amount_minor=amount_minor)  # fmt: skip
    return recovery


def _key(key: str | None) -> str | None:
    key = (key or "").strip()
    if len(key) > KEY_LENGTH:
        raise DunwellError(ErrorCode.INVALID, f"key {key[:20]!r}...: at most {KEY_LENGTH} "
                           "characters", field="key")  # fmt: skip
    return key or None


def _refuse_repeat(placement: Placement, key: str) -> None:
    booked = PlacementRecovery.objects.filter(placement=placement, key=key).first()
    if booked is not None:
        raise DunwellError(
            ErrorCode.DUPLICATE,
            f"sent twice: {placement.agency.name}'s recovery of "
            f"{_money(booked.amount_minor, placement.currency)} on "
            f"{booked.recovered_on.isoformat()} is recorded once, nothing was booked again",
            field="key", recovery=booked.pk,
        )  # fmt: skip


def _check_payment(placement: Placement, payment: Payment, amount_minor: int) -> None:
    if payment.company_id != placement.company_id or payment.customer_id != placement.customer_id:
        raise DunwellError(ErrorCode.NOT_FOUND, f"{payment} is not "
                           f"{placement.customer.account_number}'s", field="payment")  # fmt: skip
    if payment.currency != placement.currency or payment.voided_on:
        raise DunwellError(ErrorCode.INVALID, f"{payment} is not a {placement.currency} payment "
                           "in force", field="payment")  # fmt: skip
    if amount_minor > payment.amount_minor:
        raise DunwellError(ErrorCode.INVALID, f"{payment} brought "
                           f"{_money(payment.amount_minor, payment.currency)}: less than the "
                           "amount recovered", field="amount")  # fmt: skip
    if PlacementRecovery.objects.filter(payment=payment).exists():
        raise DunwellError(ErrorCode.DUPLICATE, f"{payment} is named by a recovery already",
                           field="payment")  # fmt: skip


@transaction.atomic
def recall_placement(
    *, placement: Placement, reason: str, on: date, at: datetime, actor: User | None
) -> Placement:
    """Take the account back from the agency: its items are dunned again from the next run."""
    if not reason.strip():
        raise DunwellError(ErrorCode.INVALID, "a recall needs a reason", field="reason")
    current = _end(placement, on, PlacementState.RECALLED, recalled_on=on, reason=reason.strip())
    _record(current, ActivityKind.PLACEMENT_RECALLED, on, at, actor,
            f"placement {current.pk} recalled from {current.agency.name}: {current.reason}")  # fmt: skip
    return current


@transaction.atomic
def close_placement(
    *, placement: Placement, outcome: str, note: str = "", on: date, at: datetime,
    actor: User | None,
) -> Placement:  # fmt: skip
    """The agency is done: paid in full, settled, uncollectable or returned. Whatever is still
    open afterwards is the creditor's to write off or to dun again (it is no longer paused)."""
    if outcome not in PlacementOutcome.values:
        raise DunwellError(ErrorCode.INVALID, f"outcome {outcome!r}: expected one of "
                           f"{', '.join(PlacementOutcome.values)}", field="outcome")  # fmt: skip
    current = _end(placement, on, PlacementState.CLOSED, closed_on=on, outcome=outcome,
                   reason=note.strip())  # fmt: skip
    recovered, earned = totals([current.pk]).get(current.pk, (0, 0))
    _record(current, ActivityKind.PLACEMENT_CLOSED, on, at, actor,
            f"placement {current.pk} with {current.agency.name} closed "
            f"({english(current.get_outcome_display).lower()}): recovered "
            f"{_money(recovered, current.currency)}, commission {_money(earned, current.currency)}"
            + (f": {current.reason}" if current.reason else ""))  # fmt: skip
    return current


def _end(placement: Placement, on: date, state: str, **values: object) -> Placement:
    current = _locked(placement)
    if not current.is_open:
        raise DunwellError(ErrorCode.CONFLICT, f"placement {current.pk} is "
                           f"{english(current.get_state_display).lower()} already")  # fmt: skip
    if on < current.placed_on:
        raise DunwellError(ErrorCode.INVALID, f"{on.isoformat()} is before the placement "
                           f"({current.placed_on.isoformat()})", field="on")  # fmt: skip
    Placement.objects.filter(pk=current.pk).update(state=state, **values)
    current.refresh_from_db()
    return current


def _locked(placement: Placement) -> Placement:
    found = lock(Placement, [placement.pk]).get(placement.pk)
    if found is None:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no placement {placement.pk}")
    return found


def totals(placement_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """placement id -> (recovered, commission), in the placement's currency."""
    rows = (
        PlacementRecovery.objects.filter(placement_id__in=list(placement_ids))
        .values("placement_id")
        .annotate(recovered=Sum("amount_minor"), earned=Sum("commission_minor"))
        .values_list("placement_id", "recovered", "earned")
    )
    return {pk: (recovered or 0, earned or 0) for pk, recovered, earned in rows}


@transaction.atomic
def record_case_file_export(
    *,
    company: Company,
    customer: Customer,
    as_of: date,
    files: int,
    sha256: str,
    on: date,
    at: datetime,
    actor: User | None,
) -> Activity:
    """The case file was handed out: one history entry per export (who, when, which file)."""
    if customer.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"{customer} is not {company.code}'s")
    return activity.record(
        company=company, kind=ActivityKind.CASE_FILE_EXPORTED, on=on, at=at, actor=actor,
        customer=customer,
        summary=f"case file exported as of {as_of.isoformat()}: {files} files, SHA-256 "
                f"{sha256[:16]}",
        data={"as_of": as_of.isoformat(), "files": files, "sha256": sha256},
    )  # fmt: skip


def _record(
    placement: Placement,
    kind: ActivityKind,
    on: date,
    at: datetime,
    actor: User | None,
    summary: str,
    amount_minor: int | None = None,
) -> None:
    activity.record(company=placement.company, kind=kind, on=on, at=at, actor=actor,
                    customer=placement.customer, summary=summary[:300],
                    amount_minor=amount_minor,
                    currency=placement.currency if amount_minor is not None else "",
                    data={"placement": placement.pk, "agency": placement.agency_id})  # fmt: skip
    for placed in placement.items.select_related("item", "item__company", "item__customer"):
        activity.record_on_item(placed.item, kind, on=on, at=at, actor=actor,
                                amount_minor=placed.amount_minor,
                                summary=f"{summary} [placement {placement.pk}]"[:300])  # fmt: skip


def _money(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency))


def _pct(percent: Decimal) -> str:
    return f"{Decimal(percent).normalize():f} %"
