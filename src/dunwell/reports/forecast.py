"""The 13-week cash forecast (issue 7 point 4): expected receipts per week and currency from the
payment-date predictions (`credit.models.PaymentPrediction`), with an 80 % interval
(`reports.rules.forecast`).

What is forecast is what is open now: each open invoice's open amount today (not the amount when
it was scored), at the dates its latest prediction gave. An invoice opened since the last scoring
has no prediction: it is expected on its due date (or today, if that is past), said apart as
"not predicted" so that a reader knows how much of the forecast is the model's. Each invoice is
expected only as far as the company's loss rates for its customer's segment and its bucket of
days past due today say it will be paid at all (`reports.rules.forecast`); the rest is
"doubtful". Weeks are seven days from the as-of date. Amounts per currency, never summed across
currencies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from dunwell.core.models import Company
from dunwell.credit.models import PaymentPrediction
from dunwell.ledger.models import OpenItem
from dunwell.ledger.rules.aging import bucket_index
from dunwell.reports.reserve import ALL, StoredRates, rates_on
from dunwell.reports.rules.forecast import Expected, Week, never_paid, weekly

WEEKS = 13


@dataclass
class CurrencyForecast:
    currency: str
    weeks: list[Week]
    later_minor: int  # expected after the last week
    open_minor: int  # all that is open, predicted or not
    unpredicted_minor: int  # of it, at the due date for want of a prediction
    doubtful_minor: int = 0  # not expected at all, at the loss rates
    invoices: int = 0

    @property
    def within_minor(self) -> int:
        return sum(w.expected_minor for w in self.weeks)


@dataclass
class Forecast:
    as_of: date
    weeks: int
    scored_on: date | None  # the day of the predictions used (None: no scoring yet)
    rates_default: bool = False  # the loss rates are the illustrative default (none set)
    currencies: list[CurrencyForecast] = field(default_factory=list)


class _Doubt:
    """The chance in billionths that an invoice is never paid: its customer's segment's loss
    rate (or the company's) for its bucket of days past due on the forecast's day."""

    def __init__(self, company: Company, as_of: date) -> None:
        self.as_of = as_of
        self.standing: dict[str, StoredRates] = rates_on(company, as_of)
        self.cache: dict[tuple[str, int], int] = {}

    def of(self, segment: str, due_on: date) -> int:
        key = (segment or ALL, bucket_index((self.as_of - due_on).days))
        found = self.cache.get(key)
        if found is None:
            rates = self.standing.get(key[0], self.standing[ALL]).rates
            found = self.cache[key] = never_paid(rates.percents[key[1]])
        return found


def cash_forecast(
    company: Company, as_of: date, weeks: int = WEEKS, currency: str | None = None
) -> Forecast:
    """Expected receipts for `weeks` weeks from `as_of`, per currency (or in one)."""
    expected: dict[str, list[Expected]] = defaultdict(list)
    unpredicted: dict[str, int] = defaultdict(int)
    predicted_ids: set[int] = set()
    scored_on = None
    predictions = PaymentPrediction.objects.filter(
        company=company, item__open_minor__gt=0, item__voided_on__isnull=True
    )
    items = OpenItem.objects.filter(company=company, open_minor__gt=0, voided_on__isnull=True)
    if currency is not None:
        predictions, items = predictions.filter(currency=currency), items.filter(currency=currency)
    doubt = _Doubt(company, as_of)
    rows = predictions.values_list("item_id", "item__currency", "item__open_minor", "low_on",
                                   "predicted_on", "high_on", "as_of", "item__due_on",
                                   "item__customer__segment")  # fmt: skip
    for item_id, code, open_minor, low, mid, high, on, due_on, segment in rows.iterator(
        chunk_size=5000
    ):
        predicted_ids.add(item_id)
        expected[code].append(Expected(int(open_minor), low, mid, high, doubt.of(segment, due_on)))
        scored_on = on if scored_on is None or on > scored_on else scored_on
    others = items.values_list("pk", "currency", "open_minor", "due_on", "customer__segment")
    for item_id, code, open_minor, due_on, segment in others.iterator(chunk_size=5000):
        if item_id in predicted_ids:
            continue
        day = max(due_on, as_of)
        expected[code].append(Expected(int(open_minor), day, day, day, doubt.of(segment, due_on)))
        unpredicted[code] += int(open_minor)
    forecast = Forecast(as_of, weeks, scored_on, doubt.standing[ALL].default)
    for code in sorted(expected):
        invoices = expected[code]
        receipts = weekly(invoices, as_of, weeks)
        forecast.currencies.append(CurrencyForecast(
            code, receipts.weeks, receipts.later_minor, sum(e.amount_minor for e in invoices),
            unpredicted[code], receipts.doubtful_minor, len(invoices),
        ))  # fmt: skip
    return forecast


def week_end(week: Week) -> date:
    return week.starts + timedelta(days=6)
