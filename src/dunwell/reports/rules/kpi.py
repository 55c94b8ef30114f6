"""Receivables KPIs: the published formulas on plain numbers, and the ledger's months as their input.

Every figure is a ratio of amounts of one currency in minor units (the ratios have no unit, so a
company reports each of its currencies on its own: `reports.kpi`). Days are calendar days: a
month has its own number of days and a period the sum of its months' days.

Worked dataset (DOMAIN.md 3; the tests use exactly these numbers): the quarter January-March 2025
(90 days); credit sales January 100,000, February 120,000, March 150,000 (370,000); AR on
31 December 190,000, on 28 February 200,000, on 31 March 210,000 of which 140,000 current (not
yet due) and 7,000 more than 90 days past due.

=========================  ===============================================  =====================
KPI                        formula                                          the dataset
=========================  ===============================================  =====================
DSO (standard)             ending AR / credit sales x days                  210/370 x 90 = 51.08
DSO (average AR)           (opening + ending AR) / 2 / credit sales x days  200/370 x 90 = 48.65
DSO (countback)            credit sales taken from the ending AR month by   210 - 150 (Mar, 31 d)
                           month, newest first, whole months counted by     = 60; 60/120 x 28
                           their calendar days, the rest as a share of the  (Feb) = 14 -> 45.00
                           first month it does not cover
best possible DSO          current AR / credit sales x days                 140/370 x 90 = 34.05
ADD                        DSO - best possible DSO                          51.08 - 34.05 = 17.03
CEI, one month             (opening + sales - ending AR)                    March: 140/210
                           / (opening + sales - ending current AR) x 100    = 66.67 %
CEI, total sales           the same over the period's sales and opening AR  350/420 = 83.33 %
CEI, CRF "/N"              sales replaced by sales / N months               103.3/173.3 = 59.62 %
CEI, average of months     the mean of the months' one-month CEIs
percent current            current AR / total AR x 100                      140/210 = 66.67 %
% over 90 days past due    AR > 90 days past due / total AR x 100           7/210 = 3.33 %
AR turnover                credit sales / average AR (per period)           370/200 = 1.85
  annualised               turnover x 365 / days                            1.85 x 365/90 = 7.50
DBT                        sum(paid x (paid on - due on)) / sum(paid)       DOMAIN 6.3: 8.47 d
=========================  ===============================================  =====================

CEI of a period of several months is reported in the **total-sales** variant by default, and the
others are offered beside it, each named. DOMAIN.md warns that the variants differ by more than
20 points on the same data (83.33, 59.62) and that a period is reported either as the average of
its monthly CEIs or in the total-sales variant, never a mix. The total-sales variant is the
one-month formula applied to the period as a whole, so a month and a quarter read the same way;
it weighs each month by what there was to collect, where the average of monthly CEIs lets a quiet
month count as much as a busy one; and the CRF "/N" variant compares a month's worth of sales
with a quarter's worth of AR, which is why it reads 24 points lower here. For one month the
variants coincide and the result is named "one month".

"Not defined" is `None`, never an exception and never a made-up 0: a ratio whose denominator is
zero or negative (no sales, a month of more credit notes than invoices, no AR, nothing to
collect) has no meaning. Countback is not defined when the months given run out before the
ending AR does. Results are exact Decimals; rounding (two decimals, half-up) is the caller's, at
the edge (`rounded`).

`ledger_months` is the reference oracle of `reports.kpi`: the same month inputs computed item
by item from plain documents, as the definitions read. The SQL must agree with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache
from itertools import chain

from dunwell.core.dates import add_months, end_of_month

HUNDRED = Decimal(100)
YEAR_DAYS = 365
OVER_DAYS = 90  # "more than 90 days past due"
CENT = Decimal("0.01")


class CeiVariant(StrEnum):
    ONE_MONTH = "one_month"
    TOTAL_SALES = "total_sales"
    CRF = "crf_sales_over_n"
    AVERAGE_OF_MONTHS = "average_of_months"


DEFAULT_CEI = CeiVariant.TOTAL_SALES


@dataclass(frozen=True, slots=True)
class Cei:
    variant: CeiVariant
    percent: Decimal | None


@dataclass(frozen=True, slots=True)
class Balances:
    """What was owed at the end of a day: all of it, the part not yet due (due on that day or
    later), and the part more than 90 days past due (due more than 90 days before it)."""

    total: int = 0
    current: int = 0
    over_90: int = 0


@dataclass(frozen=True, slots=True)
class MonthInputs:
    """One calendar month of one currency, in minor units. `paid` is what payments settled in the
    month, `paid_days` the sum of each such amount times its days beyond terms (negative early)."""

    month: date  # its first day
    credit_sales: int
    opening: Balances  # at the end of the month before
    ending: Balances  # at the end of the month
    cash_collected: int = 0
    paid: int = 0
    paid_days: int = 0

    @property
    def days(self) -> int:
        return month_days(self.month)


@dataclass(frozen=True)
class Kpis:
    """The KPIs of a run of consecutive months (one month, or a period)."""

    first: date
    last: date
    days: int
    credit_sales: int
    opening: Balances
    ending: Balances
    cash_collected: int
    dso: Decimal | None
    dso_average_ar: Decimal | None
    dso_countback: Decimal | None
    best_possible_dso: Decimal | None
    add: Decimal | None
    cei: Cei
    cei_variants: tuple[Cei, ...]
    percent_current: Decimal | None
    percent_over_90: Decimal | None
    turnover: Decimal | None
    turnover_annualised: Decimal | None
    dbt: Decimal | None


@lru_cache(maxsize=2048)
def month_days(month: date) -> int:
    return end_of_month(month).day


def rounded(value: Decimal | None, places: Decimal = CENT) -> Decimal | None:
    return None if value is None else value.quantize(places, rounding=ROUND_HALF_UP)


def _share(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """part / whole, or not defined when the whole is zero or less."""
    if whole <= 0:
        return None
    return Decimal(part) / Decimal(whole)


def _times(ratio: Decimal | None, factor: int | Decimal) -> Decimal | None:
    return None if ratio is None else ratio * factor


def dso(ending_ar: int, credit_sales: int, days: int) -> Decimal | None:
    return _times(_share(ending_ar, credit_sales), days)


def dso_average_ar(opening_ar: int, ending_ar: int, credit_sales: int, days: int) -> Decimal | None:
    return _times(_share(Decimal(opening_ar + ending_ar) / 2, credit_sales), days)


def best_possible_dso(current_ar: int, credit_sales: int, days: int) -> Decimal | None:
    return _times(_share(current_ar, credit_sales), days)


def average_days_delinquent(
    ending_ar: int, current_ar: int, credit_sales: int, days: int
) -> Decimal | None:
    """DSO - best possible DSO, computed from the past-due AR so that nothing is rounded twice."""
    return _times(_share(ending_ar - current_ar, credit_sales), days)


def dso_countback(ending_ar: int, months: Iterable[tuple[int, int]]) -> Decimal | None:
    """`months`: (credit sales, calendar days) newest first. Whole months are counted while
    what is left of the AR is at least the month's sales; a month without sales (or with net
    credits) counts whole. Not defined for a negative AR or when the months run out first."""
    left, counted = ending_ar, 0
    if left < 0:
        return None
    for sales, days in months:
        if left == 0:
            break
        if left < sales:
            return counted + Decimal(left) / Decimal(sales) * days
        left -= sales
        counted += days
    return Decimal(counted) if left == 0 else None


def cei(
    opening_ar: int, credit_sales: int | Decimal, ending_ar: int, ending_current: int
) -> Decimal | None:
    """(opening + sales - ending AR) / (opening + sales - ending current AR) x 100."""
    available = opening_ar + credit_sales
    return _times(_share(available - ending_ar, available - ending_current), HUNDRED)


def cei_crf(
    opening_ar: int, credit_sales: int, months: int, ending_ar: int, ending_current: int
) -> Decimal | None:
    """The Credit Research Foundation's variant: the period's sales divided by its months."""
    return cei(opening_ar, Decimal(credit_sales) / months, ending_ar, ending_current)


def percent_current(current_ar: int, total_ar: int) -> Decimal | None:
    return _times(_share(current_ar, total_ar), HUNDRED)


def percent_over_90(over_90_ar: int, total_ar: int) -> Decimal | None:
    return _times(_share(over_90_ar, total_ar), HUNDRED)


def ar_turnover(credit_sales: int, opening_ar: int, ending_ar: int) -> Decimal | None:
    """Credit sales over the average of the opening and ending AR (times per period)."""
    return _share(credit_sales, Decimal(opening_ar + ending_ar) / 2)


def annualised(turnover: Decimal | None, days: int) -> Decimal | None:
    return None if turnover is None or days <= 0 else turnover * YEAR_DAYS / days


def days_beyond_terms(paid: Iterable[tuple[int, int]]) -> Decimal | None:
    """(amount paid, days from its due date to the payment) -> the amount-weighted days."""
    amounts = weighted = 0
    for amount, days in paid:
        amounts += amount
        weighted += amount * days
    return _share(weighted, amounts)


def _cei_variants(months: Sequence[MonthInputs], sales: int) -> tuple[Cei, ...]:
    first, last = months[0], months[-1]
    whole = cei(first.opening.total, sales, last.ending.total, last.ending.current)
    if len(months) == 1:
        return (Cei(CeiVariant.ONE_MONTH, whole),)
    monthly = [
        cei(m.opening.total, m.credit_sales, m.ending.total, m.ending.current) for m in months
    ]
    average = (
        None
        if any(v is None for v in monthly)
        else sum((v for v in monthly if v is not None), Decimal(0)) / len(monthly)
    )
    crf = cei_crf(first.opening.total, sales, len(months), last.ending.total, last.ending.current)
    return (
        Cei(CeiVariant.TOTAL_SALES, whole),
        Cei(CeiVariant.AVERAGE_OF_MONTHS, average),
        Cei(CeiVariant.CRF, crf),
    )


def kpis(months: Sequence[MonthInputs], earlier: Sequence[tuple[date, int]] = ()) -> Kpis:
    """The KPIs of consecutive `months`; `earlier`: (month, credit sales) of the months before
    them, oldest first, which only the countback reads (it may reach back past the period's
    start, month by month as far as it needs: the days of a month are counted lazily)."""
    if not months:
        raise ValueError("kpis of no months")
    first, last = months[0], months[-1]
    sales = sum(m.credit_sales for m in months)
    days = sum(m.days for m in months)
    opening, ending = first.opening, last.ending
    history = chain(
        ((m.credit_sales, m.days) for m in reversed(months)),
        ((s, month_days(m)) for m, s in reversed(earlier)),
    )
    variants = _cei_variants(months, sales)
    turnover = ar_turnover(sales, opening.total, ending.total)
    return Kpis(
        first=first.month,
        last=last.month,
        days=days,
        credit_sales=sales,
        opening=opening,
        ending=ending,
        cash_collected=sum(m.cash_collected for m in months),
        dso=dso(ending.total, sales, days),
        dso_average_ar=dso_average_ar(opening.total, ending.total, sales, days),
        dso_countback=dso_countback(ending.total, history),
        best_possible_dso=best_possible_dso(ending.current, sales, days),
        add=average_days_delinquent(ending.total, ending.current, sales, days),
        cei=variants[0],
        cei_variants=variants,
        percent_current=percent_current(ending.current, ending.total),
        percent_over_90=percent_over_90(ending.over_90, ending.total),
        turnover=turnover,
        turnover_annualised=annualised(turnover, days),
        dbt=_share(sum(m.paid_days for m in months), sum(m.paid for m in months)),
    )


# The reference oracle: month inputs from documents, by the definitions.


@dataclass(frozen=True, slots=True)
class Reduction:
    """What lowered a document's open amount from a day on (an allocation): `due_on` is the due
    date of the part it settled; `is_payment` for cash, as opposed to credits, write-offs and the
    like; `reversed` for a payment's row that was undone later, or the row undoing it (cash
    collected nets the two; the days beyond terms count neither: no payment was made then)."""

    effective_on: date
    due_on: date
    amount_minor: int
    is_payment: bool = True
    reversed: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    """An open item: `parts` are its instalments (due date, amount), empty when it is all due on
    `due_on`. `is_sale`: False for money paid back to the customer (a refund)."""

    issued_on: date
    due_on: date
    amount_minor: int
    parts: tuple[tuple[date, int], ...] = ()
    reductions: tuple[Reduction, ...] = ()
    is_sale: bool = True


def balances_on(documents: Iterable[Document], day: date) -> Balances:
    """AR at the end of `day`: each document issued by then, less what reduced it by then."""
    total = current = over = 0
    limit = day - timedelta(days=OVER_DAYS)
    for doc in documents:
        parts: dict[date, int] = defaultdict(int)
        if doc.issued_on <= day:
            for due_on, amount in doc.parts or ((doc.due_on, doc.amount_minor),):
                parts[due_on] += amount
        for r in doc.reductions:
            if r.effective_on <= day:
                parts[r.due_on] -= r.amount_minor
        for due_on, amount in parts.items():
            total += amount
            current += amount if due_on >= day else 0
            over += amount if due_on < limit else 0
    return Balances(total, current, over)


@dataclass
class _Month:
    sales: int = 0
    cash: int = 0
    paid: int = 0
    paid_days: int = 0


@dataclass
class LedgerMonths:
    months: list[MonthInputs]
    earlier: list[tuple[date, int]] = field(default_factory=list)


def ledger_months(
    documents: Sequence[Document], first: date, last: date, earlier: int = 0
) -> LedgerMonths:
    """The inputs of the months `first`..`last` (first days) and the sales of the `earlier`
    months before them: credit sales are the documents issued in the month that are sales
    (credit notes, negative, net them); cash is the payments effective in the month."""
    start = add_months(first, -earlier)
    count = (last.year - start.year) * 12 + last.month - start.month + 1
    starts = [add_months(start, n) for n in range(count)]
    per: dict[date, _Month] = {m: _Month() for m in starts}
    for doc in documents:
        issued = per.get(doc.issued_on.replace(day=1))
        if issued is not None and doc.is_sale:
            issued.sales += doc.amount_minor
        for r in doc.reductions:
            paid = per.get(r.effective_on.replace(day=1))
            if paid is None or not r.is_payment:
                continue
            paid.cash += r.amount_minor
            if not r.reversed:
                paid.paid += r.amount_minor
                paid.paid_days += r.amount_minor * (r.effective_on - r.due_on).days
    months: list[MonthInputs] = []
    opening = balances_on(documents, first - timedelta(days=1))
    for month in starts[earlier:]:
        ending = balances_on(documents, end_of_month(month))
        m = per[month]
        months.append(MonthInputs(month, m.sales, opening, ending, m.cash, m.paid, m.paid_days))
        opening = ending
    return LedgerMonths(months, [(m, per[m].sales) for m in starts[:earlier]])
