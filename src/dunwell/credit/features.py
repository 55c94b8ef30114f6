"""The features of payment-date prediction, built set-based from the ledger into NumPy arrays.

What is predicted is an invoice's *lateness*: the days from its due date to the day it was settled
(`settled_on`, the last reduction that brought its open amount to zero), negative when paid early.
Only invoices settled by money count as outcomes ("paid" below): kind invoice, not voided, at
least one payment allocation and no write-off. An invoice cancelled by a credit note or written
off was never paid, and its settlement date says nothing about when this customer pays.

**"As of" a moment.** A moment is the end of a business day D. A fact is known at D when the day
it is dated is on or before D: a settlement by its `settled_on`, an allocation by its
`effective_on`, a history entry (reminder, dispute, promise) by its `on`. Every feature of a row
is computed from the facts known at its moment and from nothing else, so moving a fact to a later
day than the moment changes no feature of that row (tests/credit/test_prediction_features.py).

- A *scoring row* is an invoice open at the end of the scoring day A (issued on or before A, not
  settled by A): its moment is A.
- A *training row* is a paid invoice seen once while it was open: its moment is a day drawn in
  [issued_on, settled_on - 1], the same day on every run (a hash of the item's id), so a model is
  trained on the situations it is later asked about: young and old invoices, due or overdue, some
  partly paid. The row is weighted by the days the invoice was open, so that, summed over rows,
  the training set has the make-up of "every invoice open on every day", which is what a scoring
  day sees (a long-open invoice is open on more scoring days than a quickly paid one).
- For a backtest split at day S, training rows are the invoices paid by S (their moments are then
  before S) and the evaluated rows the invoices open at the end of S that were paid later, scored
  as of S.

The stored `settled_on` is the ledger's present knowledge: a settlement reversed after the moment
is not replayed. The history entries' business date (`on`) is taken, not the moment they were
recorded (`recorded_at`): a reminder back-dated by an import counts from the day it concerns.

**The features** (`FEATURES`, in this order; categoricals are small integer codes):

- the invoice: log of the amount (a feature, not money arithmetic), terms in days, the due date's
  day of month, month and weekday (seasonality, payment runs), age and days past due at the
  moment, the share of it open at the moment (partial payments), its currency;
- the customer's paid invoices known at the moment: how many, mean and standard deviation of
  their lateness, the amount-weighted mean days beyond terms (PAYDEX-like), the share paid late,
  the last lateness, the mean of the last three and its difference from the mean (trend), and the
  count and mean lateness of those due in the same calendar month (a customer late every summer);
- the customer's open invoices at the moment, and those of them past due;
- disputes and promises known at the moment: disputes opened and promises made on the invoice,
  disputes opened and promises broken on the account in the year before;
- dunning so far: reminders sent to the customer since the invoice fell due, letters among them
  (from the account history: `credit` reads the ledger's history, not `dunning`'s tables, which
  sit above it in the layers);
- the customer's segment, country and kind.

Four queries read what a company has (invoices, reductions, history entries, customers); the rest
is array arithmetic: per-group running sums looked up with `searchsorted` on (group, day) keys, no
per-invoice Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from dunwell.core.models import Company
from dunwell.ledger.models import ActivityKind

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

EPOCH = date(1970, 1, 1)
NO_DAY = -(10**9)  # a missing date (never settled) in day numbers
SPAN = 1 << 22  # the room a (group, day) key leaves for the day: +-5,700 years around 1970
HALF = SPAN // 2
LATE_AFTER = 0  # paid late: any day after the due date

FEATURES: tuple[str, ...] = (
    "log_amount", "terms_days", "due_day_of_month", "due_month", "due_weekday",
    "age_days", "days_past_due", "open_share", "currency",
    "hist_count", "hist_mean", "hist_std", "hist_beyond_terms", "hist_late_share",
    "hist_last", "hist_last3", "hist_trend", "hist_month_count", "hist_month_mean",
    "open_count", "open_past_due_count",
    "item_disputes", "item_promises", "account_disputes_year", "account_broken_promises_year",
    "reminders_since_due", "letters_since_due",
    "segment", "country", "customer_kind",
)  # fmt: skip
CATEGORICAL: tuple[str, ...] = ("currency", "segment", "country", "customer_kind")

# The history entries the features read (ledger.Activity kinds).
DISPUTE = ActivityKind.DISPUTE_OPENED.value
PROMISE = ActivityKind.PROMISE_MADE.value
BROKEN = ActivityKind.PROMISE_BROKEN.value
REMINDER = ActivityKind.REMINDER_SENT.value


def day_number(value: date) -> int:
    return (value - EPOCH).days


def day_date(number: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(number))


@dataclass(frozen=True)
class Ledger:
    """A company's invoices and what is known about them, as arrays (dates as day numbers).

    Item arrays are in item id order; `paid` marks the invoices whose settlement is an outcome."""

    item_id: IntArray
    customer: IntArray  # index into the customer arrays
    currency: IntArray
    currencies: tuple[str, ...]
    amount_minor: IntArray
    issued: IntArray
    due: IntArray
    settled: IntArray  # NO_DAY: open
    paid: npt.NDArray[np.bool_]
    # reductions (payments, credits, discounts; write-offs make the item not `paid`)
    reduction_item: IntArray  # index into the item arrays
    reduction_day: IntArray
    reduction_minor: IntArray
    # history entries: kind, day, customer index, item index (-1: on the account), letter or not
    event_kind: IntArray
    event_day: IntArray
    event_customer: IntArray
    event_item: IntArray
    event_letter: npt.NDArray[np.bool_]
    # customers, by index
    customer_id: IntArray
    segment: IntArray
    country: IntArray
    customer_kind: IntArray

    @property
    def lateness(self) -> IntArray:
        """Days from due date to settlement (meaningful where `paid`)."""
        return self.settled - self.due

    def open_at(self, day: int) -> npt.NDArray[np.bool_]:
        """Invoices open at the end of `day`: issued by then, not settled by then."""
        found: npt.NDArray[np.bool_] = (self.issued <= day) & (
            (self.settled == NO_DAY) | (self.settled > day)
        )
        return found


def _day_sql(column: str) -> str:
    """A date column as days since 1970-01-01, computed by the database (one int per value is
    far cheaper to fetch than a date object)."""
    if connection.vendor == "postgresql":
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def _letter_sql() -> str:
    """A reminder printed as a letter carries its print batch in `data` (dunning.services.letters)."""
    if connection.vendor == "postgresql":
        return "CASE WHEN data ? 'batch' THEN 1 ELSE 0 END"
    return "CASE WHEN json_extract(data, '$.batch') IS NOT NULL THEN 1 ELSE 0 END"


ITEMS = """
    SELECT id, customer_id, {currency}, amount_minor, {issued}, {due}, COALESCE({settled}, {none})
    FROM ledger_openitem
    WHERE company_id = %s AND kind = 'invoice' AND voided_on IS NULL AND amount_minor > 0
    ORDER BY id"""
INVOICES = """
    SELECT DISTINCT currency FROM ledger_openitem WHERE company_id = %s AND kind = 'invoice'"""
# 1: payment, 2: write-off or void (the item was not paid), 0: credit note or discount
REDUCTIONS = """
    SELECT target_id, {effective}, amount_minor,
           CASE kind WHEN 'payment' THEN 1 WHEN 'write_off' THEN 2 WHEN 'void' THEN 2 ELSE 0 END
    FROM ledger_allocation
    WHERE company_id = %s AND kind <> 'refund'"""
EVENTS = """
    SELECT kind, {on}, COALESCE(customer_id, 0), COALESCE(item_id, 0), {letter}
    FROM ledger_activity
    WHERE company_id = %s AND kind IN (%s, %s, %s, %s)"""
CUSTOMERS = """
    SELECT id, segment, country, kind FROM ledger_customer WHERE company_id = %s ORDER BY id"""


def _fetch(sql: str, params: list[Any], columns: int) -> IntArray:
    """Integer rows as one (n, columns) array, fetched in chunks."""
    parts: list[IntArray] = [np.zeros((0, columns), dtype=np.int64)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(100_000):
            parts.append(np.array(chunk, dtype=np.int64))
    return np.concatenate(parts)


def _codes(values: list[str]) -> IntArray:
    """Small integer codes of text values, in sorted order of the distinct values."""
    if not values:
        return np.zeros(0, dtype=np.int64)
    _, codes = np.unique(np.array(values, dtype=str), return_inverse=True)
    return codes.astype(np.int64)


def _index_of(ids: IntArray, values: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Positions of `values` in the sorted `ids`, and which of them are there at all."""
    if not len(ids):
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(ids, values), len(ids) - 1)
    return at, ids[at] == values


