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

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import lightgbm as lgb
import numpy as np
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


@dataclass
class Trained:
    """The three boosters and what they were trained on."""

    point: lgb.Booster
    low: lgb.Booster
    high: lgb.Booster
    rows: int
    window: tuple[date, date]  # the earliest and latest settlement of the rows
    metrics: dict[str, float] = field(default_factory=dict)

    def predict(self, x: FloatArray, moments: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Payment days (point, low, high): each the moment plus the predicted wait in whole
        days, at least one; low <= point <= high."""
        point, low, high = (
            moments
            + np.maximum(np.rint(booster.predict(x, num_threads=THREADS)), 1).astype(np.int64)
            for booster in (self.point, self.low, self.high)
        )
        return point, np.minimum(low, point), np.maximum(high, point)


def _dataset(x: FloatArray, y: FloatArray, weight: FloatArray) -> lgb.Dataset:
    return lgb.Dataset(
        x, label=y, weight=weight, feature_name=list(FEATURES),
        categorical_feature=list(CATEGORICAL), free_raw_data=False,
        params={"max_bin": PARAMS["max_bin"], "verbose": -1},
    )  # fmt: skip


def fit(ledger: Ledger, settled_by: date, min_paid: int = MIN_PAID) -> Trained:
    """Train on the invoices paid by `settled_by` (end of that day), or NotEnoughHistoryError."""
    rows, moments, weight = training_moments(ledger, day_number(settled_by))
    if len(rows) < min_paid:
        raise NotEnoughHistoryError(len(rows), settled_by, min_paid)
    x = features(ledger, rows, moments)
    y = (ledger.settled[rows] - moments).astype(np.float64)  # the wait (module docstring)
    data = _dataset(x, y, weight)
    point = lgb.train(_params(POINT, len(rows)), data, num_boost_round=ROUNDS)
    low, high = (
        lgb.train(_params(INTERVAL | {"alpha": alpha}, len(rows)), data,
                  num_boost_round=INTERVAL_ROUNDS)
        for alpha in QUANTILES
    )  # fmt: skip
    settled = ledger.settled[rows]
    window = (day_date(int(settled.min())), day_date(int(settled.max())))
    trained = Trained(point, low, high, len(rows), window)
    # fit figures on the training rows themselves (the backtest is the honest measure)
    on, early, late = trained.predict(x, moments)
    trained.metrics = {
        "training_mae_days": round(float(np.mean(np.abs(on - settled))), 2),
        "training_interval_coverage": round(
            float(np.mean((early <= settled) & (settled <= late))), 3
        ),
    }
    return trained


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
                "quantiles": list(QUANTILES), "library": f"lightgbm {lgb.__version__}"},
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
class Backtest:
    split: date
    training_rows: int
    evaluated_rows: int
    still_open: int  # open at the split and still open now: no outcome to compare
    methods: list[Method]
    window: tuple[date, date]
    interval_coverage: float  # evaluated rows paid within the model's 10-90 % dates

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
    point, low, high = trained.predict(x, moments)
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
        interval_coverage=round(float(np.mean((low <= ledger.settled[rows])
                                              & (ledger.settled[rows] <= high))), 4),
    )  # fmt: skip


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
