"""Payment-date prediction: the backtest and its baselines, training, scoring, `dunwell predict`."""

import json
from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command

from dunwell.core.errors import DunwellError
from dunwell.credit import prediction
from dunwell.credit.models import PaymentPrediction, PredictionModel
from dunwell.demo.build import build_demo
from dunwell.ledger.models import OpenItem
from dunwell.ledger.services.allocations import allocate_payment
from tests import factories as f
from tests.credit import paid_ledger

pytestmark = pytest.mark.django_db

AT = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
SPLIT = date(2026, 3, 31)
AS_OF = date(2026, 6, 30)


def pay(company, item: OpenItem, on: date) -> None:
    payment = f.payment(company, item.customer, f"P-{item.number}", item.amount_minor, on)
    allocate_payment(company=company, payment=payment, item=item, amount_minor=item.amount_minor,
                     on=on, actor=None, at=AT)  # fmt: skip


def invoice(company, customer, number: str, issued: str, due: str, paid: str | None = None):
    item = f.invoice(company, customer, number, 1_000_00, date.fromisoformat(issued),
                     date.fromisoformat(due))  # fmt: skip
    if paid:
        pay(company, item, date.fromisoformat(paid))
    return item


def hand_made_ledger():
    """A pays 10 and 20 days late, B on time and 4 days late, C is new; at the split three of
    their invoices are open and are paid later (25, 2 and 6 days late), a fourth never is."""
    company = f.company()
    a, b, c = (f.customer(company, n, f"Customer {n}") for n in ("A", "B", "C"))
    invoice(company, a, "A-1", "2026-01-02", "2026-01-16", "2026-01-26")
    invoice(company, a, "A-2", "2026-01-15", "2026-02-14", "2026-03-06")
    invoice(company, b, "B-1", "2026-01-05", "2026-02-04", "2026-02-04")
    invoice(company, b, "B-2", "2026-02-01", "2026-03-03", "2026-03-07")
    invoice(company, a, "A-3", "2026-03-06", "2026-03-20", "2026-04-14")
    invoice(company, b, "B-3", "2026-03-11", "2026-04-10", "2026-04-12")
    invoice(company, c, "C-1", "2026-03-02", "2026-04-01", "2026-04-07")
    invoice(company, c, "C-2", "2026-03-16", "2026-04-15")
    return company


def generated(code: str = "acme", seed: int = 1, invoices: int = 1200):
    company = f.company(code)
    paid_ledger.build(company, customers=30, invoices=invoices, start=date(2025, 1, 1), days=540,
                      until=AS_OF, seed=seed)  # fmt: skip
    return company


def test_the_backtest_baselines_are_the_due_date_and_the_customers_mean_at_the_split():
    result = prediction.backtest(hand_made_ledger(), SPLIT, min_paid=4)
    assert (result.training_rows, result.evaluated_rows, result.still_open) == (4, 3, 1)
    methods = {m.name: m for m in result.methods}
    # due date: |25| + |2| + |6| = 33 over 3; customer mean: A 15 vs 25, B 2 vs 2, C none (0) vs 6
    assert (methods["due_date"].mae_days, methods["due_date"].within_7_days) == (11.0, 0.6667)
    assert (methods["customer_mean"].mae_days, methods["customer_mean"].within_7_days) == (
        5.33, 0.6667,
    )  # fmt: skip
    assert result.window == (date(2026, 1, 26), date(2026, 3, 7))


def test_the_model_beats_both_baselines_on_the_demo_ledger():
    stats = build_demo(seed=1, customers=60, months=12, as_of=date(2026, 11, 23),
                       at=datetime(2026, 11, 23, 18, 0, tzinfo=UTC))  # fmt: skip
    result = prediction.backtest(stats.company, date(2026, 9, 30))
    methods = {m.name: m for m in result.methods}
    assert result.evaluated_rows > 300 and result.training_rows > 2000
    assert result.winner == "model"
    assert (
        methods["model"].mae_days < methods["customer_mean"].mae_days < methods["due_date"].mae_days
    )
    assert methods["model"].within_7_days > methods["customer_mean"].within_7_days
    assert methods["model"].mae_days < 0.7 * methods["customer_mean"].mae_days
    # the 10-90 % interval keeps its promise on what it can be judged on, never-paid included
    interval = result.interval
    assert interval.rows >= result.evaluated_rows
    assert 0.72 <= interval.coverage <= 0.88, interval
    assert interval.before <= 0.18 and interval.after <= 0.18, interval