def load_ledger(company: Company) -> Ledger:
    """Everything the features need of `company`'s ledger, in five queries."""
    with connection.cursor() as cursor:
        cursor.execute(CUSTOMERS, [company.pk])
        customer_rows = cursor.fetchall()
        cursor.execute(INVOICES, [company.pk])
        currencies = tuple(sorted(row[0] for row in cursor.fetchall()))
    customer_id = np.array([row[0] for row in customer_rows], dtype=np.int64)
    # currency as its index in `currencies`, computed by the database: the rows stay integers
    currency = "CASE currency " + " ".join(f"WHEN %s THEN {n}" for n in range(len(currencies)))
    currency = f"{currency} ELSE -1 END" if currencies else "0"
    items = _fetch(
        ITEMS.format(currency=currency, issued=_day_sql("issued_on"), due=_day_sql("due_on"),
                     settled=_day_sql("settled_on"), none=NO_DAY),
        [*currencies, company.pk], 7,
    )  # fmt: skip
    item_id = items[:, 0]
    settled = items[:, 6]

    reductions = _fetch(REDUCTIONS.format(effective=_day_sql("effective_on")), [company.pk], 4)
    position, known = _index_of(item_id, reductions[:, 0])
    reductions, position = reductions[known], position[known]
    has_payment = np.zeros(len(item_id), dtype=bool)
    not_paid = np.zeros(len(item_id), dtype=bool)
    has_payment[position[reductions[:, 3] == 1]] = True
    not_paid[position[reductions[:, 3] == 2]] = True

    events = _fetch(
        EVENTS.format(on=_day_sql('"on"'), letter=_letter_sql()),
        [company.pk, DISPUTE, PROMISE, BROKEN, REMINDER], 5,
    )  # fmt: skip
    event_customer, _ = _index_of(customer_id, events[:, 2])
    at, on_item = _index_of(item_id, events[:, 3])
    return Ledger(
        item_id=item_id, customer=_index_of(customer_id, items[:, 1])[0], currency=items[:, 2],
        currencies=currencies, amount_minor=items[:, 3], issued=items[:, 4], due=items[:, 5],
        settled=settled, paid=(settled != NO_DAY) & has_payment & ~not_paid,
        reduction_item=position, reduction_day=reductions[:, 1], reduction_minor=reductions[:, 2],
        event_kind=events[:, 0], event_day=events[:, 1], event_customer=event_customer,
        event_item=np.where(on_item, at, -1), event_letter=events[:, 4].astype(bool),
        customer_id=customer_id, segment=_codes([row[1] or "" for row in customer_rows]),
        country=_codes([row[2] or "" for row in customer_rows]),
        customer_kind=_codes([row[3] or "" for row in customer_rows]),
    )  # fmt: skip


