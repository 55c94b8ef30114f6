"""`dunwell kpi`: monthly DSO, CEI, ADD and the other receivables KPIs, per company, segment,
collector or customer and currency, and the dunning effectiveness of the period.

    dunwell kpi [--from YYYY-MM] [--to YYYY-MM] [--by company|segment|collector|customer]
                [--paid-within DAYS] [--format table|csv|json] [--company CODE]

Default period: the twelve months up to the last complete one. Amounts are exact decimal strings
of their currency; days, percentages and turnover have two decimals; a KPI that is not defined
(no sales, no AR) is empty in CSV, null in JSON and "-" in the table.
"""

from __future__ import annotations

import csv
import io
import re
from argparse import ArgumentTypeError
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from dunwell.core.dates import add_months
from dunwell.core.management.base import DunwellCommand
from dunwell.core.money import Money
from dunwell.reports.cells import safe_cell
from dunwell.reports.kpi import (
    DEFAULT_PAID_WITHIN,
    GROUPINGS,
    KpiReport,
    Series,
    StepEffect,
    kpi_report,
)
from dunwell.reports.rules.kpi import DEFAULT_CEI, Kpis, rounded

MONTH = re.compile(r"(\d{4})-(\d{2})")
COLUMNS = (
    "group_key", "group", "currency", "month", "days", "credit_sales", "opening_ar", "ending_ar",
    "current_ar", "over_90_ar", "cash_collected", "dso", "dso_average_ar", "dso_countback",
    "best_possible_dso", "add", "cei", "cei_variant", "percent_current", "percent_over_90",
    "turnover", "turnover_annualised", "dbt",
)  # fmt: skip
TABLE = (
    ("month", "month"), ("credit_sales", "sales"), ("ending_ar", "AR"), ("current_ar", "current"),
    ("over_90_ar", "> 90 d"), ("cash_collected", "cash"), ("dso", "DSO"),
    ("dso_countback", "countback"), ("best_possible_dso", "best DSO"), ("add", "ADD"),
    ("cei", "CEI %"), ("percent_current", "% current"), ("percent_over_90", "% > 90 d"),
    ("dbt", "DBT"),
)  # fmt: skip


def parse_month(text: str) -> date:
    found = MONTH.fullmatch(text.strip())
    if found is None or not 1 <= int(found[2]) <= 12:
        raise ArgumentTypeError(f"{text!r} is not a month: expected YYYY-MM, e.g. 2025-01")
    return date(int(found[1]), int(found[2]), 1)


def _two(value: Decimal | None) -> str | None:
    figure = rounded(value)
    return None if figure is None else f"{figure:.2f}"


def _amount(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency).amount)


def kpi_row(kpis: Kpis, currency: str) -> dict[str, Any]:
    """One month's or the period's figures as text: exact amounts, two-decimal ratios."""
    month = (
        f"{kpis.first:%Y-%m}"
        if kpis.first == kpis.last
        else f"{kpis.first:%Y-%m}..{kpis.last:%Y-%m}"
    )
    return {
        "month": month,
        "days": kpis.days,
        "credit_sales": _amount(kpis.credit_sales, currency),
        "opening_ar": _amount(kpis.opening.total, currency),
        "ending_ar": _amount(kpis.ending.total, currency),
        "current_ar": _amount(kpis.ending.current, currency),
        "over_90_ar": _amount(kpis.ending.over_90, currency),
        "cash_collected": _amount(kpis.cash_collected, currency),
        "dso": _two(kpis.dso),
        "dso_average_ar": _two(kpis.dso_average_ar),
        "dso_countback": _two(kpis.dso_countback),
        "best_possible_dso": _two(kpis.best_possible_dso),
        "add": _two(kpis.add),
        "cei": _two(kpis.cei.percent),
        "cei_variant": kpis.cei.variant.value,
        "percent_current": _two(kpis.percent_current),
        "percent_over_90": _two(kpis.percent_over_90),
        "turnover": _two(kpis.turnover),
        "turnover_annualised": _two(kpis.turnover_annualised),
        "dbt": _two(kpis.dbt),
    }


def series_json(series: Series) -> dict[str, Any]:
    period = kpi_row(series.period, series.currency)
    period["cei_variants"] = {c.variant.value: _two(c.percent) for c in series.period.cei_variants}
    return {
        "group": series.group.key,
        "label": series.group.label,
        "currency": series.currency,
        "months": [kpi_row(m, series.currency) for m in series.months],
        "period": period,
    }


