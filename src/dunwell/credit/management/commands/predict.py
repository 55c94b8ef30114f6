"""`dunwell predict train|score|backtest`: payment-date prediction (credit.prediction).

dunwell predict train [--as-of DATE]        train the company's model on what is known then
dunwell predict score [--as-of DATE]        predict every open invoice with the latest model
dunwell predict backtest --split-date DATE  train on what was known at the split, predict the
                                            invoices open then that were paid later, and
                                            compare with the due date and the customer's mean
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.core.management.base import DunwellCommand, parse_iso_date
from dunwell.core.models import Company
from dunwell.credit import prediction
from dunwell.credit.prediction import Backtest


class Command(DunwellCommand):
    help = "Payment-date prediction: train the model, score the open invoices, backtest it."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True,
                                        metavar="{train,score,backtest}")  # fmt: skip
        for name, text in (("train", "train the company's model on its paid invoices"),
                           ("score", "predict the payment date of every open invoice")):  # fmt: skip
            self.add_as_of(actions.add_parser(name, help=text))
        test = actions.add_parser("backtest", help="time-split backtest against two baselines")
        test.add_argument("--split-date", required=True, type=parse_iso_date,
                          help="train on what was known at the end of this day, YYYY-MM-DD")  # fmt: skip
        self.add_to_each(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        if options["action"] == "backtest":
            self._backtest(company, options)
            return
        as_of = options["as_of"] or self.today(company)
        if options["action"] == "train":
            model = prediction.train(company=company, as_of=as_of, at=self.now())
            payload: dict[str, Any] = {
                "company": company.code,
                "model": model.pk,
                "as_of": as_of.isoformat(),
                "rows": model.rows,
                "window": [model.window_from.isoformat(), model.window_to.isoformat()],
                "features": model.features,
                "metrics": model.metrics,
                "calibration": model.params["calibration"],
            }
            text = (f"model {model.pk} trained on {model.rows} paid invoices settled "
                    f"{model.window_from.isoformat()} to {model.window_to.isoformat()}; "
                    f"{calibrated(prediction.Calibration.from_json(model.params['calibration']))}")  # fmt: skip
        else:
            scored = prediction.score(company=company, as_of=as_of, at=self.now())
            payload = {
                "company": company.code,
                "model": scored.model.pk,
                "as_of": as_of.isoformat(),
                "predictions": scored.rows,
                "open_minor_by_currency": scored.by_currency,
            }
            text = f"{scored.rows} open invoices scored as of {as_of.isoformat()} with model {scored.model.pk}"
        if options["format"] == "json":
            self.emit_json(payload)
        else:
            self.stdout.write(text)

    def _backtest(self, company: Company, options: dict[str, Any]) -> None:
        split: date = options["split_date"]
        bounds = prediction.split_bounds(company)
        if bounds is None:
            raise CommandError(
                f"--split-date: {company.code} has no settled invoice to backtest on"
            )
        first, last = bounds
        if not first <= split < last:
            raise CommandError(
                f"--split-date {split.isoformat()}: expected a day with invoices settled "
                f"before and after it, from {first.isoformat()} to the day before "
                f"{last.isoformat()}"
            )
        try:
            result = prediction.backtest(company, split)
        except prediction.NotEnoughHistoryError as exc:
            raise CommandError(f"--split-date {split.isoformat()}: {exc}") from None
        payload = backtest_payload(company, result)
        if options["format"] == "json":
            self.emit_json(payload)
            return
        self.stdout.write(
            f"{company.code}: split {split.isoformat()}, trained on {result.training_rows} paid "
            f"invoices, evaluated on {result.evaluated_rows} open then and paid later "
            f"({result.still_open} still open)"
        )
        for method in result.methods:
            self.stdout.write(f"  {method.name:<14} MAE {method.mae_days:6.2f} days, "
                              f"{method.within_7_days:6.1%} within 7 days")  # fmt: skip
        interval = result.interval
        self.stdout.write(
            f"  interval: {interval.coverage:.1%} of {interval.rows} outcomes between the 10 % and "
            f"90 % dates ({interval.before:.1%} before, {interval.after:.1%} after)"
        )
        self.stdout.write(f"best: {result.winner}")


def calibrated(calibration: prediction.Calibration) -> str:
    """The training's calibration in a sentence (`prediction.Calibration`)."""
    weeks = prediction.CALIBRATION_DAYS // 7
    if calibration.on is None:
        return f"the interval is as fitted (too little history before the last {weeks} weeks to calibrate it)"
    return (
        f"the interval calibrated on the {calibration.rows} invoices open on "
        f"{calibration.on.isoformat()} ({calibration.unpaid} unpaid {weeks} weeks later): "
        f"waits to the low date x {calibration.low:.2f}, to the high date x {calibration.high:.2f}"
    )


def backtest_payload(company: Company, result: Backtest) -> dict[str, Any]:
    return {
        "company": company.code,
        "split_date": result.split.isoformat(),
        "training": {
            "rows": result.training_rows,
            "settled_from": result.window[0].isoformat(),
            "settled_to": result.window[1].isoformat(),
        },
        "evaluated_rows": result.evaluated_rows,
        "still_open": result.still_open,
        "methods": {
            m.name: {"mae_days": m.mae_days, "within_7_days": m.within_7_days}
            for m in result.methods
        },
        "model_interval": {
            "rows": result.interval.rows,
            "coverage": result.interval.coverage,
            "before": result.interval.before,
            "after": result.interval.after,
        },
        "winner": result.winner,
        "model_beats_baselines": result.winner == "model"
        and all(m.mae_days > result.methods[0].mae_days for m in result.methods[1:]),
    }
