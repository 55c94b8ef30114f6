"""`dunwell history`: a customer's or an invoice's timeline, filtered, as table, CSV or JSON.

    dunwell history --customer C001 [--invoice N] [--kind GROUP ...] [--from D] [--to D]
                    [--by USER] [--text WORDS] [--format table|csv|json]

It lives in `reports` (not as `dunwell case history`): the timeline read model is
`reports.timeline`, and `cases` sits below `reports` in the layers, so the `case` command may not
import it. Every matching entry is written, newest first, read in keyset chunks.
"""

from __future__ import annotations

import csv
import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.core.management.base import DunwellCommand, parse_iso_date
from dunwell.ledger.models import Customer, OpenItem
from dunwell.reports import timeline
from dunwell.reports.cells import safe_cell

TABLE_COLUMNS = ("id", "recorded_at", "kind", "invoice", "amount", "currency", "by", "summary")


class Command(DunwellCommand):
    help = "A customer's (or one invoice's) history, newest first, with the timeline's filters."
    formats = ("table", "csv", "json")

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--customer", required=True, help="account number")
        parser.add_argument("--invoice", help="only this invoice's history (its number)")
        parser.add_argument("--kind", action="append", default=[], choices=list(timeline.GROUPS),
                            help="a group of kinds; repeat for several")  # fmt: skip
        parser.add_argument("--from", dest="on_from", type=parse_iso_date, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="on_to", type=parse_iso_date, help="YYYY-MM-DD")
        parser.add_argument("--by", default="", help="who recorded it (username or label)")
        parser.add_argument("--text", default="", help="the summary contains")

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        number = options["customer"]
        customer = Customer.objects.filter(company=company, account_number=number).first()
        if customer is None:
            raise CommandError(f"--customer: no customer {number!r} in {company.code}")
        item = None
        if options["invoice"]:
            item = OpenItem.objects.filter(company=company, customer=customer,
                                           number=options["invoice"].strip()).first()  # fmt: skip
            if item is None:
                raise CommandError(f"--invoice: {number} has no invoice {options['invoice']!r}")
        try:
            filters = timeline.Filters(groups=tuple(options["kind"]), on_from=options["on_from"],
                                       on_to=options["on_to"], actor=options["by"],
                                       text=options["text"])  # fmt: skip
        except ValueError as error:
            raise CommandError(f"--from/--to: {error}") from None
        rows = timeline.export_rows(company, customer=None if item else customer, item=item,
                                    filters=filters)  # fmt: skip
        if options["format"] == "json":
            self.emit_json(list(rows))
        elif options["format"] == "csv":
            writer = csv.writer(self.stdout)
            writer.writerow(timeline.COLUMNS)
            for row in rows:
                flat = {**row, "data": json.dumps(row["data"], sort_keys=True, default=str)}
                writer.writerow([safe_cell(flat[c]) for c in timeline.COLUMNS])
        else:
            shown = 0
            for row in rows:
                shown += 1
                self.stdout.write("  ".join(str(row[c]) for c in TABLE_COLUMNS if row[c] != ""))
                if row["corrects"]:
                    self.stdout.write(f"    corrects entry {row['corrects']}")
            if not shown:
                self.stdout.write("no entries match")
