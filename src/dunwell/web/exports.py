"""The aging report's per-customer rows as CSV or XLSX: plain decimal amounts, one row a line."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import Workbook

from dunwell.core.money import Money
from dunwell.reports.aging import AgingReport


def _amount(minor: int, currency: str) -> Decimal:
    return Money.from_minor(minor, currency).amount


def aging_table(report: AgingReport) -> list[list[object]]:
    header: list[object] = ["account", "customer", "currency", *report.labels]
    table = [[*header, "total", "unapplied", "balance"]]
    for row in report.rows:
        amounts = [*row.buckets, row.total_minor, row.unapplied_minor, row.balance_minor]
        table.append(
            [
                row.account_number,
                row.name,
                row.currency,
                *(_amount(a, row.currency) for a in amounts),
            ]
        )
    return table


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (= + - @, tab, CR first) gets a leading
    apostrophe (OWASP's CSV injection advice); numbers and other values stay as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def as_csv(table: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([safe_cell(cell) for cell in line] for line in table)
    return buffer.getvalue().encode("utf-8")


def as_xlsx(table: list[list[object]], title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = title[:31]
    for line in table:
        sheet.append(line)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
