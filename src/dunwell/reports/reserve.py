"""The bad-debt reserve of a company on a date, and its movement over a period (issue 7 point 5).

The reserve is read off the as-of aging (`reports.aging`, per customer and currency), each
customer's buckets counted as what it owes (`rules.reserve.owed`), grouped by the rates that apply
to its segment on that date, and priced with those rates once per bucket total. Rates are the
company's (`ReserveRates`, per segment, from a date); a segment without its own uses the company's
rates for all customers, and a company that has set none gets the illustrative demo matrix,
reported as such. Amounts stay in their currency; the base-currency total converts each
currency's reserve at the rate of the as-of date (`ledger.services.fx.rate_on`).

The movement of a period (start, end]: the reserve at the start and at the end, the write-offs
booked in between (the losses the reserve was there for), and the charge that reconciles them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Sum

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.core.money import Money, convert
from dunwell.ledger.models import Customer, WriteOff
from dunwell.ledger.services import activity
from dunwell.ledger.services.fx import rate_on
from dunwell.reports.aging import DEFAULT_BOUNDS, aging
from dunwell.reports.models import ReserveRates
from dunwell.reports.rules.reserve import (
    BUCKETS,
    DEMO_RATES,
    Rates,
    RollForward,
    owed,
    reserve_of,
    roll_forward,
)

ALL = ""  # the segment key of the company's rates for every customer


@dataclass(frozen=True)
class StoredRates:
    """Rates as they apply: which row they come from (None: the illustrative default)."""

    rates: Rates
    segment: str
    effective_on: date | None
    reason: str
    row_id: int | None = None

    @property
    def default(self) -> bool:
        return self.row_id is None


def rates_of(row: ReserveRates) -> Rates:
    return Rates(tuple(Decimal(getattr(row, name)) for name in ReserveRates.PERCENT_FIELDS))


def rates_on(company: Company, on: date) -> dict[str, StoredRates]:
    """The rates standing on `on`, per segment that has its own, and under `ALL` the company's
    (or the illustrative default)."""
    standing: dict[str, StoredRates] = {}
    rows = ReserveRates.objects.filter(company=company, effective_on__lte=on).order_by(
        "segment", "-effective_on", "-pk"
    )
    for row in rows:
        if row.segment not in standing:
            standing[row.segment] = StoredRates(
                rates_of(row), row.segment, row.effective_on, row.reason, row.pk
            )
    if ALL not in standing:
        standing[ALL] = StoredRates(DEMO_RATES, ALL, None, "illustrative default: set your own")
    return standing


@dataclass
class ReserveLine:
    """One currency and rate group: the bases, rates and reserves per bucket."""

    currency: str
    segment: str  # the rates' segment ("" = the company's rates for all customers)
    rates: StoredRates
    bases: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))

    @property
    def reserves(self) -> list[int]:
        return reserve_of(self.bases, self.rates.rates)

    @property
    def base_minor(self) -> int:
        return sum(self.bases)

    @property
    def reserve_minor(self) -> int:
        return sum(self.reserves)


@dataclass
class ReserveReport:
    as_of: date
    base_currency: str
    lines: list[ReserveLine]
    # per currency: the receivables and the reserve, in that currency
    totals: dict[str, tuple[int, int]]
    # the reserve of all currencies in the base currency (None: a rate is missing) and why not
    base_total_minor: int | None
    missing_rate: str = ""

    @property
    def uses_default(self) -> bool:
        return any(line.rates.default for line in self.lines)


def reserve(company: Company, as_of: date) -> ReserveReport:
    """The reserve on `as_of` per currency and rate group, with the totals."""
    standing = rates_on(company, as_of)
    report = aging(company, as_of, DEFAULT_BOUNDS, with_names=False)
    segments = dict(
        Customer.objects.filter(pk__in={row.customer_id for row in report.rows}).values_list(
            "pk", "segment"
        )
    )
    lines: dict[tuple[str, str], ReserveLine] = {}
    for row in report.rows:
        segment = segments.get(row.customer_id, "")
        key = segment if segment in standing else ALL
        line = lines.get((row.currency, key))
        if line is None:
            line = lines[(row.currency, key)] = ReserveLine(row.currency, key, standing[key])
        line.bases = [a + b for a, b in zip(line.bases, owed(row.buckets), strict=True)]
    ordered = [lines[key] for key in sorted(lines, key=lambda k: (k[0], k[1] == ALL, k[1]))]
    totals: dict[str, tuple[int, int]] = {}
    for line in ordered:
        base, reserved = totals.get(line.currency, (0, 0))
        totals[line.currency] = (base + line.base_minor, reserved + line.reserve_minor)
    base_total, missing = _in_base(company.base_currency, as_of, totals)
    return ReserveReport(as_of, company.base_currency, ordered, totals, base_total, missing)


def _in_base(base: str, on: date, totals: dict[str, tuple[int, int]]) -> tuple[int | None, str]:
    total = 0
    for currency, (_, reserved) in totals.items():
        if currency == base:
            total += reserved
            continue
        try:
            rate, _on = rate_on(currency, base, on)
        except DunwellError as error:  # no rate near the date: the per-currency totals stand
            return None, error.message
        total += convert(Money.from_minor(reserved, currency), rate, base).minor
    return total, ""


@dataclass
class Movement:
    start: date
    end: date
    opening: ReserveReport
    closing: ReserveReport
    by_currency: dict[str, RollForward]


def written_off(company: Company, start: date, end: date) -> dict[str, int]:
    """Amounts written off in (start, end], per currency of the items."""
    rows = (
        WriteOff.objects.filter(company=company, on__gt=start, on__lte=end)
        .values("item__currency")
        .annotate(total=Sum("amount_minor"))
    )
    return {row["item__currency"]: int(row["total"]) for row in rows}


def movement(company: Company, start: date, end: date) -> Movement:
    """The reserve's roll-forward from `start` to `end`, per currency."""
    if end <= start:
        raise ValueError(f"the period ends ({end}) on or before it starts ({start})")
    opening, closing = reserve(company, start), reserve(company, end)
    losses = written_off(company, start, end)
    currencies = sorted(set(opening.totals) | set(closing.totals) | set(losses))
    by_currency = {
        currency: roll_forward(
            opening.totals.get(currency, (0, 0))[1],
            closing.totals.get(currency, (0, 0))[1],
            losses.get(currency, 0),
        )
        for currency in currencies
    }
    return Movement(start, end, opening, closing, dict(by_currency))