def effect_json(effect: StepEffect) -> dict[str, Any]:
    return {
        "policy": effect.policy,
        "step": effect.step,
        "step_name": effect.step_name,
        "channel": effect.channel,
        "currency": effect.currency,
        "messages": effect.messages,
        "overdue": _amount(effect.overdue_minor, effect.currency),
        "paid": _amount(effect.paid_minor, effect.currency),
        "percent_paid": _two(effect.percent_paid),
    }


class Command(DunwellCommand):
    help = (
        "Monthly receivables KPIs (DSO, countback, best possible DSO, ADD, CEI, % current, "
        "turnover, DBT) and dunning effectiveness, never summed across currencies."
    )
    formats = ("table", "csv", "json")

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--from", dest="first", type=parse_month, metavar="YYYY-MM",
                            help="first month (default: 11 months before --to)")  # fmt: skip
        parser.add_argument("--to", dest="last", type=parse_month, metavar="YYYY-MM",
                            help="last month (default: the last complete month)")  # fmt: skip
        parser.add_argument("--by", choices=GROUPINGS, default="company")
        parser.add_argument(
            "--paid-within",
            type=int,
            default=DEFAULT_PAID_WITHIN,
            metavar="DAYS",
            help="dunning effectiveness: paid within this many days after a step (default 30)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        last = options["last"] or add_months(self.today(company).replace(day=1), -1)
        first = options["first"] or add_months(last, -11)
        if first > last:
            raise CommandError(
                f"--from {first:%Y-%m} is after --to {last:%Y-%m}: expected --from <= --to"
            )
        if options["paid_within"] < 1:
            raise CommandError(f"--paid-within {options['paid_within']}: expected a number of "
                               "days, at least 1")  # fmt: skip
        try:
            report = kpi_report(company, first, last, options["by"],
                                paid_within=options["paid_within"])  # fmt: skip
        except ValueError as exc:
            raise CommandError(f"--from/--to: {exc}") from None
        if options["format"] == "json":
            self.emit_json(
                {
                    "company": company.code,
                    "from": f"{first:%Y-%m}",
                    "to": f"{last:%Y-%m}",
                    "by": report.by,
                    "cei_default": DEFAULT_CEI.value,
                    "series": [series_json(s) for s in report.series],
                    "dunning": {
                        "paid_within_days": report.paid_within,
                        "steps": [effect_json(e) for e in report.dunning],
                    },
                }
            )
        elif options["format"] == "csv":
            self._csv(report)
        else:
            self._tables(report, company.legal_name)

    def _csv(self, report: KpiReport) -> None:
        writer = csv.DictWriter(self.stdout, fieldnames=COLUMNS)
        writer.writeheader()
        for series in report.series:
            group = {"group_key": safe_cell(series.group.key),
                     "group": safe_cell(series.group.label), "currency": series.currency}  # fmt: skip
            for kpis in [*series.months, series.period]:
                writer.writerow(group | kpi_row(kpis, series.currency))

    def _tables(self, report: KpiReport, name: str) -> None:
        buffer = io.StringIO()
        console = Console(file=buffer, width=200)
        period = f"{report.first:%Y-%m} to {report.last:%Y-%m}"
        if not report.series:
            console.print(f"{name}: nothing owed, sold or collected from {period}")
        for series in report.series:
            of = name if report.by == "company" else f"{name}: {series.group.label}"
            table = Table(title=f"{of} ({series.currency}), {period}; "
                          f"period CEI: {DEFAULT_CEI.value.replace('_', ' ')}")  # fmt: skip
            for index, (_, title) in enumerate(TABLE):
                table.add_column(title, justify="left" if index == 0 else "right")
            for kpis in series.months:
                table.add_row(*self._cells(kpi_row(kpis, series.currency)))
            total = kpi_row(series.period, series.currency)
            table.add_row(*self._cells(total | {"month": "period"}), style="bold")
            console.print(table)
        if report.dunning:
            table = Table(title=f"Dunning effectiveness: paid within {report.paid_within} days")
            for title in ("policy", "step", "channel", "currency", "messages", "overdue", "paid",
                          "% paid"):  # fmt: skip
                table.add_column(title, justify="left" if title in ("policy", "step") else "right")
            for effect in report.dunning:
                row = effect_json(effect)
                table.add_row(effect.policy, f"{effect.step} {effect.step_name}", effect.channel,
                              effect.currency, str(effect.messages), row["overdue"], row["paid"],
                              row["percent_paid"] or "-")  # fmt: skip
            console.print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    @staticmethod
    def _cells(row: dict[str, Any]) -> list[str]:
        return ["-" if row[key] is None else str(row[key]) for key, _ in TABLE]
