"""The first page after signing in: where the company stands and what waits today.

Total overdue and the aging per currency (as of today, the aging report's buckets and bars),
today's work from the worklist (the signed-in collector's accounts; a credit manager's or an
administrator's: everyone's), the dunning run and the outbox (what waits for approval, for
delivery, what failed), the bank's review queue, open disputes and the promises falling due
this week. A fixed handful of queries whatever the ledger's size, but the aging's own.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

from dunwell.cases.models import Dispute, DisputeState, PromiseState, PromiseToPay
from dunwell.cash.services.matching import unmatched_credits
from dunwell.core import clock
from dunwell.core.models import Company, Role
from dunwell.credit.models import CreditHold, RiskScore
from dunwell.dunning.models import Message, MessageStatus, Run
from dunwell.reports.aging import aging
from dunwell.reports.forecast import CurrencyForecast, cash_forecast
from dunwell.reports.kpi_snapshot import latest_snapshot
from dunwell.reports.models import WorklistRow
from dunwell.web.access import CompanyRequest, company_view, has_role
from dunwell.web.charts import BarChart, LineChart, line_chart, stacked_bar
from dunwell.web.forecast_views import chart_of

TOP = 8  # accounts of today's work listed
RISKIEST = 5  # customers of the highest risk listed
KPI_CURRENCIES = 2  # currencies whose KPI trend the overview draws
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
        **_credit(company),
        **_kpis(company),
        "forecast": _forecast(company, today),
    }
    return render(request, "web/dashboard.html", context)


def _credit(company: Company) -> dict[str, Any]:
    """The customers on credit hold, and those the risk score ranks worst (lowest first)."""
    held = CreditHold.objects.filter(company=company, released_on__isnull=True)
    riskiest = list(
        RiskScore.objects.filter(company=company, value__isnull=False)
        .select_related("customer")
        .order_by("value", "customer_id")[:RISKIEST]
    )
    on_hold = set(held.filter(customer_id__in=[s.customer_id for s in riskiest])
                  .values_list("customer_id", flat=True))  # fmt: skip
    return {"on_credit_hold": held.count(),
            "riskiest": [(s, s.customer_id in on_hold) for s in riskiest]}  # fmt: skip


def _kpis(company: Company) -> dict[str, Any]:
    """The latest daily KPI snapshot's trends: the base currency's first, then the others."""
    snapshot = latest_snapshot(company)
    if snapshot is None:
        return {"kpi_snapshot": None, "kpi_charts": []}
    ordered = sorted(snapshot.series, key=lambda s: (s["currency"] != company.base_currency,
                                                      s["currency"]))  # fmt: skip
    charts = [(s, _trend(s)) for s in ordered[:KPI_CURRENCIES]]
    return {"kpi_snapshot": snapshot, "kpi_charts": charts}


def _trend(series: dict[str, Any]) -> LineChart:
    def values(name: str) -> list[Decimal | None]:
        return [None if v is None else Decimal(v) for v in series[name]]

    return line_chart(f"{series['currency']}: " + gettext("DSO and CEI"), "", series["months"], [
        (gettext("DSO"), values("dso")),
        (gettext("Best possible DSO"), values("best_possible_dso")),
        (gettext("CEI %"), values("cei")),
    ])  # fmt: skip


def _forecast(company: Company, today: date) -> tuple[CurrencyForecast, BarChart] | None:
    """The next 13 weeks' expected receipts in the base currency (the forecast page has all)."""
    forecast = cash_forecast(company, today, currency=company.base_currency)
    if not forecast.currencies:
        return None
    (base,) = forecast.currencies
    return base, chart_of(base)
