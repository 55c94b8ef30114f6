"""`dunwell worklist`: a collector's accounts in priority order, a page of 50 at a time, with why
and the next best action; `--refresh` recomputes the company's worklist first, as of `--as-of` (default today; run it
after the night's dunning run, e.g. from cron)."""

from __future__ import annotations

import io
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from dunwell.core.management.base import DunwellCommand
from dunwell.core.money import Money
from dunwell.reports.models import WorklistRow
from dunwell.reports.worklist import Filters, Page, refresh_worklist, worklist_page


def row_of(row: WorklistRow, currency: str) -> dict[str, Any]:
    return {
        "account_number": row.account_number,
        "customer": row.name,
        "collector": row.owner.username if row.owner else "",
        "overdue": str(Money.from_minor(row.overdue_minor, currency).amount),
        "currency": currency,
        "oldest_days": row.oldest_days,
        "score": row.score,
        "components": row.components,
        "why": row.explanation,
        "next_action": row.action_text,
    }


class Command(DunwellCommand):
    help = "A collector's worklist in priority order (the score, why, and the next best action)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        self.add_as_of(parser)
        parser.add_argument("--collector", help="username; 'unassigned'; left out: everyone's")
        parser.add_argument("--page", type=int, default=1, help="page of 50 (default 1)")
        parser.add_argument("--refresh", action="store_true", help="recompute the worklist first")

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        if options["page"] < 1:
            raise CommandError(f"--page {options['page']}: expected a page number from 1")
        if options["refresh"]:
            on = options["as_of"] or self.today(company)
            count = refresh_worklist(company=company, on=on, at=self.now())
            if options["format"] != "json":
                self.stdout.write(f"worklist of {company.code} refreshed: {count} accounts")
        collector = options["collector"]
        owner: int | None = None
        if collector == "unassigned":
            owner = 0
        elif collector:
            owner = self.user(collector).pk
        page = worklist_page(company, Filters(owner=owner), page=options["page"])
        currency = company.base_currency
        rows = [row_of(r, currency) for r in page.rows]
        if options["format"] == "json":
            self.emit_json({
                "company": company.code, "collector": collector or "",
                "as_of": page.as_of.isoformat() if page.as_of else None, "page": page.number,
                "accounts": page.total, "more_accounts": page.more, "has_next": page.has_next,
                "rows": rows,
            })  # fmt: skip
        else:
            self._table(page, rows, company.legal_name)

    def _table(self, page: Page, rows: list[dict[str, Any]], name: str) -> None:
        day = page.as_of.isoformat() if page.as_of else "never computed"
        table = Table(
            title=f"{name}: worklist as of {day}, page {page.number}, "
            f"{'more than ' if page.more else ''}{page.total} accounts"
        )
        for column in ("account", "customer", "overdue", "oldest", "score", "why", "next action"):
            table.add_column(
                column, justify="right" if column in ("overdue", "oldest", "score") else "left"
            )
        for r in rows:
            table.add_row(r["account_number"], r["customer"], f"{r['currency']} {r['overdue']}",
                          str(r["oldest_days"]), str(r["score"]), r["why"], r["next_action"])  # fmt: skip
        buffer = io.StringIO()
        Console(file=buffer, width=200).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
