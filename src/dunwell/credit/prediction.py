"""Payment-date prediction: train a company's model, score its open invoices, backtest it.

What is reported is lateness, the days from the due date to the payment (`credit.features`).
What the models learn is the equivalent *days still to wait*: from the row's moment to the
settlement. At a given moment the two differ by the days past due, a feature, so the error is
the same number of days either way; but trees predict a constant beyond the ages they were shown,
and a constant lateness puts an invoice a year overdue at "paid tomorrow", where a constant wait
keeps it ahead. A predicted payment date is therefore the moment plus the predicted wait, at
least one day (an invoice open at the end of a day is paid after it).

Three LightGBM models share the features: the point estimate (Huber loss: close to the median
on skewed waits, which minimises the mean absolute error the backtest reports; `POINT`), and the
interval the 10th to 90th percentile (two quantile models), so the cash forecast can say
"between these dates, four times out of five"; the low date is never after the point and the
high never before it.

The quantile models alone do not keep that promise. They learn from paid invoices only, so an
invoice that is never paid, or paid months later, is one they were never shown, and on their
own training rows they fit too closely: on the demo ledger their interval held 0.89 of the
training rows but only about half of the invoices open at a backtest's split. So the interval is
calibrated (split conformal, per side; Romano, Patterson and Candès, "Conformalized quantile
regression", 2019): the quantile models are trained on what was settled `CALIBRATION_DAYS` before
the training day, asked about every invoice open on that day, and each side's predicted wait is
stretched (or shrunk) by the factor that puts 10 % of those invoices' outcomes below the low
date and 10 % above the high date. An invoice still unpaid at the end of those days counts as
paid the day after (the least it can be), so never-paid invoices widen the interval as they
should. The factors multiply the wait rather than add days: an invoice expected tomorrow is not
given the weeks of doubt of one expected in two months. See decision 0022.

Training is deterministic: fixed seeds, `deterministic` and a fixed number of threads, the rows
in item id order. A model is stored in the database (`PredictionModel`, the three boosters as
LightGBM's own text), never on the filesystem; scoring replaces the company's predictions in one
transaction (`PaymentPrediction`), so a crash leaves the previous set whole and a re-run for the
same day writes the same rows.

A company needs `MIN_PAID` paid invoices before a model is trained: with fewer, 30 features
and dozens of leaves would learn the noise of a few customers, and the customer's mean
lateness (the backtest's baseline) is the honest estimate. Below it `NotEnoughHistoryError` says how
many there are and how many are needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
from django.db import transaction
from django.db.models import Max, Min

from dunwell.core import faults
from dunwell.core.bulk import insert_rows
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.credit.features import (
    CATEGORICAL,
    FEATURES,
    NO_DAY,
    FloatArray,
    IntArray,
    Ledger,
    day_date,
    day_number,
    features,
    load_ledger,
    scoring_rows,
    training_moments,
)
from dunwell.credit.models import PaymentPrediction, PredictionModel
from dunwell.ledger.models import ItemKind, OpenItem

MIN_PAID = 200
QUANTILES = (0.1, 0.9)
SEED = 20261203
THREADS = 2
PARAMS: dict[str, Any] = {
    "learning_rate": 0.08,
    "num_leaves": 63,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "max_bin": 127,
    "seed": SEED,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": THREADS,
    "verbose": -1,
}
# The point model: Huber loss, squares within 5 days and absolute beyond, so a few invoices paid
# months late do not drag the estimate (MAE is what the backtest reports). Plain L1 does as well
# but re-fits every leaf as a percentile over all its rows: 0.44 s a round on a million rows,
# against 0.04 s. The quantile models need that re-fit; each round draws a fifth of the rows,
# the point model half (as good on the backtests, half the time).
POINT: dict[str, Any] = {"objective": "huber", "alpha": 5.0, "bagging_fraction": 0.5}
INTERVAL: dict[str, Any] = {"objective": "quantile", "bagging_fraction": 0.2}
ROUNDS = 150  # boosting rounds of the point model; the quantile models take fewer
INTERVAL_ROUNDS = 80
BAGGING_FROM = 20_000  # rows: below, every round sees them all (bagging is for speed only)
CALIBRATION_DAYS = 91  # the cash forecast's 13 weeks (module docstring)
SIDE_MISS = 0.1  # the share of outcomes the interval leaves below it, and above it
MIN_CALIBRATION = 50  # invoices open on the calibration day: fewer, and the interval is as fitted


def _params(model: dict[str, Any], rows: int) -> dict[str, Any]:
    params = PARAMS | model
    if rows < BAGGING_FROM:
        params |= {"bagging_fraction": 1.0, "bagging_freq": 0}
    return params


class NotEnoughHistoryError(DunwellError):
    def __init__(self, paid: int, before: date, needed: int = MIN_PAID) -> None:
        super().__init__(
            ErrorCode.INVALID,
            f"too little history to predict payment dates: {paid} paid invoice"
            f"{'' if paid == 1 else 's'} settled by {before.isoformat()}, at least {needed} "
            "needed (until then the customer's mean lateness is the better estimate)",
        )
        self.paid = paid


@dataclass(frozen=True)
class Calibration:
    """What the interval's waits are multiplied by, and what that was learnt from."""

    low: float = 1.0  # the low date's wait x this (<= 1 widens)
    high: float = 1.0  # the high date's wait x this (>= 1 widens)
    on: date | None = None  # the calibration day; None: not calibrated (too little history)
    rows: int = 0  # invoices open on that day
    unpaid: int = 0  # of which still unpaid CALIBRATION_DAYS later

    def as_json(self) -> dict[str, Any]:
        return {"low_factor": self.low, "high_factor": self.high,
                "on": self.on.isoformat() if self.on else None, "rows": self.rows,
                "unpaid": self.unpaid}  # fmt: skip

    @classmethod
    def from_json(cls, stored: dict[str, Any] | None) -> Calibration:
        """A stored model's calibration; a model trained before calibration has none."""
        if not stored:
            return cls()
        on = stored["on"]
        return cls(stored["low_factor"], stored["high_factor"],
                   date.fromisoformat(on) if on else None, stored["rows"], stored["unpaid"])  # fmt: skip