# -- the rows -------------------------------------------------------------------------------------


def training_moments(ledger: Ledger, settled_by: int) -> tuple[IntArray, IntArray, FloatArray]:
    """Training rows of the invoices paid by day `settled_by`: (item indexes, moments, weights).

    Each paid invoice once, at a day in [issued_on, settled_on - 1] chosen by a hash of its id
    (the same on every run), weighted by the days it was open (see the module docstring)."""
    rows = np.flatnonzero(ledger.paid & (ledger.settled <= settled_by))
    issued, settled = ledger.issued[rows], ledger.settled[rows]
    open_days = np.maximum(settled - issued, 1)
    # Knuth's multiplicative hash of the id: a fixed, well-spread fraction in [0, 1)
    fraction = ((ledger.item_id[rows] * 2654435761) % (1 << 32)) / float(1 << 32)
    moments = issued + np.floor(fraction * open_days).astype(np.int64)
    moments = np.minimum(moments, np.maximum(settled - 1, issued))
    return rows, moments, open_days.astype(np.float64)


def scoring_rows(ledger: Ledger, as_of: int) -> IntArray:
    """The invoices open at the end of day `as_of`."""
    return np.flatnonzero(ledger.open_at(as_of))


# -- group lookups: running sums per (group, day), read at (group, moment) --------------------------


