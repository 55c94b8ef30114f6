"""Why an account or an item is not dunned on a day: the small interface the run asks.

Each source gives the pauses in force on a business date. The manual holds of this app are the
first source; the cases issue adds disputes, promises to pay and payment plans by registering
theirs (`register`), without the run knowing what they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import NamedTuple

from django.db.models import Q

from dunwell.core.models import Company
from dunwell.dunning.models import Hold


class Pause(NamedTuple):
    customer_id: int
    item_id: int | None  # None: the whole account
    until: date
    reason: str


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


SOURCES: list[Source] = [holds]


def register(source: Source) -> None:
    if source not in SOURCES:
        SOURCES.append(source)


def in_force(company: Company, on: date) -> tuple[dict[int, str], dict[int, str]]:
    """(customer id -> reason, item id -> reason) of every pause in force on `on`."""
    accounts: dict[int, str] = {}
    items: dict[int, str] = {}
    for source in SOURCES:
        for pause in source(company, on):
            if pause.item_id is None:
                accounts.setdefault(pause.customer_id, pause.reason)
            else:
                items.setdefault(pause.item_id, pause.reason)
    return accounts, items
