"""Why an account or an item is not dunned on a day: the small interface the run asks.

Each source gives the pauses in force on a business date: the manual holds of this app, the open
disputes of `cases` (each for the amount disputed: the rest of an invoice is still dunned), the
customer's insolvency proceedings (the whole account, from the opening until closed), and
whatever else registers (`register`), without the run knowing what they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import NamedTuple

from django.db.models import Q

from dunwell.cases.models import DisputedItem, DisputeReason, Insolvency, InsolvencyKind
from dunwell.core.models import Company
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
    for customer_id, item_id, amount, dispute_id, reason in disputed.values_list(
        "dispute__customer_id", "item_id", "amount_minor", "dispute_id", "dispute__reason"
    ):
        label = DisputeReason(reason).label.lower()
        yield Pause(customer_id, item_id, on, f"dispute {dispute_id} open ({label})", amount)


def insolvencies(company: Company, on: date) -> Iterable[Pause]:
    """Accounts in insolvency proceedings on `on`: opened by then and not closed before."""
    current = Insolvency.objects.filter(company=company, opened_on__lte=on).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gt=on)
    )
    for customer_id, insolvency_id, kind, opened_on in current.values_list(
        "customer_id", "pk", "kind", "opened_on"
    ):
        label = InsolvencyKind(kind).label.lower()
        yield Pause(customer_id, None, on,
                    f"{label} {insolvency_id} since {opened_on.isoformat()}: claim filed "
                    "instead of dunning")  # fmt: skip


SOURCES: list[Source] = [holds, disputes, insolvencies]


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
