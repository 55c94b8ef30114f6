"""`dunwell fx add|list`: the dated exchange rates that payments in another currency are converted at."""

from __future__ import annotations

from argparse import ArgumentTypeError
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.core.errors import DunwellError
from dunwell.core.management.base import DunwellCommand, parse_iso_date
from dunwell.core.models import FxRate
from dunwell.core.money import MoneyError, check_currency
from dunwell.ledger.services.fx import set_rate


def currency(text: str) -> str:
    code = text.strip().upper()
    try:
        check_currency(code)
    except MoneyError:
        raise ArgumentTypeError(
            f"{text!r} is not a currency: expected an ISO 4217 code, e.g. EUR"
        ) from None
    return code


def rate(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ArgumentTypeError(f"{text!r}: expected a number such as 1.0842") from None
    if not value.is_finite() or value <= 0:
        raise ArgumentTypeError(f"{text!r}: expected a number above zero")
    return value


class Command(DunwellCommand):
    help = "Add and list dated exchange rates (1 BASE = RATE QUOTE), shared by all companies."
    needs_company = False

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,list}")
        add = actions.add_parser("add", help="add (or correct) the rate of one day")
        add.add_argument("--on", required=True, type=parse_iso_date, help="the day, YYYY-MM-DD")
        add.add_argument("--base", required=True, type=currency, help="e.g. EUR")
        add.add_argument("--quote", required=True, type=currency, help="e.g. USD")
        add.add_argument("--rate", required=True, type=rate, help="units of QUOTE for one BASE")
        add.add_argument("--source", default="", help="where it is from, e.g. ECB")
        listing = actions.add_parser("list", help="the rates, newest first")
        listing.add_argument("--base", type=currency)
        listing.add_argument("--quote", type=currency)
        listing.add_argument("--limit", type=int, default=50)
        for sub in (add, listing):
            self.add_format(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "add":
            if options["base"] == options["quote"]:
                raise CommandError("--base and --quote are the same currency")
            try:
                row = set_rate(base=options["base"], quote=options["quote"], on=options["on"],
                               rate=options["rate"], source=options["source"])  # fmt: skip
            except DunwellError as error:
                raise CommandError(error.message) from None
            rows = [row]
        else:
            query = FxRate.objects.order_by("-on", "base", "quote")
            if options["base"]:
                query = query.filter(base=options["base"])
            if options["quote"]:
                query = query.filter(quote=options["quote"])
            rows = list(query[: options["limit"]])
        if options["format"] == "json":
            self.emit_json(
                [
                    {
                        "on": r.on.isoformat(),
                        "base": r.base,
                        "quote": r.quote,
                        "rate": str(r.rate),
                        "source": r.source,
                    }
                    for r in rows
                ]
            )
            return
        if not rows:
            self.stdout.write("no exchange rates yet: add one with `dunwell fx add`")
        for r in rows:
            self.stdout.write(
                f"{r.on.isoformat()}  1 {r.base} = {r.rate.normalize()} {r.quote}  {r.source}"
            )
