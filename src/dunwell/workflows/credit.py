"""The credit part of the daily cycle, after the dunning run and before the worklists are
rebuilt (so the worklist shows today's holds): the risk scores, the policy's holds placed and
released, the credit reviews that are due, and the payment-date predictions (the model trained
again once a week, every open invoice scored every day)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dunwell.core.models import Company
from dunwell.credit.models import PredictionModel
from dunwell.credit.prediction import NotEnoughHistoryError, score, train
from dunwell.credit.services.limits import schedule_reviews
from dunwell.credit.services.policy import check_credit
from dunwell.credit.services.scores import refresh_scores

RETRAIN_AFTER = timedelta(days=7)


def predictions_after_run(company: Company, on: date, at: datetime) -> dict[str, object]:
    """Train when the latest model is a week old (or there is none), then score; a company with
    too little history is told so, and nothing is predicted."""
    latest = PredictionModel.objects.filter(company=company).order_by("-trained_at", "-pk").first()
    trained = False
    if latest is None or latest.as_of <= on - RETRAIN_AFTER:
        try:
            latest = train(company=company, as_of=on, at=at)
        except NotEnoughHistoryError as error:
            return {"predicted": 0, "trained": False, "reason": error.message}
        trained = True
    scored = score(company=company, as_of=on, at=at, model=latest)
    return {"predicted": scored.rows, "trained": trained, "model": latest.pk}


def credit_after_run(company: Company, on: date, at: datetime) -> dict[str, object]:
    scored = refresh_scores(company=company, as_of=on, at=at)
    report = check_credit(company=company, on=on, at=at)
    reviews = schedule_reviews(company=company, on=on, at=at)
    predictions = predictions_after_run(company, on, at)
    return {"scored": scored, **report.as_dict(), "reviews": reviews, "predictions": predictions}