def test_the_interval_is_calibrated_on_the_invoices_open_13_weeks_before_the_training_day():
    company = generated()
    model = prediction.train(company=company, as_of=AS_OF, at=AT)
    calibration = model.params["calibration"]
    cut = date(2026, 3, 31)  # 91 days before AS_OF
    open_then = OpenItem.objects.filter(company=company, issued_on__lte=cut).exclude(
        settled_on__lte=cut
    )
    assert calibration["on"] == cut.isoformat() and calibration["rows"] == open_then.count()
    assert calibration["unpaid"] == open_then.filter(settled_on__isnull=True).count()
    assert calibration["low_factor"] <= 1.5 and calibration["high_factor"] >= 0.5


def test_invoices_never_paid_widen_the_interval_above():
    company = generated()
    before = prediction.train(company=company, as_of=AS_OF, at=AT).params["calibration"]
    late = f.customer(company, "LATE", "Never Pays GmbH")
    for n in range(60):  # open on the calibration day, still unpaid at the training day
        invoice(company, late, f"L-{n}", f"2026-03-{1 + n % 28:02d}", f"2026-03-{1 + n % 28:02d}")
    after = prediction.train(company=company, as_of=AS_OF, at=AT).params["calibration"]
    assert after["unpaid"] == before["unpaid"] + 60
    assert after["high_factor"] > 1.5 * before["high_factor"]


def test_a_model_stored_before_calibration_scores_its_interval_as_fitted():
    company = generated()
    model = prediction.train(company=company, as_of=AS_OF, at=AT)
    assert model.params["calibration"]["high_factor"] != 1.0
    prediction.score(company=company, as_of=AS_OF, at=AT, model=model)
    calibrated = predictions(company)
    del model.params["calibration"]
    model.save(update_fields=["params"])
    prediction.score(company=company, as_of=AS_OF, at=AT, model=model)
    fitted = predictions(company)
    assert [row[3] for row in fitted] == [row[3] for row in calibrated]  # the point is the same
    assert [row[5] for row in fitted] != [row[5] for row in calibrated]


def test_the_same_ledger_trains_the_same_model_and_scores_the_same_dates():
    company = generated()
    first = prediction.train(company=company, as_of=AS_OF, at=AT)
    second = prediction.train(company=company, as_of=AS_OF, at=AT)
    assert first.point_model == second.point_model and first.high_model == second.high_model
    assert first.rows == second.rows == OpenItem.objects.filter(company=company,
                                                                settled_on__isnull=False).count()  # fmt: skip
    prediction.score(company=company, as_of=AS_OF, at=AT, model=first)
    by_first = predictions(company)
    prediction.score(company=company, as_of=AS_OF, at=AT, model=second)
    assert predictions(company) == by_first


def predictions(company) -> list[tuple]:
    return list(
        PaymentPrediction.objects.filter(company=company)
        .order_by("item_id")
        .values_list(
            "item_id", "open_minor", "due_on", "predicted_on", "low_on", "high_on", "lateness_days"
        )
    )


def test_scoring_replaces_the_predictions_with_one_row_per_open_invoice():
    company = generated()
    prediction.train(company=company, as_of=AS_OF, at=AT)
    scored = prediction.score(company=company, as_of=AS_OF, at=AT)
    open_items = OpenItem.objects.filter(company=company, settled_on__isnull=True)
    assert scored.rows == open_items.count() > 50
    assert scored.by_currency == {"EUR": sum(open_items.values_list("open_minor", flat=True))}
    rows = predictions(company)
    assert all(low <= on <= high and on > AS_OF for _, _, _, on, low, high, _ in rows)
    assert all(late == (on - due).days for _, _, due, on, _, _, late in rows)
    again = prediction.score(company=company, as_of=AS_OF, at=AT)
    assert again.rows == scored.rows and predictions(company) == rows
    item = open_items.order_by("pk").first()
    assert item is not None
    pay(company, item, date(2026, 7, 1))
    prediction.score(company=company, as_of=date(2026, 7, 1), at=AT)
    assert not PaymentPrediction.objects.filter(item=item).exists()
    assert PaymentPrediction.objects.filter(company=company).count() == scored.rows - 1


