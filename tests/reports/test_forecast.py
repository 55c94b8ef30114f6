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
from dunwell.ledger.models import OpenItem
from dunwell.reports.forecast import cash_forecast
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
    # INV-2 spread as the rules' example (0.32857, 0.4, 0.22857, 0.04286 of 700), INV-1 in week
    # 2, INV-3 (no prediction) on its due date, 30 days on: week 5
    assert [w.expected_minor for w in eur.weeks[:5]] == [230_00, 1_280_00, 160_00, 30_00, 300_00]
    assert eur.later_minor == 0 and forecast.scored_on == AS_OF
    assert (usd.weeks[0].expected_minor, usd.unpredicted_minor) == (500_00, 500_00)  # past due


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
    assert len([line for line in lines if line.startswith("EUR,")]) == 14  # 13 weeks + later
