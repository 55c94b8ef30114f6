"""Writers of the account history, one function per kind of entry (Saleor's `events.py`).

Every function appends one `Activity` row in the caller's transaction. A `key` makes the entry
idempotent: writing the same key twice keeps the first row (a re-run records nothing twice).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User

from dunwell.core.bulk import insert_instances
from dunwell.core.models import Company
from dunwell.ledger.models import Activity, ActivityKind, Customer, OpenItem, Payment


def stored_actor(actor: User | None) -> User | None:
    """The user to store on a row: none for the system or an unsaved user."""
    return actor if actor is not None and actor.pk else None


def actor_label(actor: User | None, fallback: str = "system") -> str:
    return actor.get_username() if actor is not None else fallback


def record_on_item(
    item: OpenItem,
    kind: ActivityKind,
    *,
    on: date,
    at: datetime,
    actor: User | None,
    amount_minor: int,
    summary: str,
    payment: Payment | None = None,
) -> Activity:
    """An entry about one open item, in the item's customer and currency."""
    return record(
        company=item.company,
        kind=kind,
        on=on,
        at=at,
        actor=actor,
        customer=item.customer,
        item=item,
        payment=payment,
        amount_minor=amount_minor,
        currency=item.currency,
        summary=summary,
    )


def entry(
    *,
    company: Company,
    kind: ActivityKind,
    on: date,
    at: datetime,
    summary: str,
    actor: User | None = None,
    label: str | None = None,
    customer: Customer | None = None,
    item: OpenItem | None = None,
    payment: Payment | None = None,
    amount_minor: int | None = None,
    currency: str = "",
    data: dict[str, Any] | None = None,
    key: str | None = None,
) -> Activity:
    """An unsaved history entry; `record` saves one, `record_many` many at once."""
    return Activity(
        company=company,
        kind=kind,
        on=on,
        recorded_at=at,
        summary=summary[:300],
        actor=stored_actor(actor),
        actor_label=label or actor_label(actor),
        customer=customer,
        item=item,
        payment=payment,
        amount_minor=amount_minor,
        currency=currency,
        data=data or {},
        key=key,
    )


def record(*, company: Company, key: str | None = None, **fields: Any) -> Activity:
    """Save one history entry (the keywords of `entry`); a known `key` returns the first one."""
    if key is not None:
        existing = Activity.objects.filter(company=company, key=key).first()
        if existing is not None:
            return existing
    made = entry(company=company, key=key, **fields)
    made.save()
    return made


def record_many(entries: list[Activity]) -> None:
    """Save entries made by `entry` (without keys: a keyed entry goes through `record`)."""
    if any(e.key is not None for e in entries):
        raise ValueError("record_many takes entries without keys")
    insert_instances(entries)
