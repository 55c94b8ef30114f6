"""`dunwell reserve [--as-of D] [--from D]`: the bad-debt reserve by aging bucket (and its
roll-forward since --from); `dunwell reserve rates [--set R --from D --reason T [--segment S]]`:
the loss rates, listed or set from a date."""

from __future__ import annotations

import io
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from dunwell.core.errors import DunwellError
from dunwell.core.management.base import DunwellCommand, parse_iso_date
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.reports.models import ReserveRates
from dunwell.reports.reserve import (
    Movement,
    ReserveReport,
    StoredRates,
    movement,
    rates_of,
    reserve,
    set_rates,
)
from dunwell.reports.rules.reserve import BUCKETS, RatesError, parse_rates, share


def _amount(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency).amount)


def _percent(part: int, whole: int) -> str | None:
    found = share(part, whole)
    return None if found is None else str(found)


def _rates_row(stored: StoredRates) -> dict[str, Any]:
    return {
        "segment": stored.segment,
        "effective_on": stored.effective_on.isoformat() if stored.effective_on else None,
        "rates": [format(r.normalize(), "f") for r in stored.rates.percents],
        "source": stored.reason,
        "default": stored.default,
    }


def report_json(company: Company, report: ReserveReport) -> dict[str, Any]:
    """The reserve as JSON: amounts as exact decimal strings in their currency."""
    rates = {line.segment: line.rates for line in report.lines}
    return {
        "company": company.code,
        "as_of": report.as_of.isoformat(),
        "buckets": list(BUCKETS),
        "rates": [_rates_row(stored) for stored in rates.values()],
        "lines": [
            {
                "currency": line.currency,
                "segment": line.segment,
                "receivables": [_amount(b, line.currency) for b in line.bases],
                "rates": [format(r.normalize(), "f") for r in line.rates.rates.percents],
                "reserve": [_amount(r, line.currency) for r in line.reserves],
                "total_receivables": _amount(line.base_minor, line.currency),
                "total_reserve": _amount(line.reserve_minor, line.currency),
            }
            for line in report.lines
        ],
        "totals": [
            {
                "currency": currency,
                "receivables": _amount(base, currency),
                "reserve": _amount(reserved, currency),
                "percent": _percent(reserved, base),
            }
            for currency, (base, reserved) in report.totals.items()
        ],
        "base_currency": report.base_currency,
        "base_total": None
        if report.base_total_minor is None
        else _amount(report.base_total_minor, report.base_currency),
        "missing_rate": report.missing_rate,
    }


def movement_json(moved: Movement) -> list[dict[str, Any]]:
    return [{"currency": c, "opening": _amount(m.opening_minor, c),
             "charge": _amount(m.charge_minor, c), "written_off": _amount(m.written_off_minor, c),
             "closing": _amount(m.closing_minor, c)}
            for c, m in moved.by_currency.items()]  # fmt: skip


