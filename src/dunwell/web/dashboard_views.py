"""The first page after signing in: where the company stands and what waits today.

Total overdue and the aging per currency (as of today, the aging report's buckets and bars),
today's work from the worklist (the signed-in collector's accounts; a credit manager's or an
administrator's: everyone's), the dunning run and the outbox (what waits for approval, for
delivery, what failed), the bank's review queue, open disputes and the promises falling due
this week. A fixed handful of queries whatever the ledger's size, but the aging's own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import render

from dunwell.cases.models import Dispute, DisputeState, PromiseState, PromiseToPay
from dunwell.cash.services.matching import unmatched_credits
from dunwell.core import clock
from dunwell.core.models import Role
from dunwell.dunning.models import Message, MessageStatus, Run
from dunwell.reports.aging import aging
from dunwell.reports.models import WorklistRow
from dunwell.web.access import CompanyRequest, company_view, has_role
from dunwell.web.charts import stacked_bar

TOP = 8  # accounts of today's work listed
WAITING = (MessageStatus.AWAITING_APPROVAL, MessageStatus.PENDING, MessageStatus.FAILED,
           MessageStatus.UNCERTAIN)  # fmt: skip


@company_view()
def dashboard(request: CompanyRequest) -> HttpResponse:
    company = request.company
    today = clock.today(company)
    report = aging(company, today, with_names=False)
    overdue = {c: sum(t.buckets[1:]) for c, t in report.totals.items()}
    everyone = has_role(request.role, Role.CREDIT_MANAGER)
    work = WorklistRow.objects.filter(company=company)
    if not everyone:
        work = work.filter(owner_id=request.user.pk)
    work_totals = work.aggregate(accounts=Count("pk"), tasks=Sum("tasks_due"),
                                 broken=Sum("broken_promises"))  # fmt: skip
    outbox = dict(
        Message.objects.filter(company=company, status__in=WAITING)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    context: dict[str, Any] = {
        "today": today,
        "report": report,
        "overdue": overdue,
        "bars": [stacked_bar(c, report.labels, t.buckets) for c, t in report.totals.items()],
        "everyone": everyone,
        "work": work_totals,
        "top": list(work.order_by("-rank", "customer_id")[:TOP]),
        "run": Run.objects.filter(company=company).order_by("-business_date", "-pk").first(),
        "outbox": [(MessageStatus(s).label, outbox.get(s, 0), s) for s in WAITING],
        "review_queue": unmatched_credits(company).count(),
        "disputes": Dispute.objects.filter(
            company=company, state__in=(DisputeState.OPEN, DisputeState.INVESTIGATING)
        ).count(),
        "promises_due": PromiseToPay.objects.filter(
            company=company, state=PromiseState.OPEN, promised_on__lte=today + timedelta(days=7)
        ).count(),
    }
    return render(request, "web/dashboard.html", context)
