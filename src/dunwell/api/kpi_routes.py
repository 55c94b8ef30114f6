"""The KPIs' route: monthly DSO, CEI, ADD and the rest per company, segment, collector or customer
and currency (`reports.kpi`), and the dunning effectiveness of the period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from dunwell.api.common import READ_ERRORS, ApiError, QueryParameters, read
from dunwell.core import clock
from dunwell.core.dates import add_months
from dunwell.reports.kpi import DEFAULT_PAID_WITHIN, GROUPINGS, Series, StepEffect, kpi_report
from dunwell.reports.rules.kpi import DEFAULT_CEI, Kpis, rounded

router = Router(tags=["kpis"])
MAYBE_MONTH = r"^(\d{4}-(0[1-9]|1[0-2]))?$"  # YYYY-MM or empty
MAX_MONTHS = 60
Ratio = str | None  # a decimal with two places, "51.08"; null when not defined (no sales, no AR)


class KpiMonth(Schema):
    month: str = Field(description="YYYY-MM, or YYYY-MM..YYYY-MM for the period")
    days: int
    credit_sales_minor: int
    opening_ar_minor: int
    ending_ar_minor: int
    current_ar_minor: int = Field(description="not yet due at the month end")
    over_90_ar_minor: int = Field(description="more than 90 days past due at the month end")
    cash_collected_minor: int
    dso: Ratio
    dso_average_ar: Ratio
    dso_countback: Ratio
    best_possible_dso: Ratio
    add: Ratio = Field(description="average days delinquent: DSO - best possible DSO")
    cei: Ratio = Field(description="collection effectiveness index, % (variant: cei_variant)")
    cei_variant: str
    percent_current: Ratio
    percent_over_90: Ratio
    turnover: Ratio
    turnover_annualised: Ratio
    dbt: Ratio = Field(description="days beyond terms of the payments of the period")


class KpiSeries(Schema):
    group: str = Field(description="company code, segment, collector's username, account number")
    label: str
    currency: str
    months: list[KpiMonth]
    period: KpiMonth
    cei_variants: dict[str, Ratio] = Field(description="the period's CEI in every variant")


class StepEffectOut(Schema):
    policy: str
    step: int
    step_name: str
    channel: str
    currency: str
    messages: int
    overdue_minor: int = Field(description="past due when the step went out")
    paid_minor: int = Field(description="of it, paid within paid_within days")
    percent_paid: Ratio


class KpiAnswer(Schema):
    first: str
    last: str
    by: str
    cei_default: str
    paid_within: int
    series: list[KpiSeries]
    dunning: list[StepEffectOut]


class KpiQuery(QueryParameters):
    first: str = Field("", alias="from", pattern=MAYBE_MONTH,
                       description="YYYY-MM; empty: 11 months before `to`")  # fmt: skip
    last: str = Field("", alias="to", pattern=MAYBE_MONTH,
                      description="YYYY-MM; empty: the last complete month")  # fmt: skip
    by: str = Field(
        "company",
        pattern=f"^({'|'.join(GROUPINGS)})$",
        description="company, segment, collector or customer",
    )
    paid_within: int = Field(DEFAULT_PAID_WITHIN, ge=1, le=365,
                             description="days after a dunning step that count as its effect")  # fmt: skip


def _two(value: Decimal | None) -> str | None:
    figure = rounded(value)
    return None if figure is None else f"{figure:.2f}"


def _month(text: str) -> date:
    return date(int(text[:4]), int(text[5:7]), 1)


def kpis_row(kpis: Kpis) -> dict[str, Any]:
    label = f"{kpis.first:%Y-%m}" if kpis.first == kpis.last else \
        f"{kpis.first:%Y-%m}..{kpis.last:%Y-%m}"  # fmt: skip
    return {
        "month": label, "days": kpis.days, "credit_sales_minor": kpis.credit_sales,
        "opening_ar_minor": kpis.opening.total, "ending_ar_minor": kpis.ending.total,
        "current_ar_minor": kpis.ending.current, "over_90_ar_minor": kpis.ending.over_90,
        "cash_collected_minor": kpis.cash_collected, "dso": _two(kpis.dso),
        "dso_average_ar": _two(kpis.dso_average_ar), "dso_countback": _two(kpis.dso_countback),
        "best_possible_dso": _two(kpis.best_possible_dso), "add": _two(kpis.add),
        "cei": _two(kpis.cei.percent), "cei_variant": kpis.cei.variant.value,
        "percent_current": _two(kpis.percent_current),
        "percent_over_90": _two(kpis.percent_over_90), "turnover": _two(kpis.turnover),
        "turnover_annualised": _two(kpis.turnover_annualised), "dbt": _two(kpis.dbt),
    }  # fmt: skip


def series_row(series: Series) -> dict[str, Any]:
    return {"group": series.group.key, "label": series.group.label, "currency": series.currency,
            "months": [kpis_row(m) for m in series.months], "period": kpis_row(series.period),
            "cei_variants": {c.variant.value: _two(c.percent)
                             for c in series.period.cei_variants}}  # fmt: skip


def effect_row(effect: StepEffect) -> dict[str, Any]:
    return {"policy": effect.policy, "step": effect.step, "step_name": effect.step_name,
            "channel": effect.channel, "currency": effect.currency, "messages": effect.messages,
            "overdue_minor": effect.overdue_minor, "paid_minor": effect.paid_minor,
            "percent_paid": _two(effect.percent_paid)}  # fmt: skip


@router.get("/kpis", response={200: KpiAnswer, **READ_ERRORS})
def kpis(request: HttpRequest, query: Query[KpiQuery]) -> Any:
    """Monthly KPIs of whole months (at most 60), per currency and group, with the period's."""
    company = read(request)
    last = _month(query.last) if query.last else add_months(
        clock.today(company).replace(day=1), -1)  # fmt: skip
    first = _month(query.first) if query.first else add_months(last, -11)
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months < 1:
        raise ApiError(400, "invalid", f"from {first:%Y-%m} is after to {last:%Y-%m}", "from")
    if months > MAX_MONTHS:
        raise ApiError(400, "invalid", f"{months} months asked: at most {MAX_MONTHS}", "from")
    report = kpi_report(company, first, last, query.by, paid_within=query.paid_within)
    return {"first": f"{first:%Y-%m}", "last": f"{last:%Y-%m}", "by": report.by,
            "cei_default": DEFAULT_CEI.value, "paid_within": report.paid_within,
            "series": [series_row(s) for s in report.series],
            "dunning": [effect_row(e) for e in report.dunning]}  # fmt: skip
