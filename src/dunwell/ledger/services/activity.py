"""Writers of the account history, one function per kind of entry (Saleor's `events.py`).

Every function appends one `Activity` row in the caller's transaction. A `key` makes the entry
idempotent: writing the same key twice keeps the first row (a re-run records nothing twice).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User

from dunwell.core.models import Company
from dunwell.ledger.models import Activity, ActivityKind, Customer, OpenItem, Payment


def actor_label(actor: User | None, fallback: str = "system") -> str:
    return actor.get_username() if actor is not None else fallback


def record(
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
    if key is not None:
        existing = Activity.objects.filter(company=company, key=key).first()
        if existing is not None:
            return existing
    return Activity.objects.create(
        company=company,
        kind=kind,
        on=on,
        recorded_at=at,
        summary=summary[:300],
        actor=actor if actor is not None and actor.pk else None,
        actor_label=label or actor_label(actor),
        customer=customer,
        item=item,
        payment=payment,
        amount_minor=amount_minor,
        currency=currency,
        data=data or {},
        key=key,
    )
