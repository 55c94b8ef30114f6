"""GET /api/kpis: DOMAIN.md §3's quarter through the API (minor units, two-decimal ratios, the
CEI variant named), by segment, and the refusals that name the parameter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dunwell.api import tokens
from tests import factories as f
from tests.reports.test_kpi import K, dataset
from tests.web.test_api import auth

pytestmark = pytest.mark.django_db


@pytest.fixture
def quarter() -> str:
    company = f.company("quarter")
    dataset(company)
    f.customer(f.company("other"), "X1", "Not Theirs AG")
    _, text = tokens.issue(company=company, name="BI", scopes=["read"], days=30, actor=None,
                           at=datetime.now(tz=UTC))  # fmt: skip
    return text


def test_the_worked_quarter_through_the_api(quarter: str, client) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/api/kpis?from=2025-01&to=2025-03", **auth(quarter))

    assert answer.status_code == 200
    body = answer.json()
    assert (body["first"], body["last"], body["by"], body["cei_default"]) == (
        "2025-01", "2025-03", "company", "total_sales")  # fmt: skip
    (series,) = body["series"]
    q = series["period"]
    assert (q["month"], q["credit_sales_minor"], q["ending_ar_minor"], q["current_ar_minor"]) == (
        "2025-01..2025-03", 370 * K, 210 * K, 140 * K)  # fmt: skip
    assert (q["dso"], q["dso_countback"], q["best_possible_dso"], q["add"]) == (
        "51.08", "45.00", "34.05", "17.03")  # fmt: skip
    assert (q["cei"], q["cei_variant"], q["percent_over_90"]) == ("83.33", "total_sales", "3.33")
    assert series["cei_variants"]["crf_sales_over_n"] == "59.62"
    march = series["months"][2]
    assert (march["month"], march["cei"], march["cei_variant"]) == ("2025-03", "66.67", "one_month")


def test_by_segment_and_the_refusals(quarter: str, client) -> None:  # type: ignore[no-untyped-def]
    by_segment = client.get("/api/kpis?from=2025-01&to=2025-03&by=segment", **auth(quarter)).json()
    assert [(s["group"], s["period"]["ending_ar_minor"]) for s in by_segment["series"]] == [
        ("retail", 163 * K), ("wholesale", 47 * K)]  # fmt: skip
    for query, field, detail in (
        ("from=2025-13", "from", None),
        ("from=2025-04&to=2025-03", "from", "from 2025-04 is after to 2025-03"),
        ("from=2020-01&to=2025-03", "from", "63 months asked: at most 60"),
        (
            "by=planet",
            "by",
            "by: String should match pattern '^(company|segment|collector|customer)$'",
        ),
        ("paid_within=0", "paid_within", None),
        ("month=2025-01", "month", None),
    ):
        refused = client.get(f"/api/kpis?{query}", **auth(quarter))
        assert refused.status_code in (400, 422), query
        assert refused["Content-Type"] == "application/problem+json"
        if detail:
            assert (refused.json()["field"], refused.json()["detail"]) == (field, detail)