def _waits(booster: lgb.Booster, x: FloatArray, factor: float = 1.0) -> IntArray:
    """Predicted waits in whole days (times `factor`), at least one."""
    predicted = np.asarray(booster.predict(x, num_threads=THREADS), dtype=np.float64)
    waits: IntArray = np.maximum(np.rint(predicted * factor), 1).astype(np.int64)
    return waits


@dataclass
class Trained:
    """The three boosters and what they were trained on."""

    point: lgb.Booster
    low: lgb.Booster
    high: lgb.Booster
    rows: int
    window: tuple[date, date]  # the earliest and latest settlement of the rows
    calibration: Calibration = field(default_factory=Calibration)
    metrics: dict[str, float] = field(default_factory=dict)

    def predict(self, x: FloatArray, moments: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Payment days (point, low, high): each the moment plus the predicted wait in whole
        days, at least one, the interval's as calibrated; low <= point <= high."""
        point = moments + _waits(self.point, x)
        low = moments + _waits(self.low, x, self.calibration.low)
        high = moments + _waits(self.high, x, self.calibration.high)
        return point, np.minimum(low, point), np.maximum(high, point)


def _dataset(x: FloatArray, y: FloatArray, weight: FloatArray) -> lgb.Dataset:
    return lgb.Dataset(
        x, label=y, weight=weight, feature_name=list(FEATURES),
        categorical_feature=list(CATEGORICAL), free_raw_data=False,
        params={"max_bin": PARAMS["max_bin"], "verbose": -1},
    )  # fmt: skip


def fit(ledger: Ledger, settled_by: date, min_paid: int = MIN_PAID) -> Trained:
    """Train on the invoices paid by `settled_by` (end of that day), or NotEnoughHistoryError;
    the interval on those paid `CALIBRATION_DAYS` earlier, calibrated on the days between
    (module docstring)."""
    end = day_number(settled_by)
    rows, moments, weight = training_moments(ledger, end)
    if len(rows) < min_paid:
        raise NotEnoughHistoryError(len(rows), settled_by, min_paid)
    x = features(ledger, rows, moments)
    settled = ledger.settled[rows]
    data = _dataset(x, (settled - moments).astype(np.float64), weight)  # the wait (docstring)
    point = lgb.train(_params(POINT, len(rows)), data, num_boost_round=ROUNDS)
    cut = end - CALIBRATION_DAYS
    earlier = np.flatnonzero(settled <= cut)
    calibrating = len(earlier) >= min_paid and (
        np.count_nonzero(ledger.open_at(cut)) >= MIN_CALIBRATION
    )
    interval_data = data.subset(earlier.tolist()) if calibrating else data
    interval_rows = len(earlier) if calibrating else len(rows)
    low, high = (
        lgb.train(_params(INTERVAL | {"alpha": alpha}, interval_rows), interval_data,
                  num_boost_round=INTERVAL_ROUNDS)
        for alpha in QUANTILES
    )  # fmt: skip
    calibration = _calibrate(ledger, low, high, cut, end) if calibrating else Calibration()
    window = (day_date(int(settled.min())), day_date(int(settled.max())))
    trained = Trained(point, low, high, len(rows), window, calibration)
    # the point's fit on the training rows themselves (the backtest is the honest measure)
    on = moments + _waits(point, x)
    trained.metrics = {"training_mae_days": round(float(np.mean(np.abs(on - settled))), 2)}
    return trained


def _calibrate(ledger: Ledger, low: lgb.Booster, high: lgb.Booster, cut: int, end: int
               ) -> Calibration:  # fmt: skip
    """The factors on the interval's waits that leave `SIDE_MISS` of the outcomes of the
    invoices open at the end of day `cut` below the low date and as many above the high date,
    an outcome after day `end` (or none) counting as paid on day `end + 1`. Each side is the
    conformal quantile, at rank ceil((n + 1)(1 - SIDE_MISS)) of n, of the log ratio of the
    actual wait to the predicted one."""
    rows = np.flatnonzero(ledger.open_at(cut))
    x = features(ledger, rows, np.full(len(rows), cut, dtype=np.int64))
    known = ledger.paid[rows] & (ledger.settled[rows] <= end)
    waited = np.where(known, ledger.settled[rows], end + 1) - cut
    too_late = np.log(waited / _waits(high, x))  # > 0: after the high date
    too_early = np.log(_waits(low, x) / waited)  # > 0: before the low date
    rank = min(len(rows), math.ceil((len(rows) + 1) * (1 - SIDE_MISS))) - 1
    widen_high = float(np.partition(too_late, rank)[rank])
    widen_low = float(np.partition(too_early, rank)[rank])
    return Calibration(
        low=round(math.exp(-widen_low), 6), high=round(math.exp(widen_high), 6),
        on=day_date(cut), rows=len(rows), unpaid=int(np.count_nonzero(~known)),
    )  # fmt: skip


# -- train and store ------------------------------------------------------------------------------


def train(*, company: Company, as_of: date, at: datetime) -> PredictionModel:
    """Train `company`'s model on what is known at the end of `as_of` and store it."""
    ledger = load_ledger(company)
    trained = fit(ledger, as_of)
    return PredictionModel.objects.create(
        company=company,
        trained_at=at,
        as_of=as_of,
        window_from=trained.window[0],
        window_to=trained.window[1],
        rows=trained.rows,
        features=list(FEATURES),
        params={"point": _params(POINT, trained.rows), "rounds": ROUNDS,
                "interval": _params(INTERVAL, trained.rows), "interval_rounds": INTERVAL_ROUNDS,
                "quantiles": list(QUANTILES), "library": f"lightgbm {lgb.__version__}",
                "calibration": trained.calibration.as_json()},
        metrics=trained.metrics,
        point_model=trained.point.model_to_string(),
        low_model=trained.low.model_to_string(),
        high_model=trained.high.model_to_string(),
    )  # fmt: skip


def load(model: PredictionModel) -> Trained:
    return Trained(
        lgb.Booster(model_str=model.point_model),
        lgb.Booster(model_str=model.low_model),
        lgb.Booster(model_str=model.high_model),
        model.rows,
        (model.window_from, model.window_to),
        Calibration.from_json(model.params.get("calibration")),
    )


def latest_model(company: Company) -> PredictionModel:
    found = PredictionModel.objects.filter(company=company).order_by("-trained_at", "-pk").first()
    if found is None:
        raise DunwellError(ErrorCode.NOT_FOUND, f"{company.code} has no payment-date model yet: "
                           "train one with `dunwell predict train`")  # fmt: skip
    return found


# -- score ----------------------------------------------------------------------------------------


@dataclass
class Scored:
    model: PredictionModel
    as_of: date
    rows: int
    by_currency: dict[str, int] = field(default_factory=dict)


COLUMNS = (
    "company_id", "item_id", "customer_id", "model_id", "as_of", "scored_at", "currency",
    "open_minor", "due_on", "predicted_on", "low_on", "high_on", "lateness_days",
)  # fmt: skip


def score(*, company: Company, as_of: date, at: datetime,
          model: PredictionModel | None = None) -> Scored:  # fmt: skip
    """Predict the payment date of every invoice of `company` open at the end of `as_of` and
    replace the company's predictions with them, in one transaction."""
    model = model or latest_model(company)
    if model.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"model {model.pk} is not {company.code}'s")
    if model.features != list(FEATURES):
        raise DunwellError(ErrorCode.CONFLICT, f"model {model.pk} was trained on other features "
                           "than this version computes: train a new one with `dunwell predict "
                           "train`")  # fmt: skip
    ledger = load_ledger(company)
    day = day_number(as_of)
    rows = scoring_rows(ledger, day)
    moments = np.full(len(rows), day, dtype=np.int64)
    point, low, high = load(model).predict(features(ledger, rows, moments), moments)
    due = ledger.due[rows]
    open_minor = _open_minor(ledger, rows, day)
    currency: list[str] = [ledger.currencies[code] for code in ledger.currency[rows].tolist()]
    customer_id = ledger.customer_id[ledger.customer[rows]]

    def dates(days: IntArray) -> list[date]:
        return [day_date(d) for d in days.tolist()]

    values = zip(
        ledger.item_id[rows].tolist(), customer_id.tolist(), currency, open_minor.tolist(),
        dates(due), dates(point), dates(low), dates(high), (point - due).tolist(), strict=True,
    )  # fmt: skip
    with transaction.atomic():
        PaymentPrediction.objects.filter(company=company).delete()
        faults.point("predict.score.after_delete")
        insert_rows(PaymentPrediction, COLUMNS, (
            (company.pk, item, customer, model.pk, as_of, at, cur, amount, due_on, on, low_on,
             high_on, late)
            for item, customer, cur, amount, due_on, on, low_on, high_on, late in values
        ))  # fmt: skip
    by_currency: dict[str, int] = {}
    for cur, amount in zip(currency, open_minor.tolist(), strict=True):
        by_currency[cur] = by_currency.get(cur, 0) + amount
    return Scored(model, as_of, len(rows), dict(sorted(by_currency.items())))


