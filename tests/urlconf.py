"""The staff pages, generated from the URL conf: a page added later is covered by every test that
walks them (company isolation in tests/web/test_isolation.py, the tablet layout in
tests/browser/test_tablet_layout.py) without touching those tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.db.models import Model
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
from dunwell.core.models import Company
from dunwell.demo.build import build_demo
from dunwell.dunning.models import Decision, Message, Run
from dunwell.ledger.models import Customer, OpenItem
from dunwell.ledger.services.overdue import record_overdue
from dunwell.webhooks.models import Delivery, Subscription
from dunwell.webhooks.services import enqueue, subscribe

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


def plain_urls() -> list[str]:
    """Every company page that names no record (lists, dashboards, forms)."""
    return sorted(
        "/" + route
        for route in routes(get_resolver().url_patterns)
        if not route.startswith(NOT_COMPANY_PAGES)
        and not PARAMETER.search(route)
        and not route.startswith(("^", "static/"))
    )


def company_with_every_record(as_of: date, at: datetime) -> Company:
    """The small demo (12 customers, 6 months) plus one record of each kind a page can name that
    the demo does not make: a dispute with an attachment, a reply, a pending write-off, an
    insolvency, a webhook subscription with a delivery."""
    acme = build_demo(seed=1, customers=12, months=6, as_of=as_of, at=at).company
    customer = Customer.objects.filter(company=acme).order_by("pk").first()
    item = OpenItem.objects.filter(company=acme, kind="invoice", open_minor__gt=0).first()
    assert customer is not None and item is not None
    other = OpenItem.objects.filter(company=acme, kind="invoice", open_minor__gt=0).exclude(
        pk=item.pk).first()  # fmt: skip
    assert other is not None
    dispute = open_dispute(company=acme, customer=other.customer, items=[(other, None)],
                           reason="price", actor=None, on=as_of, at=at)  # fmt: skip
    attach(dispute=dispute, name="note.txt", content=b"delivery note", actor=None, on=as_of,
           at=at)  # fmt: skip
    log_reply(company=acme, customer=item.customer, raw="We paid last week.", actor=None,
              on=as_of, at=at)  # fmt: skip
    request_write_off(company=acme, item=item, amount_minor=item.open_minor, reason="goodwill",
                      actor=None, on=as_of, at=at)  # fmt: skip
    open_insolvency(company=acme, customer=customer, kind=InsolvencyKind.choices[0][0],
                    court="AG München", case_reference="1501 IN 1/26", opened_on=as_of,
                    actor=None, on=as_of, at=at)  # fmt: skip
    webhook = subscribe(company=acme, url="https://erp.example/hooks", events=["invoice.overdue"],
                        actor=None, at=at)  # fmt: skip
    record_overdue(company=acme, on=as_of + timedelta(days=1), at=at)
    assert enqueue(company=acme, at=at) > 0 and webhook.deliveries.exists()
    return acme
