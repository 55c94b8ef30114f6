"""`dunwell rates add|list`: the published reference rates statutory interest is computed from."""

from __future__ import annotations

from argparse import ArgumentTypeError
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import CommandParser

from dunwell.core.management.base import DunwellCommand, parse_iso_date
from dunwell.terms.models import ReferenceRate
from dunwell.terms.rules.interest import RateKind
from dunwell.terms.services import add_reference_rate


def percent(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ArgumentTypeError(f"{text!r}: expected a number such as 2.15") from None
    if not value.is_finite():
        raise ArgumentTypeError(f"{text!r}: expected a number such as 2.15")
    return value


class Command(DunwellCommand):
    help = (
        "Add, confirm and list reference rates (ECB main refinancing rate, Basiszinssatz, "
        "Bank of England Bank Rate), shared by all companies."
    )
    needs_company = False

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = [k.value for k in RateKind]
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,list}")
        add = actions.add_parser(
            "add",
            help="a rate from the day it applies; the same day and rate again with a later "
            "--checked-on confirms it is still in force",
        )
        add.add_argument("--kind", required=True, choices=kinds)
        add.add_argument("--from", dest="valid_from", required=True, type=parse_iso_date,
                         help="the day it applies, YYYY-MM-DD")  # fmt: skip
        add.add_argument("--percent", required=True, type=percent, help="e.g. 2.15")
        add.add_argument("--checked-on", type=parse_iso_date,
                         help="the last day it was confirmed in force (default: --from)")  # fmt: skip
        add.add_argument("--source", default="", help="where it is from")
        listing = actions.add_parser("list", help="the stored rates, oldest first")
        listing.add_argument("--kind", choices=kinds)
        for sub in (add, listing):
            self.add_format(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "add":
            row = add_reference_rate(
                kind=RateKind(options["kind"]),
                valid_from=options["valid_from"],
                percent=options["percent"],
                checked_on=options["checked_on"],
                source=options["source"],
            )
            rows = [row]
        else:
            query = ReferenceRate.objects.all()
            if options["kind"]:
                query = query.filter(kind=options["kind"])
            rows = list(query)
        if options["format"] == "json":
            self.emit_json(
                [
                    {
                        "kind": r.kind,
                        "from": r.valid_from.isoformat(),
                        "percent": f"{r.percent.normalize():f}",
                        "checked_on": r.checked_on.isoformat(),
                        "source": r.source,
                    }
                    for r in rows
                ]
            )
            return
        if not rows:
            self.stdout.write("no reference rates: add one with `dunwell rates add`")
        for r in rows:
            self.stdout.write(
                f"{r.kind:8} from {r.valid_from.isoformat()}  {r.percent.normalize():>6f} %  "
                f"checked {r.checked_on.isoformat()}  {r.source}"
            )
