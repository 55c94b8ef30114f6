"""The cash forecast page (issue 7 point 4): expected receipts per week for 13 weeks, per
currency, with the 80 % interval, as a chart, a table and CSV (`reports.forecast`)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

from dunwell.core import clock
from dunwell.core.formatting import format_money
from dunwell.core.models import Role
from dunwell.core.money import Money, exponent
from dunwell.core.templatetags.formatting import active_locale
from dunwell.reports.forecast import CurrencyForecast, cash_forecast, week_end
from dunwell.web import exports
from dunwell.web.access import CompanyRequest, company_view
from dunwell.web.charts import BarChart, interval_bars


def chart_of(currency: CurrencyForecast) -> BarChart:
    locale = active_locale()
    bars = [(f"{w.starts:%m-%d}", w.expected_minor, w.low_minor, w.high_minor,
             f"{w.starts:%Y-%m-%d}: {format_money(w.expected_minor, currency.currency, locale)} "
             f"({format_money(w.low_minor, currency.currency, locale)} - "
             f"{format_money(w.high_minor, currency.currency, locale)})")
            for w in currency.weeks]  # fmt: skip
    return interval_bars(gettext("Expected receipts in %(c)s by week") % {"c": currency.currency},
                         bars, 10 ** exponent(currency.currency))  # fmt: skip


def _amount(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency).amount)


@company_view(min_role=Role.VIEWER)
def forecast_page(request: CompanyRequest) -> HttpResponse:
    company = request.company
    forecast = cash_forecast(company, clock.today(company))
    if request.GET.get("format") == "csv":
        rows: list[list[object]] = [["currency", "week_from", "week_to", "expected", "low_80",
                                     "high_80"]]  # fmt: skip
        for c in forecast.currencies:
            rows += [[c.currency, w.starts.isoformat(), week_end(w).isoformat(),
                      _amount(w.expected_minor, c.currency), _amount(w.low_minor, c.currency),
                      _amount(w.high_minor, c.currency)] for w in c.weeks]  # fmt: skip
            rows.append([c.currency, "later", "", _amount(c.later_minor, c.currency), "", ""])
            rows.append([c.currency, "doubtful", "", _amount(c.doubtful_minor, c.currency), "",
                         ""])  # fmt: skip
        response = HttpResponse(exports.as_csv(rows), content_type="text/csv")
        name = f"forecast-{company.code}-{forecast.as_of.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(request, "web/forecast.html", {
        "forecast": forecast,
        "currencies": [(c, chart_of(c), [(w, week_end(w)) for w in c.weeks])
                       for c in forecast.currencies],
    })  # fmt: skip