def _open_minor(ledger: Ledger, rows: IntArray, day: int) -> IntArray:
    """Each row's open amount at the end of `day` (amount less reductions effective by then),
    exact integers."""
    row_of_item = np.full(len(ledger.item_id), -1, dtype=np.int64)
    row_of_item[rows] = np.arange(len(rows))
    owner = row_of_item[ledger.reduction_item]
    counted = (owner >= 0) & (ledger.reduction_day <= day)
    reduced = np.zeros(len(rows), dtype=np.int64)
    np.add.at(reduced, owner[counted], ledger.reduction_minor[counted])
    result: IntArray = ledger.amount_minor[rows] - reduced
    return result


# -- backtest -------------------------------------------------------------------------------------


@dataclass
class Method:
    name: str
    mae_days: float
    within_7_days: float


@dataclass
class Interval:
    """The 10-90 % interval against the outcomes it can be judged on (`_interval`)."""

    rows: int
    coverage: float  # between the low and the high date: 0.8 is the promise
    before: float  # paid before the low date
    after: float  # paid after the high date, or not yet paid with the high date past


@dataclass
class Backtest:
    split: date
    training_rows: int
    evaluated_rows: int
    still_open: int  # open at the split and still open now: no outcome to compare
    methods: list[Method]
    window: tuple[date, date]
    interval: Interval

    @property
    def winner(self) -> str:
        return min(self.methods, key=lambda m: (m.mae_days, -m.within_7_days)).name


