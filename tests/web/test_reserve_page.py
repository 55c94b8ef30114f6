"""The bad-debt reserve page: the worked example's figures, the movement, the rates set by a
credit manager (not a collector), refusals naming the field, another company's ledger unseen."""

from __future__ import annotations

from datetime import date

import pytest

from dunwell.core.models import Role
from dunwell.reports.models import ReserveRates
from tests import factories as f
from tests.reports.test_reserve import AS_OF, aged_ledger

pytestmark = pytest.mark.django_db
PAGE = "/aging/reserve/"


def test_a_viewer_sees_the_reserve_with_the_illustrative_rates_said() -> None:
    company = f.company()
    aged_ledger(company, "C1")
    aged_ledger(f.company("other"), "X1", segment="secret")
    client = f.member(company, "vera", Role.VIEWER)

    page = client.get(PAGE, {"as_of": "2025-03-31", "start": "2024-12-31"}).content.decode()

    assert "Bad-debt reserve as of 2025-03-31" in page
    assert "These are illustrative rates" in page
    for shown in ("€210,000.00", "€7,100.00", "3.38 %", "€700.00", "€2,250.00", "75 %"):
        assert shown in page, shown
    assert "Movement from 2024-12-31 to 2025-03-31" in page
    assert "secret" not in page
    assert "Set new loss rates" not in page  # a viewer cannot set them


def test_a_credit_manager_sets_rates_from_a_date_and_a_collector_cannot() -> None:
    company = f.company()
    aged_ledger(company, "C1", segment="retail")
    form = {"rate_0": "0.3", "rate_1": "1.6", "rate_2": "3.6", "rate_3": "6.6", "rate_4": "10.6",
            "rate_5": "10.6", "segment": "", "effective_on": "2025-01-01",
            "reason": "IFRS 9 matrix, board 2024-12"}  # fmt: skip

    refused = f.member(company, "carl", Role.COLLECTOR).post(f"{PAGE}rates", form)
    assert refused.status_code == 403 and not ReserveRates.objects.exists()

    client = f.member(company, "cora", Role.CREDIT_MANAGER)
    done = client.post(f"{PAGE}rates", form, follow=True).content.decode()
    assert "Loss rates 0.3,1.6,3.6,6.6,10.6,10.6 stand from 2025-01-01 for all customers." in done
    page = client.get(PAGE, {"as_of": AS_OF.isoformat()}).content.decode()
    assert "€2,870.00" in page and "1.37 %" in page
    assert "IFRS 9 matrix, board 2024-12" in page and "cora" in page
    assert "These are illustrative rates" not in page

    wrong = client.post(f"{PAGE}rates", {**form, "rate_5": "101"}, follow=True).content.decode()
    assert "&gt;120: Ensure this value is less than or equal to 100." in wrong
    unknown = client.post(f"{PAGE}rates", {**form, "segment": "nobody"}, follow=True)
    assert "no customer of acme is in segment &#x27;nobody&#x27;" in unknown.content.decode()
    assert ReserveRates.objects.count() == 1
    assert ReserveRates.objects.get().effective_on == date(2025, 1, 1)


def test_the_aging_links_to_the_reserve_of_its_day() -> None:
    company = f.company()
    page = f.member(company, "vera", Role.VIEWER).get("/aging/", {"as_of": "2025-03-31"})
    assert f'href="{PAGE}?as_of=2025-03-31"' in page.content.decode()
