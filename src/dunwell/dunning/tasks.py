"""Background entry points of dunning (the Django Tasks API): the daily cycle and delivery.

Tasks read the clock (DESIGN.md: with views and commands, the only places that do); what they do
is idempotent, so a task that runs twice, or after a crash, changes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django_tasks import task

from dunwell.cases.services import tracking
from dunwell.core import clock
from dunwell.core.models import Company
from dunwell.dunning.services.delivery import deliver_emails
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.services.overdue import record_overdue

# What the layers above dunning do once a company's run of the day is done (the worklists of
# `reports`, which this app may not import): they register here when their app is ready.
AFTER_RUN: list[Callable[[Company, date, datetime], object]] = []


def after_run(step: Callable[[Company, date, datetime], object]) -> None:
    if step not in AFTER_RUN:
        AFTER_RUN.append(step)


# What the layers above want done on every round of `dunwell worker` (webhooks' delivery pass).
EVERY_ROUND: list[Callable[[datetime], object]] = []


def every_round(step: Callable[[datetime], object]) -> None:
    if step not in EVERY_ROUND:
        EVERY_ROUND.append(step)


@task()
def daily_cycle(company_code: str, on: str) -> dict[str, Any]:
    """The promises and plans due decided, the dunning run of one company and business date,
    the invoices past due recorded overdue (after the run, as `dunwell dunning run` does), what
    registered to follow it (the worklists), then delivery of its emails."""
    company = Company.objects.get(code=company_code)
    day = date.fromisoformat(on)
    tracking.daily(company=company, on=day, at=clock.now())
    report = run_dunning(company=company, on=day, at=clock.now(), detail=False)
    record_overdue(company=company, on=day, at=clock.now())
    for step in AFTER_RUN:
        step(company, day, clock.now())
    delivered = deliver_emails(at=clock.now(), company=company)
    return {"run": report.as_dict(brief=True), "delivery": delivered.as_dict()}


@task()
def deliver_outbox() -> dict[str, object]:
    """One delivery pass over every company's pending emails."""
    return deliver_emails(at=clock.now()).as_dict()