def backtest(company: Company, split: date, min_paid: int = MIN_PAID) -> Backtest:
    """Train on what was known at the end of `split`; predict the invoices open then that were
    paid later; compare with the due date and with the customer's mean lateness at the split."""
    ledger = load_ledger(company)
    day = day_number(split)
    before = int(np.count_nonzero(ledger.paid & (ledger.settled <= day)))
    open_then = ledger.open_at(day)
    rows = np.flatnonzero(open_then & ledger.paid)
    still_open = int(np.count_nonzero(open_then & (ledger.settled == NO_DAY)))
    if before < min_paid:
        raise NotEnoughHistoryError(before, split, min_paid)
    if not len(rows):
        raise DunwellError(ErrorCode.INVALID, f"--split-date {split.isoformat()}: no invoice open "
                           "at the end of that day was paid later: choose an earlier date",
                           field="split_date")  # fmt: skip
    trained = fit(ledger, split, min_paid)
    moments = np.full(len(rows), day, dtype=np.int64)
    x = features(ledger, rows, moments)
    due = ledger.due[rows]
    point, _, _ = trained.predict(x, moments)
    actual = ledger.lateness[rows]
    mean = x[:, FEATURES.index("hist_mean")]
    customer_mean = np.where(np.isnan(mean), 0, np.rint(np.nan_to_num(mean))).astype(np.int64)
    return Backtest(
        split=split,
        training_rows=trained.rows,
        evaluated_rows=len(rows),
        still_open=still_open,
        methods=[
            _method("model", point - due, actual),
            _method("due_date", np.zeros_like(actual), actual),
            _method("customer_mean", customer_mean, actual),
        ],
        window=trained.window,
        interval=_interval(ledger, trained, day),
    )


