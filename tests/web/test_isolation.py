"""No data of another company is reachable through any page (issue 6), route by route.

The routes come from the URL conf itself, so a page added later is covered without touching
this file; a route whose parameter names a kind of record this test has no example of fails
it (add the model to RECORDS). Company A is the small demo (every kind of case work); Bolt's
administrator, signed in past the second factor, asks for each of A's records by its id, by
GET and by POST: every answer refuses (403, 404, 405, or 400 for a form refused before any
record is read) and none shows A's customer names. The portal's links and the customer's own
invoices are tested in tests/web/test_portal.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from dunwell.cases.models import (
    CustomerReply,
    Dispute,
    DisputeAttachment,
    Insolvency,
    InsolvencyKind,
    PaymentPlan,
    Placement,
    Task,
    WriteOffRequest,
)
from dunwell.cases.services.disputes import attach, open_dispute
from dunwell.cases.services.insolvency import open_insolvency
from dunwell.cases.services.replies import log_reply
from dunwell.cases.services.writeoffs import request_write_off
from dunwell.cash.models import StatementLine
from dunwell.core.models import Company, Membership, Role
from dunwell.demo.build import build_demo
from dunwell.dunning.models import Decision, Message, Run
from dunwell.ledger.models import Customer, OpenItem
from dunwell.ledger.services.overdue import record_overdue
from dunwell.webhooks.models import Delivery, Subscription
from dunwell.webhooks.services import enqueue, subscribe
from tests import factories as f

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
# A route's record parameter -> the model whose rows it names (scoped by `company`).
RECORDS: dict[str, type[Model]] = {
    "customer_id": Customer, "item_id": OpenItem, "dispute_id": Dispute,
    "attachment_id": DisputeAttachment, "insolvency_id": Insolvency, "placement_id": Placement,
    "plan_id": PaymentPlan, "reply_id": CustomerReply, "request_id": WriteOffRequest,
    "task_id": Task, "line_id": StatementLine, "message_id": Message, "decision_id": Decision,
    "run_id": Run, "subscription_id": Subscription, "delivery_id": Delivery,
}  # fmt: skip
# pages not of the signed-in staff (the API's routes are checked from its OpenAPI document in
# tests/web/test_api.py)
NOT_COMPANY_PAGES = ("admin/", "portal/", "payments/", "login/", "logout/", "account/", "api/")
REFUSED = {400, 403, 404, 405}


def routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def of_company(model: type[Model], company: Company) -> Model | None:
    rows = model._default_manager.all()
    if model is DisputeAttachment:
        rows = rows.filter(dispute__company=company)
    elif model is Delivery:
        rows = rows.filter(subscription__company=company)
    elif model in (Decision, Message):
        rows = (
            rows.filter(run__company=company) if model is Decision else rows.filter(company=company)
        )
    else:
        rows = rows.filter(company=company)
    return rows.order_by("pk").first()


@pytest.fixture
def two_companies() -> tuple[Company, User, list[str]]:
    stats = build_demo(seed=1, customers=12, months=6, as_of=AS_OF, at=AT)
    acme = stats.company
    customer = Customer.objects.filter(company=acme).order_by("pk").first()
    item = OpenItem.objects.filter(company=acme, kind="invoice", open_minor__gt=0).first()
    assert customer is not None and item is not None
    other = OpenItem.objects.filter(company=acme, kind="invoice", open_minor__gt=0).exclude(
        pk=item.pk).first()  # fmt: skip
    assert other is not None
    dispute = open_dispute(company=acme, customer=other.customer, items=[(other, None)],
                           reason="price", actor=None, on=AS_OF, at=AT)  # fmt: skip
    attach(dispute=dispute, name="note.txt", content=b"delivery note", actor=None, on=AS_OF,
           at=AT)  # fmt: skip
    log_reply(company=acme, customer=item.customer, raw="We paid last week.", actor=None,
              on=AS_OF, at=AT)  # fmt: skip
    request_write_off(company=acme, item=item, amount_minor=item.open_minor, reason="goodwill",
                      actor=None, on=AS_OF, at=AT)  # fmt: skip
    open_insolvency(company=acme, customer=customer, kind=InsolvencyKind.choices[0][0],
                    court="AG München", case_reference="1501 IN 1/26", opened_on=AS_OF,
                    actor=None, on=AS_OF, at=AT)  # fmt: skip
    webhook = subscribe(company=acme, url="https://erp.example/hooks", events=["invoice.overdue"],
                        actor=None, at=AT)  # fmt: skip
    record_overdue(company=acme, on=AS_OF + timedelta(days=1), at=AT)
    assert enqueue(company=acme, at=AT) > 0 and webhook.deliveries.exists()
    bolt = f.company("bolt")
    admin = User.objects.create_user("bea")
    Membership.objects.create(user=admin, company=bolt, role=Role.ADMIN)
    names = list(Customer.objects.filter(company=acme).values_list("legal_name", flat=True))
    return acme, admin, names


def record_urls(company: Company) -> tuple[list[str], set[str]]:
    """Every company page that names a record, with `company`'s records; the parameters this
    test has no record for."""
    urls, missing = [], set()
    for route in routes(get_resolver().url_patterns):
        parameters = [name for _, name in PARAMETER.findall(route)]
        if route.startswith(NOT_COMPANY_PAGES) or not parameters:
            continue
        values: dict[str, str] = {}
        for name in parameters:
            model = RECORDS.get(name)
            row = of_company(model, company) if model is not None else None
            if model is not None and row is None:
                missing.add(name)
            values[name] = str(row.pk) if row is not None else "x"  # "x": an action word
        urls.append("/" + PARAMETER.sub(partial(_value, values), route))
    return urls, missing


def _value(values: dict[str, str], found: re.Match[str]) -> str:
    return values[found[2]]


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