def test_a_crash_while_scoring_leaves_the_previous_predictions_whole(monkeypatch):
    company = generated()
    prediction.train(company=company, as_of=AS_OF, at=AT)
    prediction.score(company=company, as_of=AS_OF, at=AT)
    before = predictions(company)

    def crash(name: str) -> None:
        raise RuntimeError(f"power cut at {name}")

    monkeypatch.setattr(prediction.faults, "point", crash)
    with pytest.raises(RuntimeError, match=r"power cut at predict\.score\.after_delete"):
        prediction.score(company=company, as_of=date(2026, 7, 1), at=AT)
    assert predictions(company) == before
    assert set(PaymentPrediction.objects.values_list("as_of", flat=True)) == {AS_OF}


def test_each_company_trains_on_and_scores_only_its_own_invoices():
    mine, theirs = generated("acme", seed=1), generated("other", seed=2, invoices=900)
    model = prediction.train(company=mine, as_of=AS_OF, at=AT)
    assert model.rows == OpenItem.objects.filter(company=mine, settled_on__isnull=False).count()
    prediction.train(company=theirs, as_of=AS_OF, at=AT)
    prediction.score(company=theirs, as_of=AS_OF, at=AT)
    theirs_before = predictions(theirs)
    prediction.score(company=mine, as_of=AS_OF, at=AT)
    assert predictions(theirs) == theirs_before
    assert set(
        PaymentPrediction.objects.filter(company=mine).values_list("item__company", flat=True)
    ) == {mine.pk}
    with pytest.raises(DunwellError, match=f"model {model.pk} is not other's"):
        prediction.score(company=theirs, as_of=AS_OF, at=AT, model=model)


def test_too_little_history_is_said_plainly():
    company = hand_made_ledger()
    with pytest.raises(CommandError) as error:
        call_command("predict", "train", "--as-of", "2026-06-30")
    assert str(error.value) == (
        "too little history to predict payment dates: 7 paid invoices settled by 2026-06-30, "
        "at least 200 needed (until then the customer's mean lateness is the better estimate)"
    )
    assert not PredictionModel.objects.filter(company=company).exists()
    with pytest.raises(CommandError) as error:
        call_command("predict", "backtest", "--split-date", "2026-03-31")
    assert str(error.value).startswith(
        "--split-date 2026-03-31: too little history to predict payment dates: 4 paid invoices "
        "settled by 2026-03-31, at least 200 needed"
    )
    with pytest.raises(CommandError, match="acme has no payment-date model yet"):
        call_command("predict", "score", "--as-of", "2026-06-30")


def test_the_commands_report_as_json(capsys):
    company = generated()
    call_command("predict", "train", "--as-of", "2026-06-30", "--format", "json")
    trained = json.loads(capsys.readouterr().out)
    model = PredictionModel.objects.get(company=company)
    assert trained["model"] == model.pk and trained["as_of"] == "2026-06-30"
    assert trained["rows"] == model.rows and trained["features"][:2] == ["log_amount", "terms_days"]
    assert set(trained["metrics"]) == {"training_mae_days"}
    assert trained["calibration"] == model.params["calibration"]
    assert trained["calibration"]["on"] == "2026-03-31"  # 91 days before the training day
    call_command("predict", "score", "--as-of", "2026-06-30", "--format", "json")
    scored = json.loads(capsys.readouterr().out)
    count = PaymentPrediction.objects.filter(company=company).count()
    assert scored["predictions"] == count and list(scored["open_minor_by_currency"]) == ["EUR"]
    call_command("predict", "backtest", "--split-date", "2026-03-31", "--format", "json")
    report = json.loads(capsys.readouterr().out)
    assert list(report) == ["company", "split_date", "training", "evaluated_rows", "still_open",
                            "methods", "model_interval", "winner",
                            "model_beats_baselines"]  # fmt: skip
    assert report["split_date"] == "2026-03-31" and report["company"] == "acme"
    assert list(report["methods"]) == ["model", "due_date", "customer_mean"]
    assert all(set(m) == {"mae_days", "within_7_days"} for m in report["methods"].values())
    assert report["winner"] in report["methods"]
    assert report["training"]["settled_to"] <= "2026-03-31"


@pytest.mark.parametrize(
    ("split", "message"),
    [
        ("2026-02-30", "argument --split-date: '2026-02-30' is not a date: expected YYYY-MM-DD"),
        ("2024-12-31", "--split-date 2024-12-31: expected a day with invoices settled before "
                       "and after it, from 2025-01-"),
        ("2026-06-30", "--split-date 2026-06-30: expected a day with invoices settled"),
    ],
)  # fmt: skip
def test_a_split_date_without_paid_invoices_on_both_sides_is_refused(split, message):
    generated()
    with pytest.raises(CommandError) as error:
        call_command("predict", "backtest", "--split-date", split)
    assert message in str(error.value)
