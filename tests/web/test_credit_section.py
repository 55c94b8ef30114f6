"""The customer page's credit section: exposure against the limit, the score with why, the
limit's history; a credit manager sets the limit (the policy's hold follows), a collector cannot."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dunwell.core import clock
from dunwell.core.models import Role
from dunwell.credit.models import CreditHold, CreditLimitChange, RiskScore
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_credit_manager_sets_the_limit_and_sees_the_exposure_over_it() -> None:
    company = f.company()
    customer = f.customer(company, "C1", "Kunde C1")
    f.invoice(company, customer, "INV-1", 12_000_00, clock.today(company) - timedelta(days=5))
    RiskScore.objects.create(company=company, customer=customer, as_of=clock.today(company),
                             scored_at=f.AT, value=62, band="medium", experiences=4,
                             explanation="62 (medium risk): payment index 62.0 over 4 invoice(s)")  # fmt: skip
    url = f"/customers/{customer.pk}/"

    refused = f.member(company, "carl", Role.COLLECTOR).post(f"{url}credit-limit",
                                                            {"limit": "1", "reason": "x"})  # fmt: skip
    assert refused.status_code == 403 and not CreditLimitChange.objects.exists()

    client = f.member(company, "cora", Role.CREDIT_MANAGER)
    done = client.post(f"{url}credit-limit", {"limit": "10,000.00", "reason": "opening"},
                       follow=True).content.decode()  # fmt: skip

    assert "Kunde C1 (C1): credit limit EUR 10000.00" in done
    for shown in (
        "€12,000.00",
        "120 % of the limit",
        "Over the limit by",
        "€2,000.00",
        "62 (medium risk): payment index 62.0 over 4 invoice(s)",
        "opening",
        "cora",
    ):
        assert shown in done, shown
    assert CreditHold.objects.get(customer=customer).source == "credit policy"

    wrong = client.post(f"{url}credit-limit", {"limit": "ten", "reason": "x"}, follow=True)
    assert "Credit limit &#x27;ten&#x27;: &#x27;ten&#x27; is not a number" in wrong.content.decode()
    unset = client.post(f"{url}credit-limit", {"limit": "", "reason": "trusted"}, follow=True)
    assert "Kunde C1 (C1): credit limit no limit" in unset.content.decode()
    assert CreditHold.objects.get(customer=customer).released_on is not None
