"""The aging report's per-customer rows as CSV or XLSX: plain decimal amounts, one row a line.

CSV text cells that start like a formula are neutralised (`reports.cells.safe_cell`)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import Workbook

from dunwell.core.money import Money
from dunwell.reports.aging import AgingReport
from dunwell.reports.cells import safe_cell


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
