"""What payments and the calendar do to a customer's cases: the one entry point that the ledger's
callers (cash application, imports, the workflows) and the daily cycle use, so that promises and
plan instalments follow the money in the same transaction that moved it.

- `after_payments`: allocations to these customers' items were just written (or reversed) in the
  current transaction: promises and instalments they complete are kept or paid now.
- `daily`: the business date has come: promises whose grace ran out are decided (kept, partly
  kept, broken), instalments past their date plus grace are missed; run before the dunning run.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.auth.models import User

from dunwell.cases.services import plans, promises
from dunwell.core.models import Company


def after_payments(
    *, company: Company, customer_ids: Iterable[int], on: date, at: datetime, actor: User | None
) -> None:
    ids = sorted(set(customer_ids))
    if not ids:
        return
    promises.track_payments(company=company, customer_ids=ids, on=on, at=at, actor=actor)
    plans.track_payments(company=company, customer_ids=ids, on=on, at=at, actor=actor)


def daily(*, company: Company, on: date, at: datetime) -> None:
    promises.decide_due(company=company, on=on, at=at)
    plans.decide_due(company=company, on=on, at=at)
