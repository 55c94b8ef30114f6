"""The 13-week cash forecast from stored predictions: today's open amounts at the predicted
dates, an invoice without a prediction at its due date said apart, currencies apart, settled and
voided invoices out, another company's unseen; the page, its chart and its CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dunwell.core import clock
from dunwell.core.models import Company, Membership, Role
from dunwell.credit.models import PaymentPrediction, PredictionModel
from dunwell.ledger.models import Customer, OpenItem
from dunwell.reports.forecast import cash_forecast
from dunwell.reports.reserve import set_rates
from dunwell.reports.rules.reserve import parse_rates
from tests import factories as f

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 12, 3)
AT = datetime(2026, 12, 3, 6, tzinfo=UTC)


def predict(item: OpenItem, low: int, mid: int, high: int) -> None:
    model = PredictionModel.objects.filter(company=item.company).first() or \
        PredictionModel.objects.create(company=item.company, trained_at=AT, as_of=AS_OF,
                                       window_from=AS_OF, window_to=AS_OF, rows=1000,
                                       point_model="x", low_model="x", high_model="x")  # fmt: skip

    def on(days: int) -> date:
        return AS_OF + timedelta(days=days)

    PaymentPrediction.objects.create(
        company=item.company, item=item, customer=item.customer, model=model, as_of=AS_OF,
        scored_at=AT, currency=item.currency, open_minor=item.open_minor, due_on=item.due_on,
        predicted_on=on(mid), low_on=on(low), high_on=on(high),
        lateness_days=(on(mid) - item.due_on).days,
    )  # fmt: skip


def ledger(company: Company) -> None:
    customer = f.customer(company, "C1", "Kunde C1")
    sure = f.invoice(company, customer, "INV-1", 1_000_00, AS_OF - timedelta(days=20),
                     due_on=AS_OF + timedelta(days=10))  # fmt: skip
    predict(sure, 8, 9, 10)  # all in week 2
    spread = f.invoice(company, customer, "INV-2", 700_00, AS_OF - timedelta(days=60),
                       due_on=AS_OF - timedelta(days=30))  # fmt: skip
    predict(spread, 3, 10, 17)
    f.invoice(company, customer, "INV-3", 300_00, AS_OF, due_on=AS_OF + timedelta(days=30))
    f.invoice(company, f.customer(company, "U1", "US Inc", currency="USD"), "US-1", 500_00,
              AS_OF - timedelta(days=90), due_on=AS_OF - timedelta(days=60))  # fmt: skip


def test_the_weeks_from_the_predictions_and_the_due_dates() -> None:
    company = f.company()
    ledger(company)
    ledger(f.company("other"))

    forecast = cash_forecast(company, AS_OF)

    eur, usd = forecast.currencies
    assert (eur.currency, eur.open_minor, eur.unpredicted_minor, eur.invoices) == (
        "EUR", 2_000_00, 300_00, 3)  # fmt: skip
    # at the illustrative loss rates (no company's own): INV-1 and INV-3 are current (0.5 %),
    # INV-2 is 30 days past due (2 %): 995.00, 298.50 and 686.00 of them are expected.
    # INV-2 spread as the rules' example (0.32857, 0.4, 0.22857, 0.04286 of 686), INV-1 in week
    # 2, INV-3 (no prediction) on its due date, 30 days on: week 5
    assert [w.expected_minor for w in eur.weeks[:5]] == [
        225_40, 274_40 + 995_00, 156_80, 29_40, 298_50,
    ]  # fmt: skip
    assert (eur.later_minor, eur.doubtful_minor) == (0, 5_00 + 14_00 + 1_50)
    assert forecast.scored_on == AS_OF and forecast.rates_default
    # US-1 is 60 days past due (5 %), past its due date: in the first week
    assert (usd.weeks[0].expected_minor, usd.unpredicted_minor, usd.doubtful_minor) == (
        475_00, 500_00, 25_00)  # fmt: skip


def test_the_segments_own_loss_rates_say_what_is_doubtful() -> None:
    company = f.company()
    ledger(company)
    Customer.objects.filter(company=company, account_number="C1").update(segment="Public")
    set_rates(company=company, rates=parse_rates("0,0,50,50,50,100"), segment="Public",
              effective_on=AS_OF, reason="public bodies pay, if late", at=AT)  # fmt: skip
    set_rates(company=company, rates=parse_rates("0,0,0,0,100,100"), segment="",
              effective_on=AS_OF - timedelta(days=1), reason="our own", at=AT)  # fmt: skip

    forecast = cash_forecast(company, AS_OF)

    eur, usd = forecast.currencies
    assert not forecast.rates_default
    assert eur.doubtful_minor == 0 and eur.within_minor == 2_000_00  # current and 1-30 at 0 %
    assert usd.doubtful_minor == 0 and usd.weeks[0].expected_minor == 500_00  # 31-60 at 0 %
    assert cash_forecast(company, AS_OF + timedelta(days=1)).currencies[0].doubtful_minor == (
        350_00)  # INV-2 31 days past due: the segment's 50 %  # fmt: skip


def test_the_page_and_its_csv() -> None:
    company = f.company()
    ledger(company)
    user = User.objects.create_user("vera")
    Membership.objects.create(user=user, company=company, role=Role.VIEWER)
    client = f.signed_in(Client(), user)

    today = clock.today(company)
    html = client.get("/forecast/").content.decode()
    assert f"Cash forecast: 13 weeks from {today:%Y-%m-%d}" in html
    assert 'aria-label="Expected receipts in EUR by week"' in html and "Not predicted" in html
    csv = client.get("/forecast/", {"format": "csv"})
    lines = csv.content.decode().splitlines()
    assert lines[0] == "currency,week_from,week_to,expected,low_80,high_80"
    assert len([line for line in lines if line.startswith("EUR,")]) == 15  # + later, doubtful
    assert "EUR,doubtful,,20.50,," in lines
    assert "Doubtful (at the loss rates)" in html
    assert "The rates are the illustrative default: set your own" in html
