"""Why an account or an item is not dunned on a day: the small interface the run asks.

Each source gives the pauses in force on a business date: the manual holds of this app, the open
disputes of `cases` (each for the amount disputed: the rest of an invoice is still dunned), the
open promises to pay (their items, or the whole account, until the promised date plus grace), the
items of a current payment plan, items placed with an agency or a lawyer while the placement is
open, the customer's insolvency proceedings (the whole account, from the opening until closed),
and whatever else registers (`register`), without the run knowing what they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import NamedTuple

from django.db.models import Q

from dunwell.cases.models import (
    DisputedItem,
    DisputeReason,
    Insolvency,
    InsolvencyKind,
    InstalmentState,
    PlacementItem,
    PlanInstalment,
    PlanItem,
    PlanState,
    PromisedItem,
    PromiseState,
    PromiseToPay,
)
from dunwell.cases.services.promises import MAX_GRACE_DAYS
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.dunning.models import Hold


class Pause(NamedTuple):
    customer_id: int
    item_id: int | None  # None: the whole account
    until: date
    reason: str
    amount_minor: int | None = None  # of the item: only this much is paused; None: all of it


Source = Callable[[Company, date], Iterable[Pause]]


def holds(company: Company, on: date) -> Iterable[Pause]:
    """Manual holds: "hold until DATE with reason", per customer or per invoice."""
    active = Hold.objects.filter(company=company, until__gte=on).filter(
        Q(released_on__isnull=True) | Q(released_on__gt=on)
    )
    for customer_id, item_id, until, reason in active.values_list(
        "customer_id", "item_id", "until", "reason"
    ):
        yield Pause(customer_id, item_id, until, f"on hold until {until.isoformat()}: {reason}")


def disputes(company: Company, on: date) -> Iterable[Pause]:
    """The amounts in dispute (open or under investigation) on `on`."""
    disputed = DisputedItem.objects.filter(
        dispute__company=company, dispute__opened_on__lte=on
    ).filter(Q(dispute__resolved_on__isnull=True) | Q(dispute__resolved_on__gt=on))
    labels = {value: english(label).lower() for value, label in DisputeReason.choices}
    for customer_id, item_id, amount, dispute_id, reason in disputed.values_list(
        "dispute__customer_id", "item_id", "amount_minor", "dispute_id", "dispute__reason"
    ):
        label = labels.get(reason, reason)
        yield Pause(customer_id, item_id, on, f"dispute {dispute_id} open ({label})", amount)


def placements(company: Company, on: date) -> Iterable[Pause]:
    """The items placed with an agency or a lawyer, while the placement is open: the agency
    collects them now, and a reminder from the creditor beside it would confuse the debtor."""
    placed = (
        PlacementItem.objects.filter(placement__company=company, placement__placed_on__lte=on)
        .filter(Q(placement__recalled_on__isnull=True) | Q(placement__recalled_on__gt=on))
        .filter(Q(placement__closed_on__isnull=True) | Q(placement__closed_on__gt=on))
    )
    for customer_id, item_id, agency, placed_on in placed.values_list(
        "placement__customer_id", "item_id", "placement__agency__name", "placement__placed_on"
    ):
        yield Pause(customer_id, item_id, on, f"placed with {agency} on {placed_on.isoformat()}")


def promises(company: Company, on: date) -> Iterable[Pause]:
    """Open promises to pay: their items (or the account, when none are named) until the
    promised date plus grace; the day after, `cases` decides them and dunning resumes."""
    made = PromiseToPay.objects.filter(company=company, state=PromiseState.OPEN, made_on__lte=on)
    rows = made.filter(promised_on__gte=on - timedelta(days=MAX_GRACE_DAYS)).values_list(
        "id", "customer_id", "currency", "amount_minor", "promised_on", "grace_days"
    )
    in_force: dict[int, tuple[int, date, str]] = {}
    for promise_id, customer_id, currency, amount, promised_on, grace in rows:
        until = promised_on + timedelta(days=grace)
        if until >= on:
            reason = (f"promise {promise_id}: {Money.from_minor(amount, currency)} by "
                      f"{promised_on.isoformat()}")  # fmt: skip
            in_force[promise_id] = (customer_id, until, reason)
    named: set[int] = set()
    for promise_id, item_id in PromisedItem.objects.filter(
        promise_id__in=list(in_force)
    ).values_list("promise_id", "item_id"):
        named.add(promise_id)
        customer_id, until, reason = in_force[promise_id]
        yield Pause(customer_id, item_id, until, reason)
    for promise_id, (customer_id, until, reason) in in_force.items():
        if promise_id not in named:
            yield Pause(customer_id, None, until, reason)


def insolvencies(company: Company, on: date) -> Iterable[Pause]:
    """Accounts in insolvency proceedings on `on`: opened by then and not closed before."""
    current = Insolvency.objects.filter(company=company, opened_on__lte=on).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gt=on)
    )
    labels = {value: english(label).lower() for value, label in InsolvencyKind.choices}
    for customer_id, insolvency_id, kind, opened_on in current.values_list(
        "customer_id", "pk", "kind", "opened_on"
    ):
        label = labels.get(kind, kind)
        yield Pause(customer_id, None, on,
                    f"{label} {insolvency_id} since {opened_on.isoformat()}: claim filed "
                    "instead of dunning")  # fmt: skip


SOURCES: list[Source] = [holds, disputes, insolvencies, promises, placements]


def register(source: Source) -> None:
    if source not in SOURCES:
        SOURCES.append(source)


class InForce(NamedTuple):
    accounts: dict[int, str]  # customer id -> reason
    items: dict[int, str]  # item id -> reason: all of it paused
    amounts: dict[int, tuple[int, str]]  # item id -> (amount paused, reason): part of it


def in_force(company: Company, on: date) -> InForce:
    """Every pause in force on `on`, by account, by whole item and by part of an item."""
    found = InForce({}, {}, {})
    for source in SOURCES:
        for pause in source(company, on):
            if pause.item_id is None:
                found.accounts.setdefault(pause.customer_id, pause.reason)
            elif pause.amount_minor is None:
                found.items.setdefault(pause.item_id, pause.reason)
            else:
                held, reason = found.amounts.get(pause.item_id, (0, pause.reason))
                found.amounts[pause.item_id] = (held + pause.amount_minor, reason)
    return found


def plans(company: Company, on: date) -> Iterable[Pause]:
    """The items of a payment plan current on `on`: not dunned while the instalments are kept."""
    current = PlanItem.objects.filter(plan__company=company, plan__agreed_on__lte=on).filter(
        Q(plan__state=PlanState.ACTIVE) | Q(plan__ended_on__gt=on)
    )
    rows = list(current.values_list("plan__customer_id", "item_id", "plan_id", "plan__currency"))
    upcoming: dict[int, tuple[int, date]] = {}
    for plan_id, amount, paid, due_on in (
        PlanInstalment.objects.filter(plan_id__in={row[2] for row in rows})
        .exclude(state=InstalmentState.PAID)
        .order_by("-sequence")
        .values_list("plan_id", "amount_minor", "paid_minor", "due_on")
    ):
        upcoming[plan_id] = (amount - paid, due_on)  # the lowest sequence is written last
    for customer_id, item_id, plan_id, currency in rows:
        nxt = upcoming.get(plan_id)
        then = (
            f" (next {Money.from_minor(nxt[0], currency)} on {nxt[1].isoformat()})" if nxt else ""
        )
        yield Pause(customer_id, item_id, on, f"payment plan {plan_id} current{then}")


SOURCES.append(plans)
