"""The demo's month of collections: the daily cycle run over the last four weeks of its history,
as a company that started Dunwell then would have seen it.

Each business day: the promises and plans due decided, then the dunning run of the day; the final
demands and letters before action of two business days before are approved by the credit manager
(a person would decide; the demo approves them all), and the owner collectors make the calls the
run of two business days before asked for and log their outcomes, and work the cases of the day
(`demo.cases`: disputes, promises kept and broken, a payment plan, a placement); the day's emails are delivered, into a mailbox in memory (the demo sends no
mail), so the outbox shows them sent with their exact text and the history has them. The last
day's emails carry the customer's statement of account; the earlier ones do not, so that the demo
builds in seconds (a statement takes 0.2 s to lay out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dunwell.cases.services import tracking
from dunwell.core.dates import is_business_day
from dunwell.core.models import Company
from dunwell.demo.cases import CaseStats, Desk
from dunwell.dunning.models import Channel, Decision, Message, MessageStatus, Outcome
from dunwell.dunning.services.approvals import approve
from dunwell.dunning.services.delivery import deliver_emails
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.terms.services import holidays_for

MEMORY = "django.core.mail.backends.locmem.EmailBackend"
WEEKS = 4


@dataclass
class CycleStats:
    days: int = 0
    decisions: int = 0
    approved: int = 0
    emails: int = 0
    letters: int = 0
    calls: int = 0
    calls_made: int = 0
    waiting: int = 0
    cases: CaseStats = field(default_factory=CaseStats)


def collections_month(
    company: Company, as_of: date, users: dict[str, Any], say: Callable[[str], None]
) -> CycleStats:
    stats = CycleStats()
    credit_manager = users["credit"]
    desk = Desk(company, users)
    stats.cases = desk.stats
    ensure_default_policy(company, datetime.combine(as_of - timedelta(weeks=WEEKS), time(6), UTC))
    holidays = holidays_for(company, range(as_of.year - 1, as_of.year + 1))
    days = [
        as_of - timedelta(days=n)
        for n in range(WEEKS * 7, -1, -1)
        if is_business_day(as_of - timedelta(days=n), holidays)
    ]
    say(f"running the daily collections cycle over {len(days)} business days")
    for index, day in enumerate(days):
        morning = datetime.combine(day, time(6), UTC)
        tracking.daily(company=company, on=day, at=morning)
        report = run_dunning(company=company, on=day, at=morning)
        stats.decisions += len(report.groups)
        if index >= 2:
            earlier = days[index - 2]
            for decision in Decision.objects.filter(
                company=company, outcome=Outcome.APPROVAL, run__business_date__lte=earlier
            ):
                approve(decision=decision, actor=credit_manager, on=day,
                        at=morning + timedelta(hours=2))  # fmt: skip
                stats.approved += 1
            calls = Message.objects.filter(
                company=company, channel=Channel.CALL, status=MessageStatus.PENDING,
                business_date__lte=earlier,
            ).select_related("assignee").order_by("pk")  # fmt: skip
            for n, call in enumerate(calls.select_related("customer")):  # the collectors call
                stats.calls_made += desk.call(call, n, day, morning + timedelta(hours=4))
        desk.day(index, day, morning + timedelta(hours=5))
        # Laying out a statement takes 0.2 s: the history's emails carry none, today's do.
        deliver_emails(at=morning + timedelta(hours=3), company=company, backend=MEMORY,
                       statements=day == days[-1])  # fmt: skip
        stats.days += 1
    messages = Message.objects.filter(company=company)
    stats.emails = messages.filter(channel="email", status="sent").count()
    stats.letters = messages.filter(channel="letter").count()
    stats.calls = messages.filter(channel="call").count()
    stats.waiting = Decision.objects.filter(company=company, outcome=Outcome.APPROVAL).count()
    return stats
