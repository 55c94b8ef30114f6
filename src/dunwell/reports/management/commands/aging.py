"""`dunwell aging`: the as-of aged balance, per customer or per currency, as table, CSV or JSON."""

from __future__ import annotations

import csv
import io
from argparse import ArgumentTypeError
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from dunwell.core.management.base import DunwellCommand
from dunwell.core.money import Money
from dunwell.reports.aging import DEFAULT_BOUNDS, AgingReport, AgingRow, aging


def parse_bounds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ArgumentTypeError(
            f"--buckets {text!r}: expected day limits like 30,60,90,120"
        ) from None


def _amount(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency).amount)


def report_rows(report: AgingReport, by: str) -> list[dict[str, Any]]:
    """Flat rows for CSV and JSON: amounts as exact decimal strings in each currency."""
    source: list[AgingRow] = report.rows if by == "customer" else list(report.totals.values())
    rows = []
    for row in source:
        entry: dict[str, Any] = {}
        if by == "customer":
            entry |= {"account_number": row.account_number, "customer": row.name}
        entry["currency"] = row.currency
        for label, minor in zip(report.labels, row.buckets, strict=True):
            entry[label] = _amount(minor, row.currency)
        entry["total"] = _amount(row.total_minor, row.currency)
        entry["unapplied"] = _amount(row.unapplied_minor, row.currency)
        entry["balance"] = _amount(row.balance_minor, row.currency)
        rows.append(entry)
    return rows


class Command(DunwellCommand):
    help = "Aged balance as of a date (reconstructed from allocation dates), never summed across currencies."
    formats = ("table", "csv", "json")

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        self.add_as_of(parser)
        parser.add_argument("--by", choices=("customer", "currency"), default="customer")
        parser.add_argument(
            "--buckets",
            type=parse_bounds,
            default=DEFAULT_BOUNDS,
            help="upper day limits of the overdue buckets (default 30,60,90,120)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        as_of = options["as_of"] or self.today(company)
        try:
            report = aging(company, as_of, options["buckets"])
        except ValueError as exc:
            raise CommandError(f"--buckets: {exc}") from None
        rows = report_rows(report, options["by"])
        if options["format"] == "json":
            totals = report_rows(report, "currency")
            self.emit_json(
                {
                    "company": company.code,
                    "as_of": as_of.isoformat(),
                    "by": options["by"],
                    "buckets": list(report.labels),
                    "rows": rows,
                    "totals": totals,
                }
            )
        elif options["format"] == "csv":
            if rows:
                writer = csv.DictWriter(self.stdout, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        else:
            self._table(report, rows, options["by"], company.legal_name)

    def _table(self, report: AgingReport, rows: list[dict[str, Any]], by: str, name: str) -> None:
        table = Table(title=f"{name}: aged balance as of {report.as_of.isoformat()}")
        for column in rows[0] if rows else ["currency", *report.labels]:
            table.add_column(
                column,
                justify="left" if column in ("account_number", "customer", "currency") else "right",
            )
        for row in rows:
            table.add_row(*(str(v) for v in row.values()))
        if by == "customer":
            for total in report_rows(report, "currency"):
                table.add_row("", "Total", *(str(v) for v in total.values()), style="bold")
        buffer = io.StringIO()
        Console(file=buffer, width=200).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