def _interval(ledger: Ledger, trained: Trained, day: int) -> Interval:
    """How the interval held for every invoice open at the end of `day`: a paid one against
    its payment day; an unpaid one (still open, or written off) is after its high date if that
    has passed by the ledger's last day, and has no outcome yet otherwise."""
    rows = np.flatnonzero(ledger.open_at(day))
    moments = np.full(len(rows), day, dtype=np.int64)
    _, low, high = trained.predict(features(ledger, rows, moments), moments)
    paid = ledger.paid[rows]
    settled = ledger.settled[rows]
    last = int(max(ledger.issued.max(), ledger.settled.max()))
    judged = paid | (high < last)
    before = paid & (settled < low)
    after = (paid & (settled > high)) | (~paid & (high < last))
    count = int(np.count_nonzero(judged))

    def share(which: npt.NDArray[np.bool_]) -> float:
        return round(float(np.count_nonzero(which)) / count, 4) if count else 0.0

    return Interval(count, share(judged & ~before & ~after), share(before), share(after))


def _method(name: str, predicted: IntArray, actual: IntArray) -> Method:
    error = np.abs(predicted - actual)
    return Method(name, round(float(error.mean()), 2), round(float(np.mean(error <= 7)), 4))


def split_bounds(company: Company) -> tuple[date, date] | None:
    """The first and last settlement of an invoice of `company`, or None (--split-date's
    bounds: one aggregate on the index that starts with (company, settled_on))."""
    found = OpenItem.objects.filter(
        company=company, kind=ItemKind.INVOICE, voided_on__isnull=True, settled_on__isnull=False
    ).aggregate(first=Min("settled_on"), last=Max("settled_on"))
    if found["first"] is None:
        return None
    return found["first"], found["last"]
