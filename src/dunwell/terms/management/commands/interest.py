"""`dunwell interest calc`: what the law (or a contract) allows on a late debt, period by period."""

from __future__ import annotations

import io
from argparse import ArgumentTypeError
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from dunwell.core import clock
from dunwell.core.management.base import DunwellCommand, parse_iso_date
from dunwell.core.money import Money, MoneyError, exponent, parse_amount
from dunwell.terms.rules import interest
from dunwell.terms.rules.interest import DayCount, InterestError, Reduction
from dunwell.terms.services import reference_rates


def _money(text: str) -> Decimal:
    try:
        value = parse_amount(text)
    except MoneyError:
        raise ArgumentTypeError(f"{text!r} is not an amount: expected e.g. 10000.00") from None
    return value


def _payment(text: str) -> tuple[date, Decimal]:
    day, sep, amount = text.partition("=")
    if not sep:
        raise ArgumentTypeError(
            f"--payment {text!r}: expected DATE=AMOUNT, e.g. 2025-04-01=2500.00"
        )
    return parse_iso_date(day.strip()), _money(amount.strip())


def _major(minor: int | Decimal, currency: str, places: int | None = None) -> str:
    value = Decimal(minor).scaleb(-exponent(currency))
    shown = exponent(currency) if places is None else places
    return f"{value.quantize(Decimal(1).scaleb(-shown)):f}"


class Command(DunwellCommand):
    help = (
        "Late-payment interest and fixed compensation under a statute (EU, DE, FR, NL, FI, UK) or "
        "a contractual rate, period by period, from the stored reference rates."
    )
    needs_company = False

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{calc}")
        calc = actions.add_parser("calc", help="interest on one late debt")
        law = calc.add_mutually_exclusive_group(required=True)
        law.add_argument("--jurisdiction", help=f"statute: {', '.join(interest.STATUTES)}")
        law.add_argument("--rate", type=Decimal, help="a contractual annual rate in percent")
        calc.add_argument("--grace", type=int, default=0, help="contract: days of grace")
        calc.add_argument("--amount", required=True, type=_money, help="the debt, e.g. 10000.00")
        calc.add_argument("--currency", help="ISO code (default: EUR, GBP for UK)")
        calc.add_argument("--due", required=True, type=parse_iso_date, help="due date")
        calc.add_argument(
            "--paid", type=parse_iso_date, help="day the money arrived (default: today)"
        )
        calc.add_argument(
            "--payment",
            action="append",
            type=_payment,
            default=[],
            metavar="DATE=AMOUNT",
            help="a part paid earlier, by value date (repeatable)",
        )
        calc.add_argument(
            "--day-count", choices=[d.value for d in DayCount], default=DayCount.ACT_365F.value
        )
        calc.add_argument(
            "--debtor", choices=("business", "public", "consumer"), default="business"
        )
        self.add_format(calc)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            law = interest.statute(options["jurisdiction"]) if options["jurisdiction"] else None
        except InterestError as error:
            raise CommandError(str(error)) from None
        currency = (options["currency"] or (law.compensation_currency if law else "EUR")).upper()
        try:
            amount = Money(options["amount"], currency).minor
            payments = [Reduction(day, Money(value, currency).minor)
                        for day, value in options["payment"]]  # fmt: skip
        except MoneyError as error:
            raise CommandError(str(error)) from None
        until = options["paid"] or clock.today()
        day_count = DayCount(options["day_count"])
        try:
            if law is not None:
                result = interest.statutory_interest(
                    law,
                    amount_minor=amount,
                    due_on=options["due"],
                    until=until,
                    rates=reference_rates(),
                    reductions=payments,
                    day_count=day_count,
                    consumer=options["debtor"] == "consumer",
                )
            else:
                result = interest.contractual_interest(
                    annual_percent=options["rate"],
                    amount_minor=amount,
                    due_on=options["due"],
                    until=until,
                    grace_days=options["grace"],
                    reductions=payments,
                    day_count=day_count,
                )
        except InterestError as error:
            raise CommandError(str(error)) from None
        payload = self._payload(law, options, currency, amount, until, result)
        if options["format"] == "json":
            self.emit_json(payload)
        else:
            self._table(payload)

    def _payload(
        self,
        law: interest.Statute | None,
        options: dict[str, Any],
        currency: str,
        amount: int,
        until: date,
        result: interest.Interest,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "jurisdiction": law.code if law else None,
            "law": law.name if law else f"contract: {options['rate']} % a year",
            "citation": law.citation if law else "",
            "debtor": options["debtor"],
            "amount": _major(amount, currency),
            "currency": currency,
            "due": options["due"].isoformat(),
            "until": until.isoformat(),
            "days_late": result.days_late,
            "day_count": result.day_count.value,
            "periods": [
                {
                    "from": p.start.isoformat(),
                    "to": p.end.isoformat(),
                    "days": p.days,
                    "base": _major(p.base_minor, currency),
                    "rate_percent": f"{p.percent.normalize():f}",
                    "year_days": p.year_days,
                    "interest": _major(p.interest_minor, currency, places=4),
                    "reason": p.reason,
                }
                for p in result.periods
            ],
            "interest": _major(result.interest_minor, currency),
        }
        if law is not None:
            payload["compensation"] = {
                "amount": _major(result.compensation_minor, law.compensation_currency),
                "currency": law.compensation_currency,
            }
            payload["partial_payments_go_to"] = [part.value for part in law.payment_order]
        payload["notes"] = list(result.notes)
        return payload

    def _table(self, payload: dict[str, Any]) -> None:
        buffer = io.StringIO()
        console = Console(file=buffer, width=140, highlight=False)
        title = (
            f"{payload['law']}: {payload['amount']} {payload['currency']} due {payload['due']}, "
            f"paid {payload['until']} ({payload['days_late']} days late, {payload['day_count']})"
        )
        console.print(title)
        table = Table()
        for name in ("from", "to", "days", "base", "rate %", "interest"):
            table.add_column(name, justify="right" if name != "from" else "left")
        for p in payload["periods"]:
            table.add_row(p["from"], p["to"], str(p["days"]), p["base"], p["rate_percent"],
                          p["interest"])  # fmt: skip
        console.print(table)
        console.print(f"interest: {payload['interest']} {payload['currency']}")
        if "compensation" in payload:
            compensation = payload["compensation"]
            console.print(
                f"fixed compensation: {compensation['amount']} {compensation['currency']}"
            )
            order = " -> ".join(payload["partial_payments_go_to"])
            console.print(f"partial payments go to: {order}  ({payload['citation']})")
        for note in payload["notes"]:
            console.print(f"note: {note}")
        self.stdout.write(buffer.getvalue(), ending="")
