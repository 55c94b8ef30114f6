"""Late-payment interest and fixed compensation, by statute or by contract (DOMAIN.md section 1).

Conventions (DOMAIN.md 0):

- Interest is simple, per day, on the gross open amount, from the day after the due date up to and
  including the day the money arrives (its value date): days late = paid - due.
- The day count is a parameter: ACT/365F (the statutes' arithmetic), ACT/360, or ACT/ACT (each day
  over the length of its own year).
- A partial payment or credit note reduces the base from the day after its value date: interest
  runs on the full amount up to and including that day, then on the rest.
- Each period is accrued exactly; the total is rounded once, half-up, to the minor unit.
- Reference rates are dated data (`RateSeries`). Which rate applies to which day is the statute's:

  ========  ====================================================  ========  ==============
  statute   rate                                                  changes   compensation
  ========  ====================================================  ========  ==============
  EU        ECB main refinancing rate in force on 1 Jan / 1 Jul   each      EUR 40
            of the half-year + 8 pp (Directive 2011/7/EU 2(6),    half-year
            3(2))
  DE        Basiszinssatz of the half-year + 9 pp (BGB 288(2),    each      EUR 40 (288(5))
            247); a consumer owes base + 5 pp (288(1))            half-year
  FR        ECB rate of the half-year + 10 pp (C. com. L441-10)   each      EUR 40 (D441-5)
                                                                  half-year
  NL        ECB rate of the half-year + 8 pp (BW 6:119a, 6:120),  each      EUR 40 (6:96(4))
            the base grows by each full year's interest (6:119a(3)) half-year
  FI        ECB rate rounded up to the next 0.5 pp + 8 pp         each      EUR 40
                                                                  half-year
  UK        Bank Rate on the 30 Jun / 31 Dec before interest      never     GBP 40 / 70 / 100
            starts + 8 pp, fixed for the whole delay (SI                    by debt size (5A)
            2002/1675 art. 4)
  ========  ====================================================  ========  ==============

  The commercial statutes (all but DE's consumer rate) do not reach consumers, and no fixed
  compensation is owed by one.

Worked example (DOMAIN.md 1.8 A): EUR 10,000.00 due 14 Mar 2025, paid 28 Apr 2025: 45 days; under
DE 11.27 % (2.27 + 9): 10,000 x 11.27 % x 45 / 365 = 138.95, plus EUR 40.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from dunwell.core.dates import add_months
from dunwell.core.money import round_half_up_integer

_RateOn = Callable[[date], tuple[Decimal, str]]  # a day's rate in percent, and where it is from


class InterestError(ValueError):
    """The interest cannot be computed: a rate is missing, a statute is unknown, dates conflict."""


class DayCount(StrEnum):
    ACT_365F = "ACT/365F"
    ACT_360 = "ACT/360"
    ACT_ACT = "ACT/ACT"

    def year_days(self, year: int) -> int:
        if self is DayCount.ACT_360:
            return 360
        if self is DayCount.ACT_ACT and _is_leap(year):
            return 366
        return 365


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


class RateKind(StrEnum):
    ECB_MRO = "ecb_mro"  # ECB main refinancing operations, from the day a change applies
    DE_BASE = "de_base"  # Basiszinssatz (BGB § 247), set for each 1 Jan and 1 Jul
    UK_BANK = "uk_bank"  # Bank of England Bank Rate

    @property
    def label(self) -> str:
        return {
            RateKind.ECB_MRO: "ECB main refinancing rate",
            RateKind.DE_BASE: "Basiszinssatz",
            RateKind.UK_BANK: "Bank of England Bank Rate",
        }[self]


@dataclass(frozen=True)
class RateSeries:
    """One reference rate over time: (valid from, percent), and the last day the data was checked.

    A day after `checked_through` still gets the last rate known, and the result says so: rates are
    data a user keeps current (`dunwell rates add`).
    """

    kind: RateKind
    points: tuple[tuple[date, Decimal], ...]  # sorted by day
    checked_through: date

    def __post_init__(self) -> None:
        days = [day for day, _ in self.points]
        if days != sorted(set(days)):
            raise InterestError(f"{self.kind.label}: rates must have distinct, sorted dates")

    def on(self, day: date) -> tuple[Decimal, date]:
        """The rate in force on `day` and the day it took effect."""
        at = bisect_right([d for d, _ in self.points], day)
        if at == 0:
            raise InterestError(
                f"no {self.kind.label} known on {day.isoformat()}: add it with `dunwell rates add "
                f"--kind {self.kind.value}`"
            )
        since, percent = self.points[at - 1]
        return percent, since


@dataclass(frozen=True)
class Rates:
    """The reference rates a calculation may use, by kind."""

    series: Mapping[RateKind, RateSeries]

    @classmethod
    def of(cls, series: Iterable[RateSeries]) -> Rates:
        return cls({s.kind: s for s in series})

    def get(self, kind: RateKind) -> RateSeries:
        found = self.series.get(kind)
        if found is None:
            raise InterestError(f"no {kind.label} rates: add them with `dunwell rates add`")
        return found


class Part(StrEnum):
    """What a partial payment may go to, in an order the law or the contract sets."""

    COSTS = "costs"  # fees and fixed compensation
    INTEREST = "interest"
    PRINCIPAL = "principal"


LAW_ORDER = (Part.COSTS, Part.INTEREST, Part.PRINCIPAL)
PRINCIPAL_FIRST = (Part.PRINCIPAL, Part.INTEREST, Part.COSTS)


@dataclass(frozen=True)
class Tier:
    below_minor: int | None  # the debt under which this amount applies; None: any larger debt
    amount_minor: int


@dataclass(frozen=True)
class Statute:
    code: str
    name: str
    reference: RateKind
    margin: Decimal  # percentage points over the reference rate
    compensation_currency: str
    compensation: tuple[Tier, ...]  # by the size of the debt, in the compensation's currency
    fixed_for_delay: bool = False  # UK: the rate when interest starts, for the whole delay
    capitalise_yearly: bool = False  # NL: each full year's interest joins the base
    round_reference_up_to: Decimal | None = None  # FI: to the next half point
    consumer_margin: Decimal | None = None  # DE: what a consumer owes; None: not a consumer debt
    payment_order: tuple[Part, ...] = PRINCIPAL_FIRST
    citation: str = ""

    def compensation_for(self, debt_minor: int) -> int:
        for tier in self.compensation:
            if tier.below_minor is None or debt_minor < tier.below_minor:
                return tier.amount_minor
        return 0


_EUR_40 = (Tier(None, 40_00),)

STATUTES: dict[str, Statute] = {
    s.code: s
    for s in (
        Statute("EU", "EU Late Payment Directive 2011/7/EU (minimum)", RateKind.ECB_MRO,
                Decimal(8), "EUR", _EUR_40, citation="Directive 2011/7/EU art. 2(6), 3, 6"),
        Statute("DE", "Germany, BGB § 288", RateKind.DE_BASE, Decimal(9), "EUR", _EUR_40,
                consumer_margin=Decimal(5), payment_order=LAW_ORDER,
                citation="BGB §§ 247, 286, 288 (2) and (5); order of payment § 367"),
        Statute("FR", "France, Code de commerce L441-10", RateKind.ECB_MRO, Decimal(10), "EUR",
                _EUR_40, payment_order=LAW_ORDER,
                citation="C. com. L441-10, D441-5; order of payment C. civ. 1343-1"),
        Statute("NL", "Netherlands, BW 6:119a", RateKind.ECB_MRO, Decimal(8), "EUR", _EUR_40,
                capitalise_yearly=True, payment_order=LAW_ORDER,
                citation="BW 6:119a, 6:120, 6:96(4); order of payment 6:44"),
        Statute("FI", "Finland, Interest Act § 4a", RateKind.ECB_MRO, Decimal(8), "EUR",
                _EUR_40, round_reference_up_to=Decimal("0.5"),
                citation="Korkolaki 633/1982 §§ 4a, 12"),
        Statute("UK", "United Kingdom, Late Payment of Commercial Debts (Interest) Act 1998",
                RateKind.UK_BANK, Decimal(8), "GBP",
                (Tier(1_000_00, 40_00), Tier(10_000_00, 70_00), Tier(None, 100_00)),
                fixed_for_delay=True, citation="1998 Act s. 4, 5A; SI 2002/1675 art. 4"),
    )
}  # fmt: skip


def statute(code: str) -> Statute:
    found = STATUTES.get(code.upper())
    if found is None:
        raise InterestError(f"unknown jurisdiction {code!r}: expected one of {', '.join(STATUTES)}")
    return found


@dataclass(frozen=True)
class Reduction:
    """Money that reduced the debt on its value date (a payment, a credit note)."""

    on: date
    amount_minor: int


@dataclass(frozen=True)
class Period:
    """Days with one base and one rate: ``base x rate x days / year_days`` (exact)."""

    start: date
    end: date  # inclusive
    base_minor: int | Decimal  # Decimal once NL capitalisation has added exact interest
    percent: Decimal
    year_days: int
    interest_minor: Decimal
    reason: str  # where the rate comes from

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Interest:
    periods: tuple[Period, ...]
    interest_minor: int
    compensation_minor: int
    compensation_currency: str
    days_late: int
    day_count: DayCount
    notes: tuple[str, ...] = field(default=())


def statutory_interest(
    law: Statute,
    *,
    amount_minor: int,
    due_on: date,
    until: date,
    rates: Rates,
    reductions: Sequence[Reduction] = (),
    day_count: DayCount = DayCount.ACT_365F,
    consumer: bool = False,
) -> Interest:
    """What `law` allows on a debt of `amount_minor` due on `due_on`, paid (or counted) `until`.

    `reductions` are payments and credit notes by value date; the debt is paid when they reach
    the amount. Consumers: DE's consumer rate without compensation, elsewhere nothing (a note
    says why).
    """
    if amount_minor <= 0:
        raise InterestError("the amount must be more than zero")
    margin = law.margin
    if consumer:
        if law.consumer_margin is None:
            note = f"{law.name} covers debts between businesses: a consumer owes none of it"
            return Interest((), 0, 0, law.compensation_currency, _late(due_on, until), day_count,
                            (note,))  # fmt: skip
        margin = law.consumer_margin
    series = rates.get(law.reference)
    notes: list[str] = []
    start = due_on + timedelta(days=1)

    fixed: tuple[Decimal, str] | None = None
    if law.fixed_for_delay and start <= until:
        reference_day = _half_year_start(start) - timedelta(days=1)
        percent, since = series.on(reference_day)
        fixed = (percent + margin, _reason(law, percent, margin, series, reference_day, since))
        _note_unchecked(series, reference_day, notes)

    def rate_on(day: date) -> tuple[Decimal, str]:
        if fixed is not None:
            return fixed
        reference_day = _half_year_start(day)
        percent, since = series.on(reference_day)
        if law.round_reference_up_to is not None:
            step = law.round_reference_up_to
            percent = (percent / step).to_integral_value(rounding=ROUND_CEILING) * step
        _note_unchecked(series, reference_day, notes)
        return percent + margin, _reason(law, percent, margin, series, reference_day, since)

    periods = _accrue(amount_minor, due_on, until, reductions, day_count, rate_on,
                      changes_half_yearly=not law.fixed_for_delay,
                      capitalise_yearly=law.capitalise_yearly)  # fmt: skip
    late = bool(periods)
    compensation = 0 if consumer or not late else law.compensation_for(amount_minor)
    total = round_half_up_integer(sum((p.interest_minor for p in periods), Decimal(0)))
    return Interest(tuple(periods), total, compensation, law.compensation_currency,
                    _late(due_on, until), day_count, tuple(dict.fromkeys(notes)))  # fmt: skip


def contractual_interest(
    *,
    annual_percent: Decimal,
    amount_minor: int,
    due_on: date,
    until: date,
    grace_days: int = 0,
    reductions: Sequence[Reduction] = (),
    day_count: DayCount = DayCount.ACT_365F,
) -> Interest:
    """Simple interest at the contract's annual rate, from the due date plus a grace period.

    A grace period delays the start, it is not forgiven afterwards: paid within it, nothing is
    owed; paid after it, interest runs from the day after the due date + grace.
    """
    if amount_minor <= 0:
        raise InterestError("the amount must be more than zero")
    if annual_percent < 0 or grace_days < 0:
        raise InterestError("a contractual rate and grace period cannot be negative")
    reason = f"contract: {annual_percent.normalize():f} % a year"
    periods = _accrue(
        amount_minor,
        due_on + timedelta(days=grace_days),
        until,
        reductions,
        day_count,
        lambda day: (annual_percent, reason),
        changes_half_yearly=False,
        capitalise_yearly=False,
    )
    total = round_half_up_integer(sum((p.interest_minor for p in periods), Decimal(0)))
    return Interest(tuple(periods), total, 0, "", _late(due_on, until), day_count)


def apply_in_order(
    amount_minor: int, owed: Mapping[Part, int], order: Sequence[Part]
) -> tuple[dict[Part, int], int]:
    """A payment split over what is owed, in `order`; returns the split and what is left over."""
    if amount_minor < 0 or any(v < 0 for v in owed.values()):
        raise InterestError("amounts paid and owed cannot be negative")
    if sorted(order) != sorted(set(order)) or set(owed) - set(order):
        raise InterestError("the order must name each part owed once")
    split: dict[Part, int] = {}
    left = amount_minor
    for part in order:
        split[part] = min(left, owed.get(part, 0))
        left -= split[part]
    return split, left


# -- the accrual ----------------------------------------------------------------------------------


def _late(due_on: date, until: date) -> int:
    return max(0, (until - due_on).days)


def _half_year_start(day: date) -> date:
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def _reason(
    law: Statute, percent: Decimal, margin: Decimal, series: RateSeries, on: date, since: date
) -> str:
    return (
        f"{law.code}: {series.kind.label} {percent.normalize():f} % on {on.isoformat()} "
        f"(since {since.isoformat()}) + {margin.normalize():f} pp"
    )


def _note_unchecked(series: RateSeries, day: date, notes: list[str]) -> None:
    if day > series.checked_through:
        notes.append(
            f"{series.kind.label} on {day.isoformat()} is assumed unchanged: the rates were "
            f"checked through {series.checked_through.isoformat()} (`dunwell rates add` to "
            "confirm or correct)"
        )


def _accrue(
    amount_minor: int,
    due_on: date,
    until: date,
    reductions: Sequence[Reduction],
    day_count: DayCount,
    rate_on: _RateOn,
    *,
    changes_half_yearly: bool,
    capitalise_yearly: bool,
) -> list[Period]:
    """Periods from the day after `due_on` through `until` in which base, rate and year length
    stay the same; the base falls the day after each reduction and (NL) grows after each full
    year of delay by that year's interest."""
    start = due_on + timedelta(days=1)
    base: int | Decimal = amount_minor - sum(r.amount_minor for r in reductions if r.on <= due_on)
    later = sorted((r for r in reductions if r.on > due_on), key=lambda r: r.on)
    if base <= 0 or until < start:
        return []
    cuts: set[date] = {r.on + timedelta(days=1) for r in later}  # the base changes from these
    for year in range(start.year, until.year + 1):  # year lengths (ACT/ACT) and half-years
        cuts.add(date(year + 1, 1, 1))
        if changes_half_yearly:
            cuts.add(date(year, 7, 1))
    anniversaries: set[date] = set()
    if capitalise_yearly:
        years = 1
        while (anniversary := add_months(start, 12 * years)) <= until:
            anniversaries.add(anniversary)
            years += 1
    cuts |= anniversaries
    edges = sorted(d for d in cuts if start < d <= until)
    periods: list[Period] = []
    year_interest = Decimal(0)
    paid = iter(later)
    pending = next(paid, None)
    for begin, end in zip([start, *edges], [*(d - timedelta(days=1) for d in edges), until],
                          strict=True):  # fmt: skip
        if begin in anniversaries:
            base += year_interest
            year_interest = Decimal(0)
        while pending is not None and pending.on < begin:
            base -= pending.amount_minor
            pending = next(paid, None)
        if base <= 0:
            break
        percent, reason = rate_on(begin)
        year_days = day_count.year_days(begin.year)
        days = (end - begin).days + 1
        interest = Decimal(base) * percent / 100 * days / year_days
        year_interest += interest
        periods.append(Period(begin, end, base, percent, year_days, interest, reason))
    return periods
