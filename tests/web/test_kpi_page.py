"""The KPI page and the overview's KPI trends: DOMAIN.md §3's quarter on the page, charts drawn
as SVG (a month without a value a gap), by segment, bad months named; the overview draws the
daily snapshot, and says when there is none yet."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dunwell.core.models import Role
from dunwell.reports.kpi_snapshot import refresh_kpi_snapshot
from tests import factories as f
from tests.reports.test_kpi import dataset

pytestmark = pytest.mark.django_db


def test_the_quarter_on_the_kpi_page() -> None:
    company = f.company()
    dataset(company)
    client = f.member(company, "vera", Role.VIEWER)

    html = client.get("/kpis/", {"first": "2025-01", "last": "2025-03"}).content.decode()

    assert "KPIs from 2025-01 to 2025-03" in html
    for shown in ("51.08", "34.05", "17.03", "83.33 %", "€210,000.00", "66.67"):
        assert shown in html, shown
    assert html.count('<polyline class="line line-0"') == 2  # DSO, and CEI, one line each
    assert 'aria-label="Days sales outstanding"' in html

    by_segment = client.get("/kpis/", {"first": "2025-01", "last": "2025-03", "by": "segment",
                                       "group": "wholesale"}).content.decode()  # fmt: skip
    assert "wholesale · EUR" in by_segment and "retail · EUR" not in by_segment

    wrong = client.get("/kpis/", {"first": "2025-04", "last": "2025-03"}).content.decode()
    assert "The first month must not be after the last." in wrong


def test_the_overview_draws_the_daily_snapshot() -> None:
    company = f.company()
    dataset(company)
    client = f.member(company, "vera", Role.VIEWER)
    assert "No KPI trends yet: the daily cycle makes them." in client.get("/").content.decode()

    refresh_kpi_snapshot(company, date(2025, 4, 2), datetime(2025, 4, 2, 6, tzinfo=UTC))
    html = client.get("/").content.decode()

    assert "EUR: DSO and CEI" in html
    assert "The twelve months before" in html
    assert '<polyline class="line line-0"' in html
