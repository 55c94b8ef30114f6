"""Opening a promise to pay: the promise (cases) and, in the same transaction, the reminders not
yet sent that it makes pointless withdrawn (dunning), each with its history entry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cases.models import PromiseToPay
from dunwell.cases.services.promises import make_promise
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.dunning.services.withdrawals import withdraw_pending
from dunwell.ledger.models import Customer, OpenItem


@transaction.atomic
def open_promise(
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
    """`make_promise`, then withdraw what the dunning outbox still holds for the promised items
    (the whole account when none are named)."""
    promise = make_promise(
        company=company, customer=customer, amount_minor=amount_minor, currency=currency,
        promised_on=promised_on, promised_by=promised_by, channel=channel, items=items,
        grace_days=grace_days, note=note, actor=actor, on=on, at=at,
    )  # fmt: skip
    amount = Money.from_minor(amount_minor, currency)
    withdraw_pending(customer=customer, item_ids=[item.pk for item in items],
                     reason=f"promise {promise.pk}: {amount} by {promised_on.isoformat()}",
                     actor=actor, on=on, at=at)  # fmt: skip
    return promise