def set_rates(
    *,
    company: Company,
    rates: Rates,
    segment: str,
    effective_on: date,
    reason: str,
    at: datetime,
    actor: User | None = None,
) -> ReserveRates:
    """New rates from `effective_on` for `segment` ("" for all customers), with a reason. The
    rates that stood before stay on record (and in every reserve dated before). The rates that
    already stand from that day, set again, record nothing."""
    segment, reason = segment.strip(), reason.strip()
    if not reason:
        raise DunwellError(ErrorCode.INVALID, "new reserve rates need a reason", field="reason")
    if segment and not Customer.objects.filter(company=company, segment=segment).exists():
        raise DunwellError(ErrorCode.INVALID, f"no customer of {company.code} is in segment "
                           f"{segment!r}", field="segment")  # fmt: skip
    values = dict(zip(ReserveRates.PERCENT_FIELDS, rates.percents, strict=True))
    same = ReserveRates.objects.filter(company=company, segment=segment,
                                       effective_on=effective_on, **values).order_by("-pk")  # fmt: skip
    standing = ReserveRates.objects.filter(company=company, segment=segment,
                                           effective_on=effective_on).order_by("-pk").first()  # fmt: skip
    if standing is not None and same.filter(pk=standing.pk).exists():
        return standing  # the same rates from the same day again (a re-run): nothing new
    return ReserveRates.objects.create(
        company=company, segment=segment, effective_on=effective_on, reason=reason[:200],
        created_at=at, created_by=activity.stored_actor(actor), **values,
    )  # fmt: skip
