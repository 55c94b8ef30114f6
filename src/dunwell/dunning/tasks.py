"""Background entry points of dunning (the Django Tasks API): the daily cycle and delivery.

Tasks read the clock (DESIGN.md: with views and commands, the only places that do); what they do
is idempotent, so a task that runs twice, or after a crash, changes nothing more.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django_tasks import task

from dunwell.cases.services import tracking
from dunwell.core import clock
from dunwell.core.models import Company
from dunwell.dunning.services.delivery import deliver_emails
from dunwell.dunning.services.run import run_dunning


@task()
def daily_cycle(company_code: str, on: str) -> dict[str, Any]:
    """The promises and plans due that day decided, the dunning run of one company and business
    date, then delivery of its emails."""
    company = Company.objects.get(code=company_code)
    day = date.fromisoformat(on)
    tracking.daily(company=company, on=day, at=clock.now())
    report = run_dunning(company=company, on=day, at=clock.now(), detail=False)
    delivered = deliver_emails(at=clock.now(), company=company)
    return {"run": report.as_dict(brief=True), "delivery": delivered.as_dict()}


@task()
def deliver_outbox() -> dict[str, object]:
    """One delivery pass over every company's pending emails."""
    return deliver_emails(at=clock.now()).as_dict()