def _key(group: IntArray, day: IntArray) -> IntArray:
    """(group, day) as one sortable integer; NO_DAY clips to the start of the group."""
    key: IntArray = group.astype(np.int64) * SPAN + np.clip(day, -HALF + 1, HALF - 1) + HALF
    return key


class History:
    """Events of groups on days, with running sums of values, asked "how many and how much up to
    and including day d for group g" for whole arrays of (g, d) at once."""

    def __init__(self, group: IntArray, day: IntArray, values: tuple[FloatArray, ...] = ()) -> None:
        keys = _key(group, day)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.sums = [np.concatenate([[0.0], np.cumsum(v[order], dtype=np.float64)]) for v in values]
        self.values = [v[order] for v in values]

    def upto(self, group: IntArray, day: IntArray) -> IntArray:
        """Index just past the last event of `group` on or before `day`."""
        found: IntArray = np.searchsorted(self.keys, _key(group, day), side="right")
        return found

    def start(self, group: IntArray) -> IntArray:
        """Index of the first event of `group`."""
        found: IntArray = np.searchsorted(self.keys, group.astype(np.int64) * SPAN, side="left")
        return found

    def count(self, group: IntArray, after: IntArray, upto: IntArray) -> IntArray:
        """Events of `group` on days in (after, upto]."""
        high = self.upto(group, upto)
        low = self.upto(group, np.minimum(after, upto))
        return high - low

    def total(self, which: int, low: IntArray, high: IntArray) -> FloatArray:
        result: FloatArray = self.sums[which][high] - self.sums[which][low]
        return result


def _month(days: IntArray) -> IntArray:
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    result: IntArray = months % 12 + 1
    return result


def _day_of_month(days: IntArray) -> IntArray:
    as_dates = days.astype("datetime64[D]")
    result: IntArray = (as_dates - as_dates.astype("datetime64[M]")).astype(np.int64) + 1
    return result


def features(ledger: Ledger, rows: IntArray, moments: IntArray) -> FloatArray:
    """The feature matrix (len(rows), len(FEATURES)) of invoices `rows` at `moments`."""
    n = len(rows)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    column = {name: i for i, name in enumerate(FEATURES)}

    def put(name: str, values: Any) -> None:
        out[:, column[name]] = values

    customer = ledger.customer[rows]
    amount = ledger.amount_minor[rows].astype(np.float64)
    issued, due = ledger.issued[rows], ledger.due[rows]
    put("log_amount", np.log1p(amount / 100))
    put("terms_days", due - issued)
    put("due_day_of_month", _day_of_month(due))
    put("due_month", _month(due))
    put("due_weekday", (due + 3) % 7)  # 1970-01-01 was a Thursday; Monday is 0
    put("age_days", moments - issued)
    put("days_past_due", moments - due)
    put("currency", ledger.currency[rows])

    # the share open at the moment: reductions effective by then, summed per row
    row_of_item = np.full(len(ledger.item_id), -1, dtype=np.int64)
    row_of_item[rows] = np.arange(n)  # items appear once per call (training or scoring)
    owner = row_of_item[ledger.reduction_item] if len(ledger.reduction_item) else np.zeros(0, int)
    counted = (owner >= 0) & (ledger.reduction_day <= moments[np.maximum(owner, 0)])
    reduced = np.bincount(owner[counted], weights=ledger.reduction_minor[counted], minlength=n)
    put("open_share", np.clip(1.0 - reduced / np.maximum(amount, 1.0), 0.0, 1.0))

    _customer_history(ledger, out, column, customer, moments, due)
    _open_invoices(ledger, out, column, customer, moments)
    _events(ledger, out, column, rows, customer, moments, due)

    put("segment", ledger.segment[customer] if len(ledger.segment) else 0)
    put("country", ledger.country[customer] if len(ledger.country) else 0)
    put("customer_kind", ledger.customer_kind[customer] if len(ledger.customer_kind) else 0)
    return out


