"""The overview's KPI trends, made once a day (`KpiSnapshot`): the twelve complete months before
the day, per currency, the figures the overview draws. The daily cycle makes it after the dunning
run; the overview shows the latest snapshot and its day (or none yet)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dunwell.core.dates import add_months
from dunwell.core.models import Company
from dunwell.reports.kpi import Series, kpi_report
from dunwell.reports.models import KpiSnapshot
from dunwell.reports.rules.kpi import rounded

MONTHS = 12
FIGURES = ("dso", "best_possible_dso", "cei", "percent_current")


def _text(value: Decimal | None) -> str | None:
    figure = rounded(value)
    return None if figure is None else f"{figure:.2f}"


def refresh_kpi_snapshot(company: Company, on: date, at: datetime) -> KpiSnapshot:
    last = add_months(on.replace(day=1), -1)
    report = kpi_report(company, add_months(last, -(MONTHS - 1)), last)
    series = [_series(s) for s in report.series]
    snapshot, _ = KpiSnapshot.objects.update_or_create(
        company=company, as_of=on, defaults={"made_at": at, "series": series}
    )
    return snapshot


def _series(s: Series) -> dict[str, Any]:
    return {
        "currency": s.currency,
        "months": [f"{m.first:%Y-%m}" for m in s.months],
        "dso": [_text(m.dso) for m in s.months],
        "best_possible_dso": [_text(m.best_possible_dso) for m in s.months],
        "cei": [_text(m.cei.percent) for m in s.months],
        "percent_current": [_text(m.percent_current) for m in s.months],
        "period": {"dso": _text(s.period.dso), "cei": _text(s.period.cei.percent),
                   "add": _text(s.period.add)},
    }  # fmt: skip


def latest_snapshot(company: Company) -> KpiSnapshot | None:
    return KpiSnapshot.objects.filter(company=company).order_by("-as_of").first()
