"""Writers of the account history, one function per kind of entry (Saleor's `events.py`).

Every function appends one `Activity` row in the caller's transaction. A `key` makes the entry
idempotent: writing the same key twice keeps the first row (a re-run records nothing twice).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.core.bulk import insert_instances
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
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
    customer_id: int | None = None,
) -> Activity:
    """An unsaved history entry; `record` saves one, `record_many` many at once. The customer
    is `customer`, or (a batch that did not load its customers) the one of `customer_id`."""
    made = Activity(
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
    if customer is None and customer_id is not None:
        made.customer_id = customer_id
    return made


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


@transaction.atomic
def record_correction(*, entry: Activity, text: str, actor: User | None, at: datetime) -> Activity:
    """A CORRECTION of `entry` on the same customer and item (the entry itself never changes).

    `data["corrects"]` names the corrected entry, so that the timeline shows the two together.
    """
    text = text.strip()
    if not text:
        raise DunwellError(ErrorCode.INVALID, "text: say what was wrong and what is right",
                           field="text")  # fmt: skip
    if entry.pk is None:
        raise DunwellError(ErrorCode.NOT_FOUND, "entry: only a stored entry can be corrected",
                           field="entry")  # fmt: skip
    return record(
        company=entry.company,
        kind=ActivityKind.CORRECTION,
        on=entry.on,  # it concerns the business date of what it corrects; `at` is when it was said
        at=at,
        actor=actor,
        customer=entry.customer,
        item=entry.item,
        payment=entry.payment,
        summary=f"Correction of entry {entry.pk} ({english(entry.get_kind_display)}): {text}",
        data={"corrects": entry.pk, "text": text},
    )