def _customer_history(
    ledger: Ledger, out: FloatArray, column: dict[str, int], customer: IntArray,
    moments: IntArray, due: IntArray,
) -> None:  # fmt: skip
    paid = np.flatnonzero(ledger.paid)
    late = ledger.lateness[paid].astype(np.float64)
    weight = ledger.amount_minor[paid].astype(np.float64)
    history = History(
        ledger.customer[paid], ledger.settled[paid],
        (late, late * late, (late > LATE_AFTER).astype(np.float64), weight,
         weight * np.maximum(late, 0.0)),
    )  # fmt: skip
    start, stop = history.start(customer), history.upto(customer, moments)
    count = (stop - start).astype(np.float64)
    some = count > 0
    safe = np.maximum(count, 1.0)
    mean = np.where(some, history.total(0, start, stop) / safe, np.nan)
    square = history.total(1, start, stop) / safe
    out[:, column["hist_count"]] = count
    out[:, column["hist_mean"]] = mean
    out[:, column["hist_std"]] = np.where(
        count > 1, np.sqrt(np.maximum(square - np.nan_to_num(mean) ** 2, 0.0)), np.nan
    )
    out[:, column["hist_late_share"]] = np.where(some, history.total(2, start, stop) / safe, np.nan)
    weights = history.total(3, start, stop)
    out[:, column["hist_beyond_terms"]] = np.where(
        some, history.total(4, start, stop) / np.maximum(weights, 1.0), np.nan
    )
    last = np.maximum(stop - 1, 0)
    out[:, column["hist_last"]] = np.where(
        some, history.values[0][last] if len(paid) else 0, np.nan
    )
    three = np.maximum(stop - 3, start)
    last3 = np.where(some, history.total(0, three, stop) / np.maximum(stop - three, 1), np.nan)
    out[:, column["hist_last3"]] = last3
    out[:, column["hist_trend"]] = last3 - mean

    # the same calendar month of the due date: groups (customer, month)
    months = History(
        ledger.customer[paid] * 12 + _month(ledger.due[paid]) - 1, ledger.settled[paid], (late,)
    )
    group = customer * 12 + _month(due) - 1
    low, high = months.start(group), months.upto(group, moments)
    same = (high - low).astype(np.float64)
    out[:, column["hist_month_count"]] = same
    out[:, column["hist_month_mean"]] = np.where(
        same > 0, months.total(0, low, high) / np.maximum(same, 1.0), np.nan
    )


def _open_invoices(
    ledger: Ledger, out: FloatArray, column: dict[str, int], customer: IntArray, moments: IntArray
) -> None:
    """The customer's invoices open at the moment (issued by it, not settled by it), and those
    of them past due. Settlements by then of invoices not yet due are few (early payers); they
    are counted as if past due, so the second count is a close lower bound."""
    everything = np.arange(len(ledger.item_id))
    settled = everything[ledger.settled != NO_DAY]
    issued = History(ledger.customer, ledger.issued)
    dues = History(ledger.customer, ledger.due)
    settlements = History(ledger.customer[settled], ledger.settled[settled])
    start_i, start_d, start_s = (
        issued.start(customer),
        dues.start(customer),
        settlements.start(customer),
    )
    done = settlements.upto(customer, moments) - start_s
    open_count = issued.upto(customer, moments) - start_i - done
    past_due = dues.upto(customer, moments - 1) - start_d - done
    out[:, column["open_count"]] = np.maximum(open_count, 0)
    out[:, column["open_past_due_count"]] = np.maximum(past_due, 0)


def _events(
    ledger: Ledger, out: FloatArray, column: dict[str, int], rows: IntArray, customer: IntArray,
    moments: IntArray, due: IntArray,
) -> None:  # fmt: skip
    kind, day = ledger.event_kind, ledger.event_day
    year_ago = moments - 365

    def on_items(which: int) -> IntArray:
        mask = (kind == which) & (ledger.event_item >= 0)
        return History(ledger.event_item[mask], day[mask]).count(
            rows, np.full_like(rows, NO_DAY), moments
        )

    def on_account(which: int, after: IntArray, letters: bool = False) -> IntArray:
        mask = (kind == which) & (ledger.event_item < 0)
        if letters:
            mask &= ledger.event_letter
        return History(ledger.event_customer[mask], day[mask]).count(customer, after, moments)

    out[:, column["item_disputes"]] = on_items(DISPUTE)
    out[:, column["item_promises"]] = on_items(PROMISE)
    out[:, column["account_disputes_year"]] = on_account(DISPUTE, year_ago)
    out[:, column["account_broken_promises_year"]] = on_account(BROKEN, year_ago)
    out[:, column["reminders_since_due"]] = on_account(REMINDER, due)
    out[:, column["letters_since_due"]] = on_account(REMINDER, due, letters=True)
