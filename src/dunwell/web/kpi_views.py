"""The KPI page (issue 7 point 1): monthly trends of DSO against best possible DSO, CEI, percent
current and over 90 days, per currency, for the company or one segment, collector or customer
(`reports.kpi`), with the monthly figures and the dunning effectiveness of the period. Charts
are SVG drawn on the server (web/charts.py): no script, the CSP stays strict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dunwell.core import clock
from dunwell.core.dates import add_months
from dunwell.core.models import Company, Role
from dunwell.reports.kpi import GROUPINGS, Series, kpi_report
from dunwell.reports.rules.kpi import DEFAULT_CEI
from dunwell.web.access import CompanyRequest, company_view
from dunwell.web.charts import LineChart, line_chart

MAX_MONTHS = 36
BY_CHOICES = [("company", _("Company")), ("segment", _("Segment")), ("collector", _("Collector")),
              ("customer", _("Customer"))]  # fmt: skip


class KpiForm(forms.Form):
    first = forms.DateField(required=False, label=_("From"), input_formats=["%Y-%m"])
    last = forms.DateField(required=False, label=_("To"), input_formats=["%Y-%m"])
    by = forms.ChoiceField(required=False, choices=BY_CHOICES, label=_("By"))
    group = forms.CharField(required=False, max_length=60, label=_("Which"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last:
            months = (last.year - first.year) * 12 + last.month - first.month + 1
            if months < 1:
                self.add_error("first", _("The first month must not be after the last."))
            elif months > MAX_MONTHS:
                self.add_error("first", _("At most 36 months at a time."))
        return data


@dataclass(frozen=True)
class Trend:
    series: Series
    charts: tuple[LineChart, ...]


def trends(series: Series) -> Trend:
    """The charts of one series: days (DSO, best possible, countback), CEI, shares of the AR."""
    months = [f"{m.first:%Y-%m}" for m in series.months]
    days = line_chart(gettext("Days sales outstanding"), gettext("days"), months, [
        (gettext("DSO"), [m.dso for m in series.months]),
        (gettext("Best possible DSO"), [m.best_possible_dso for m in series.months]),
        (gettext("DSO (countback)"), [m.dso_countback for m in series.months]),
    ])  # fmt: skip
    cei = line_chart(gettext("Collection effectiveness (CEI, one month)"), "%", months, [
        (gettext("CEI"), [m.cei.percent for m in series.months]),
        (gettext("Current"), [m.percent_current for m in series.months]),
        (gettext("Over 90 days past due"), [m.percent_over_90 for m in series.months]),
    ])  # fmt: skip
    return Trend(series, (days, cei))


def period_of(company: Company, first: date | None, last: date | None) -> tuple[date, date]:
    """Whole months: by default the twelve up to the last complete one."""
    end = last.replace(day=1) if last else add_months(clock.today(company).replace(day=1), -1)
    start = first.replace(day=1) if first else add_months(end, -11)
    return start, end


@company_view(min_role=Role.VIEWER)
def kpi_page(request: CompanyRequest) -> HttpResponse:
    company = request.company
    form = KpiForm(request.GET)
    valid = form.is_valid()
    data = form.cleaned_data if valid else {}
    first, last = period_of(company, data.get("first"), data.get("last"))
    asked = str(data.get("by") or "")
    by = asked if asked in GROUPINGS else "company"
    report = kpi_report(company, first, last, by)
    groups = sorted({(s.group.key, s.group.label) for s in report.series}, key=lambda g: g[1])
    chosen = data.get("group") or ""
    shown = [s for s in report.series if by == "company" or not chosen or s.group.key == chosen]
    if by != "company" and not chosen:
        shown = shown[:6]  # the first groups; the picker shows the rest
    return render(request, "web/kpis.html", {
        "form": form, "first": first, "last": last, "by": by, "groups": groups,
        "chosen": chosen, "trends": [trends(s) for s in shown], "report": report,
        "cei_default": DEFAULT_CEI.value, "by_choices": BY_CHOICES,
        "more": by != "company" and not chosen and len(report.series) > len(shown),
    })  # fmt: skip
