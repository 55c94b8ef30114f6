"""No data of another company is reachable through any page (issue 6), route by route.

The routes come from the URL conf itself, so a page added later is covered without touching
this file; a route whose parameter names a kind of record this test has no example of fails
it (add the model to RECORDS in tests/urlconf.py). Company A is the small demo (every kind of case work); Bolt's
administrator, signed in past the second factor, asks for each of A's records by its id, by
GET and by POST: every answer refuses (403, 404, 405, or 400 for a form refused before any
record is read) and none shows A's customer names. The portal's links and the customer's own
invoices are tested in tests/web/test_portal.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dunwell.core.models import Company, Membership, Role
from dunwell.ledger.models import Customer
from tests import factories as f
from tests.urlconf import company_with_every_record, record_urls

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
REFUSED = {400, 403, 404, 405}


@pytest.fixture
def two_companies() -> tuple[Company, User, list[str]]:
    acme = company_with_every_record(AS_OF, AT)
    bolt = f.company("bolt")
    admin = User.objects.create_user("bea")
    Membership.objects.create(user=admin, company=bolt, role=Role.ADMIN)
    names = list(Customer.objects.filter(company=acme).values_list("legal_name", flat=True))
    return acme, admin, names


def test_every_page_refuses_another_companys_records(two_companies: Any) -> None:
    acme, admin, names = two_companies
    client = f.signed_in(Client(), admin)
    urls, missing = record_urls(acme)
    assert not missing, f"no record of company A for {sorted(missing)}: add one to the fixture"
    assert len(urls) >= 40
    for url in urls:
        for method in (client.get, client.post):
            response = method(url)
            body = response.content.decode(errors="replace")
            assert response.status_code in REFUSED, (method.__name__, url, response.status_code)
            leaked = [n for n in names if n in body]
            assert not leaked, (method.__name__, url, leaked)