class Command(DunwellCommand):
    help = (
        "The bad-debt reserve by aging bucket with the company's loss rates (per segment, from a "
        "date), its roll-forward since --from, and the rates themselves (`reserve rates`)."
    )
    formats = ("table", "json")

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        self.add_as_of(parser)
        parser.add_argument("--from", dest="start", type=parse_iso_date,
                            help="also the roll-forward from this date, YYYY-MM-DD")  # fmt: skip
        actions = parser.add_subparsers(dest="action", metavar="{rates}")
        rates = actions.add_parser("rates", help="list the loss rates, or set new ones")
        rates.add_argument("--set", dest="rates", help="six percentages: current, 1-30, 31-60, "
                           "61-90, 91-120, >120, e.g. 0.5,2,5,15,35,75")  # fmt: skip
        rates.add_argument("--segment", default="", help="for one segment (default: all)")
        rates.add_argument("--from", dest="effective_on", type=parse_iso_date,
                           help="standing from this date, YYYY-MM-DD")  # fmt: skip
        rates.add_argument("--reason", default="", help="why (kept with the rates)")
        rates.add_argument("--by", help="the user who decided (username)")
        self.add_to_each(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        if options["action"] == "rates":
            self._rates(company, options)
            return
        as_of = options["as_of"] or self.today(company)
        report = reserve(company, as_of)
        shown = report_json(company, report)
        moved = None
        if options["start"] is not None:
            if options["start"] >= as_of:
                raise CommandError(f"--from {options['start']}: must be before --as-of {as_of}")
            moved = movement(company, options["start"], as_of)
            shown["movement"] = {"from": options["start"].isoformat(),
                                 "to": as_of.isoformat(), "by_currency": movement_json(moved)}  # fmt: skip
        if options["format"] == "json":
            self.emit_json(shown)
        else:
            self._table(company, shown, moved)

    def _rates(self, company: Company, options: dict[str, Any]) -> None:
        if options["rates"]:
            if options["effective_on"] is None:
                raise CommandError("--from: new rates need the date they stand from, YYYY-MM-DD")
            try:
                rates = parse_rates(options["rates"])
            except RatesError as error:
                raise CommandError(f"--set: {error}") from None
            actor = self.user(options["by"]) if options["by"] else None
            try:
                set_rates(company=company, rates=rates, segment=options["segment"],
                          effective_on=options["effective_on"], reason=options["reason"],
                          at=self.now(), actor=actor)  # fmt: skip
            except DunwellError as error:
                name = error.context.get("field", "")
                raise CommandError(
                    f"--{name}: {error.message}" if name else error.message
                ) from None
        rows = [{"segment": row.segment, "effective_on": row.effective_on.isoformat(),
                 "rates": rates_of(row).text(), "reason": row.reason,
                 "by": row.created_by.username if row.created_by else None}
                for row in ReserveRates.objects.filter(company=company).select_related("created_by")
                .order_by("segment", "-effective_on", "-pk")]  # fmt: skip
        if options["format"] == "json":
            self.emit_json(rows)
            return
        for row in rows:
            self.stdout.write(f"{row['segment'] or '(all)':<16} from {row['effective_on']}  "
                              f"{row['rates']}  {row['reason']}")  # fmt: skip
        if not rows:
            self.stdout.write(f"no loss rates set for {company.code}: the reserve uses the "
                              f"illustrative default (set your own with --set)")  # fmt: skip

    def _table(self, company: Company, shown: dict[str, Any], moved: Movement | None) -> None:
        table = Table(title=f"{company.legal_name}: bad-debt reserve as of {shown['as_of']}")
        for column in ("currency", "rates of", *BUCKETS, "total"):
            table.add_column(column, justify="left" if column in ("currency", "rates of")
                             else "right")  # fmt: skip
        for line in shown["lines"]:
            segment = line["segment"] or "all"
            table.add_row(line["currency"], segment, *line["receivables"],
                          line["total_receivables"])  # fmt: skip
            table.add_row("", "rate %", *line["rates"], "")
            table.add_row("", "reserve", *line["reserve"], line["total_reserve"], style="bold")
        buffer = io.StringIO()
        Console(file=buffer, width=200).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
        for total in shown["totals"]:
            self.stdout.write(f"{total['currency']}: reserve {total['reserve']} of "
                              f"{total['receivables']} ({total['percent']} %)")  # fmt: skip
        if shown["base_total"] is not None:
            self.stdout.write(f"in {shown['base_currency']}: {shown['base_total']}")
        elif shown["missing_rate"]:
            self.stdout.write(f"no total in {shown['base_currency']}: {shown['missing_rate']}")
        if any(r["default"] for r in shown["rates"]):
            self.stdout.write("rates: the illustrative default, not your loss experience: set "
                              "your own with `dunwell reserve rates --set`")  # fmt: skip
        if moved is not None:
            for row in shown["movement"]["by_currency"]:
                self.stdout.write(f"{row['currency']} {moved.start} -> {moved.end}: opening "
                                  f"{row['opening']} + charge {row['charge']} - written off "
                                  f"{row['written_off']} = closing {row['closing']}")  # fmt: skip
