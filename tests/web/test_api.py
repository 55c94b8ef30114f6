"""The REST API (issue 6): tokens stored hashed, with scopes and expiry; one company per token;
cursor pages and filters; Idempotency-Key on POST; problem+json errors; the OpenAPI document
and its docs page; the ledger's and the cases' records read, and invoices, payments, disputes
and promises written through the services.

Acme has Bauer KG (C001) with INV-1 (EUR 600.00, overdue) and INV-2 (EUR 400.00, paid); Bolt
has its own customer, which Acme's token must never see. `seed` gives a customer one record of
every kind the API shows (the isolation tests give Bolt's, the schemathesis module its own).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dunwell.api import tokens
from dunwell.api.models import ApiToken
from dunwell.cases.models import Dispute, PromiseToPay
from dunwell.cases.services.disputes import open_dispute
from dunwell.core import clock
from dunwell.core.models import Company
from dunwell.credit.models import OpenOrder
from dunwell.ledger.models import Activity, Customer, ItemKind, OpenItem, Payment
from dunwell.ledger.services.allocations import allocate_payment
from dunwell.terms.services import create_term
from dunwell.workflows.payments import apply_payment
from dunwell.workflows.plans import agree_plan
from dunwell.workflows.promises import open_promise
from tests import factories as f

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(monkeypatch):
    # The business date the API reads (overdue, a promise's "today"); tokens keep the real clock.
    monkeypatch.setattr(clock, "today", lambda company=None: AT.date())
    acme, bolt = f.company("acme"), f.company("bolt")
    bauer = f.customer(acme, "C001", "Bauer KG")
    one = f.invoice(acme, bauer, "INV-1", 600_00, date(2026, 9, 1), due_on=date(2026, 10, 1))
    two = f.invoice(acme, bauer, "INV-2", 400_00, date(2026, 9, 2), due_on=date(2026, 10, 2))
    paid = f.payment(acme, bauer, "BANK-1", 400_00, date(2026, 10, 1))
    allocate_payment(company=acme, payment=paid, item=two, amount_minor=400_00, actor=None,
                     at=AT)  # fmt: skip
    f.customer(bolt, "B-9", "Bolt Secret AG")
    _, text = tokens.issue(company=acme, name="ERP", scopes=["read", "write"], days=30,
                           actor=None, at=datetime.now(tz=UTC))  # fmt: skip
    _, read_only = tokens.issue(company=acme, name="BI", scopes=["read"], days=30, actor=None,
                                at=datetime.now(tz=UTC))  # fmt: skip
    return acme, one, text, read_only


def auth(text: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {text}"}


def seed(company: Company, customer: Customer, prefix: str) -> dict[str, str]:
    """One record of every kind the API shows, for `customer`; their path parameters by name.

    `{prefix}-1` (EUR 500.00) is both an invoice and a credit note (EUR 50.00, of the invoice):
    numbers are unique per kind. A payment of EUR 200.00 pays part of it; EUR 100.00 of it is
    disputed; `{prefix}-2` (EUR 300.00) is promised; `{prefix}-3` (EUR 900.00) is in a plan.
    """
    contact = f.contact(customer, f"ap@{prefix.lower()}.example", name=f"{prefix} AP")
    one = f.invoice(company, customer, f"{prefix}-1", 500_00, date(2026, 9, 1),
                    due_on=date(2026, 10, 1))  # fmt: skip
    two = f.invoice(company, customer, f"{prefix}-2", 300_00, date(2026, 9, 15),
                    due_on=date(2026, 10, 15))  # fmt: skip
    three = f.invoice(company, customer, f"{prefix}-3", 900_00, date(2026, 9, 20),
                      due_on=date(2026, 10, 20))  # fmt: skip
    f.invoice(company, customer, f"{prefix}-1", 50_00, date(2026, 9, 5), kind=ItemKind.CREDIT_NOTE,
              related=one)  # fmt: skip
    paid = f.payment(company, customer, f"{prefix}-BANK-1", 200_00, date(2026, 10, 5))
    [allocation] = apply_payment(company=company, payment=paid, item=one, amount_minor=200_00,
                                 actor=None, at=AT)  # fmt: skip
    dispute = open_dispute(company=company, customer=customer, items=[(one, 100_00)],
                           reason="price", note="unit price", actor=None, on=date(2026, 10, 6),
                           at=AT)  # fmt: skip
    promise = open_promise(company=company, customer=customer, amount_minor=300_00,
                           currency="EUR", promised_on=date(2026, 11, 30),
                           promised_by="Petra", channel="phone", items=[two], actor=None,
                           on=date(2026, 11, 2), at=AT)  # fmt: skip
    plan = agree_plan(company=company, customer=customer, items=[three], instalments=3,
                      first_due_on=date(2026, 12, 1), agreed_by="Petra", actor=None,
                      on=date(2026, 11, 10), at=AT).plan  # fmt: skip
    # an order under the payment's external id: /orders/{external_id} is tried with it too
    OpenOrder.objects.create(company=company, customer=customer, external_id=paid.external_id,
                             currency=customer.currency, open_minor=700_00,
                             ordered_on=date(2026, 11, 1), reported_at=AT)  # fmt: skip
    entry = Activity.objects.filter(customer=customer).order_by("pk").first()
    assert entry is not None
    return {"account_number": customer.account_number, "number": one.number,
            "contact_id": str(contact.pk), "external_id": paid.external_id,
            "allocation_id": str(allocation.pk), "activity_id": str(entry.pk),
            "dispute_id": str(dispute.pk), "promise_id": str(promise.pk),
            "plan_id": str(plan.pk)}  # fmt: skip


def post(client, path: str, body: dict, text: str, key: str = "k-1"):
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY=key, **auth(text))  # fmt: skip


def test_tokens_are_stored_hashed_and_refused_when_wrong_expired_or_revoked(world, client) -> None:
    _, _, text, _ = world
    stored = ApiToken.objects.get(name="ERP")
    assert text not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert stored.key_hash == hashlib.sha256(text.encode()).hexdigest()
    assert client.get("/api/customers", **auth(text)).status_code == 200
    for wrong in ("", "dw_nope_x", text[:-1] + ("A" if text[-1] != "A" else "B")):
        response = client.get("/api/customers", **auth(wrong))
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["title"] == "unauthenticated"
    ApiToken.objects.filter(pk=stored.pk).update(expires_at=datetime.now(tz=UTC) - timedelta(1))
    assert client.get("/api/customers", **auth(text)).status_code == 401
    ApiToken.objects.filter(pk=stored.pk).update(expires_at=None, revoked_at=datetime.now(tz=UTC))
    assert client.get("/api/customers", **auth(text)).status_code == 401


def test_a_token_sees_its_own_company_only(world, client) -> None:
    _, _, text, _ = world
    names = [c["name"] for c in client.get("/api/customers", **auth(text)).json()["items"]]
    assert names == ["Bauer KG"]
    assert client.get("/api/customers/B-9", **auth(text)).status_code == 404
    missing = client.get("/api/invoices/BOLT-1", **auth(text))
    assert missing.status_code == 404 and missing.json()["detail"] == "no invoice 'BOLT-1'"


def test_invoices_are_filtered_and_paged_by_cursor(world, client) -> None:
    _, _, text, _ = world
    first = client.get("/api/invoices?limit=1", **auth(text)).json()
    assert [i["number"] for i in first["items"]] == ["INV-1"] and first["next"]
    second = client.get(f"/api/invoices?limit=1&cursor={first['next']}", **auth(text)).json()
    assert [i["number"] for i in second["items"]] == ["INV-2"] and second["next"] is None
    open_ = client.get("/api/invoices?open=true", **auth(text)).json()["items"]
    assert [(i["number"], i["open_minor"]) for i in open_] == [("INV-1", 600_00)]
    paid = client.get("/api/invoices?open=false&customer=C001", **auth(text)).json()["items"]
    assert [(i["number"], i["settled_on"]) for i in paid] == [("INV-2", "2026-10-01")]
    bad = client.get("/api/invoices?kind=receipt", **auth(text))
    assert bad.status_code == 400 and bad.json()["field"] == "kind"
    assert client.get("/api/invoices?limit=0", **auth(text)).status_code == 400
    assert client.get("/api/invoices?cursor=%%%", **auth(text)).status_code == 400


def test_aging_per_currency(world, client) -> None:
    _, _, text, _ = world
    [eur] = client.get("/api/aging?as_of=2026-11-23", **auth(text)).json()
    assert eur["currency"] == "EUR" and eur["total_minor"] == 600_00
    assert sum(eur["buckets"].values()) == 600_00


def test_a_post_needs_write_scope_and_an_idempotency_key_and_runs_once(world, client) -> None:
    _, _, text, read_only = world
    body = {"customer": "C001", "invoices": ["INV-1"], "amount_minor": 600_00, "currency": "EUR",
            "promised_on": "2026-12-04", "promised_by": "Petra Bauer"}  # fmt: skip
    post = {"data": json.dumps(body), "content_type": "application/json"}
    assert client.post("/api/promises", **post, **auth(read_only)).status_code == 403
    no_key = client.post("/api/promises", **post, **auth(text))
    assert no_key.status_code == 400 and no_key.json()["field"] == "Idempotency-Key"
    key = {"HTTP_IDEMPOTENCY_KEY": "2f1c-promise-1"}
    made = client.post("/api/promises", **post, **auth(text), **key)
    assert made.status_code == 201
    assert (made.json()["amount_minor"], made.json()["state"]) == (600_00, "open")
    again = client.post("/api/promises", **post, **auth(text), **key)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == made.json()
    assert PromiseToPay.objects.count() == 1 and PromiseToPay.objects.get().channel == "api"
    other = {**post, "data": json.dumps({**body, "amount_minor": 1})}
    assert client.post("/api/promises", **other, **auth(text), **key).status_code == 409


def test_errors_are_problem_json_naming_the_field(world, client) -> None:
    _, _, text, _ = world
    post = {"content_type": "application/json", "HTTP_IDEMPOTENCY_KEY": "k1"}
    wrong = client.post("/api/promises", data=json.dumps({"customer": "C001"}), **post,
                        **auth(text))  # fmt: skip
    assert wrong.status_code == 422 and wrong["Content-Type"] == "application/problem+json"
    assert wrong.json()["field"] in ("amount_minor", "currency", "promised_on", "promised_by")
    unknown = client.post("/api/promises", data=json.dumps({
        "customer": "C001", "invoices": ["INV-404"], "amount_minor": 1, "currency": "EUR",
        "promised_on": "2026-12-04", "promised_by": "x"}), **{**post, "HTTP_IDEMPOTENCY_KEY": "k2"},
        **auth(text))  # fmt: skip
    assert unknown.status_code == 404 and unknown.json()["field"] == "invoices"


def test_the_openapi_document_and_its_docs(world, client) -> None:
    spec = client.get("/api/openapi.json").json()
    assert {"/api/customers", "/api/invoices", "/api/aging", "/api/promises"} <= set(spec["paths"])
    assert "Idempotency-Key" in spec["info"]["description"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


def test_tokens_from_the_command_line(world) -> None:
    out = io.StringIO()
    call_command("api", "token-add", "--company", "acme", "--name", "CRM", "--scopes", "read",
                 "--format", "json", stdout=out)  # fmt: skip
    made = json.loads(out.getvalue())
    assert made["token"].startswith(f"dw_{made['prefix']}_") and made["scopes"] == ["read"]
    call_command("api", "token-revoke", made["prefix"], "--company", "acme", stdout=io.StringIO())
    assert ApiToken.objects.get(prefix=made["prefix"]).revoked_at is not None


def test_every_api_route_refuses_another_companys_records(world, client) -> None:
    """Route by route from the OpenAPI document: each path parameter given one of Bolt's."""
    _, _, text, _ = world
    bolt = Company.objects.get(code="bolt")
    theirs = seed(bolt, Customer.objects.get(account_number="B-9"), "BOLT")
    spec = client.get("/api/openapi.json").json()
    checked = 0
    for path, methods in spec["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        if not names:
            continue
        assert set(names) <= set(theirs), f"{path}: give the test one of Bolt's {names}"
        url = re.sub(r"{(\w+)}", lambda m: theirs[m[1]], path)
        for method in methods:
            response = getattr(client, method)(url, **auth(text))
            assert response.status_code == 404, (method, url, response.status_code)
            assert response["Content-Type"] == "application/problem+json"
            assert "Bolt" not in response.content.decode()
            checked += 1
    assert checked >= 11


# A body for each POST that names Bolt's customer and Bolt's invoice.
BOLT_BODIES = {
    "/api/invoices": {"customer": "B-9", "number": "ACME-9", "issued_on": "2026-11-01",
                      "amount_minor": 100_00},
    "/api/payments": {"customer": "B-9", "external_id": "ACME-PAY-9", "value_on": "2026-11-01",
                      "amount_minor": 100_00},
    "/api/disputes": {"customer": "B-9", "invoices": [{"number": "BOLT-1"}], "reason": "price"},
    "/api/promises": {"customer": "B-9", "invoices": ["BOLT-1"], "amount_minor": 100_00,
                      "currency": "EUR", "promised_on": "2026-12-04", "promised_by": "x"},
    "/api/orders": {"external_id": "SO-9", "customer": "B-9", "open_minor": 100_00,
                    "ordered_on": "2026-11-01"},
}  # fmt: skip


def test_every_write_refuses_another_companys_customer_and_invoices(world, client) -> None:
    """POST by POST from the OpenAPI document: Bolt's customer, or Bolt's invoice for Acme's
    own customer, is a 404 and nothing is written."""
    _, _, text, _ = world
    seed(Company.objects.get(code="bolt"), Customer.objects.get(account_number="B-9"), "BOLT")
    before = (OpenItem.objects.count(), Payment.objects.count(), Dispute.objects.count(),
              PromiseToPay.objects.count(), OpenOrder.objects.count())  # fmt: skip
    spec = client.get("/api/openapi.json").json()
    posts = [path for path, methods in spec["paths"].items() if "post" in methods]
    assert sorted(posts) == sorted(BOLT_BODIES)
    for n, path in enumerate(posts):
        theirs = post(client, path, BOLT_BODIES[path], text, key=f"bolt-{n}")
        assert (theirs.status_code, theirs.json()["detail"]) == (404, "no customer 'B-9'"), path
        if "invoices" in BOLT_BODIES[path]:
            ours = post(client, path, {**BOLT_BODIES[path], "customer": "C001"}, text,
                        key=f"acme-{n}")  # fmt: skip
            assert ours.status_code == 404 and ours.json()["field"] == "invoices", path
            assert ours.json()["detail"] == "no invoice BOLT-1 of C001"
    assert before == (OpenItem.objects.count(), Payment.objects.count(), Dispute.objects.count(),
                      PromiseToPay.objects.count(), OpenOrder.objects.count())  # fmt: skip


def test_every_list_filtered_by_another_companys_customer_is_empty(world, client) -> None:
    _, _, text, _ = world
    seed(Company.objects.get(code="bolt"), Customer.objects.get(account_number="B-9"), "BOLT")
    spec = client.get("/api/openapi.json").json()
    lists = [path for path, methods in spec["paths"].items() if "get" in methods
             and "customer" in {p["name"] for p in methods["get"]["parameters"]}]  # fmt: skip
    assert len(lists) == 11
    for path in lists:
        answer = client.get(f"{path}?customer=B-9", **auth(text))
        assert (answer.status_code, answer.json()) == (200, {"items": [], "next": None}), path
        everything = client.get(f"{path}?limit=500", **auth(text)).content.decode()
        assert "BOLT" not in everything and "B-9" not in everything, path


@pytest.fixture
def weber(world):
    """Acme's second customer, Weber GmbH (C002), with one record of every kind (`seed`)."""
    acme = world[0]
    found = f.customer(acme, "C002", "Weber GmbH")
    return seed(acme, found, "W")


def items(client, url: str, text: str) -> list[dict]:
    answer = client.get(url, **auth(text))
    assert answer.status_code == 200, answer.content
    return answer.json()["items"]


def test_contacts_company_wide_and_of_one_customer(world, weber, client) -> None:
    _, _, text, _ = world
    f.contact(Customer.objects.get(account_number="C001"), "ap@bauer.example", name="Petra Bauer")
    everyone = items(client, "/api/contacts", text)
    assert [(c["customer"], c["name"], c["email"], c["role"]) for c in everyone] == [
        ("C002", "W AP", "ap@w.example", "ap_clerk"),
        ("C001", "Petra Bauer", "ap@bauer.example", "ap_clerk"),
    ]
    assert [c["name"] for c in items(client, "/api/customers/C001/contacts", text)] == [
        "Petra Bauer"]  # fmt: skip
    assert items(client, "/api/contacts?role=owner", text) == []
    one = client.get(f"/api/contacts/{weber['contact_id']}", **auth(text)).json()
    assert (one["name"], one["receives_reminders"], one["email_bounced_on"]) == ("W AP", True, None)
    missing = client.get("/api/customers/C404/contacts", **auth(text))
    assert (missing.status_code, missing.json()["detail"]) == (404, "no customer 'C404'")


def test_credit_notes_are_a_list_of_their_own_and_invoices_still_list_every_kind(
    world, weber, client
) -> None:
    _, _, text, _ = world
    [note] = items(client, "/api/credit-notes", text)
    assert (note["number"], note["kind"], note["amount_minor"], note["open_minor"],
            note["related"]) == ("W-1", "credit_note", -50_00, -50_00, "W-1")  # fmt: skip
    every = [(i["number"], i["kind"]) for i in items(client, "/api/invoices?customer=C002", text)]
    assert every == [("W-1", "invoice"), ("W-2", "invoice"), ("W-3", "invoice"),
                     ("W-1", "credit_note")]  # fmt: skip
    assert client.get("/api/invoices/W-1", **auth(text)).json()["kind"] == "invoice"
    assert client.get("/api/credit-notes/W-1", **auth(text)).json()["amount_minor"] == -50_00
    assert client.get("/api/credit-notes/W-2", **auth(text)).status_code == 404


def test_documents_are_filtered_by_issue_and_due_dates_both_ends_included(
    world, weber, client
) -> None:
    _, _, text, _ = world
    issued = items(client, "/api/invoices?issued_from=2026-09-02&issued_to=2026-09-15", text)
    assert [i["number"] for i in issued] == ["INV-2", "W-2", "W-1"]  # W-1: the credit note
    due = items(client, "/api/invoices?kind=invoice&due_from=2026-10-02&due_to=2026-10-20", text)
    assert [i["number"] for i in due] == ["INV-2", "W-2", "W-3"]
    notes = items(client, "/api/credit-notes?issued_to=2026-09-04", text)
    assert notes == []


def test_payments_say_what_is_unapplied_and_allocations_what_settled_what(
    world, weber, client
) -> None:
    _, _, text, _ = world
    [bank] = items(client, "/api/payments?customer=C002", text)
    assert (bank["external_id"], bank["amount_minor"], bank["unapplied_minor"], bank["value_on"],
            bank["settled_on"]) == ("W-BANK-1", 200_00, 0, "2026-10-05", "2026-10-05")  # fmt: skip
    assert [p["external_id"] for p in items(client, "/api/payments?unapplied=false", text)] == [
        "BANK-1", "W-BANK-1"]  # fmt: skip
    assert items(client, "/api/payments?value_from=2026-10-02&voided=false", text)[0][
        "external_id"] == "W-BANK-1"  # fmt: skip
    [applied] = items(client, "/api/allocations?payment=W-BANK-1", text)
    assert (applied["kind"], applied["item"], applied["amount_minor"], applied["currency"],
            applied["payment_amount_minor"], applied["effective_on"]) == (
        "payment", "W-1", 200_00, "EUR", 200_00, "2026-10-05")  # fmt: skip
    one = client.get(f"/api/allocations/{weber['allocation_id']}", **auth(text)).json()
    assert one == applied
    assert [a["item"] for a in items(client, "/api/allocations?effective_to=2026-10-01", text)] == [
        "INV-2"]  # fmt: skip


def test_the_history_is_read_by_stable_kind_names(world, weber, client) -> None:
    _, _, text, _ = world
    history = items(client, "/api/activities?customer=C002&limit=500", text)
    assert [a["kind"] for a in history][:6] == ["customer_created", "invoice_issued",
                                                "invoice_issued", "invoice_issued",
                                                "credit_note_issued", "payment_received"]  # fmt: skip
    [opened] = items(client, "/api/activities?kind=dispute_opened&item=W-1", text)
    assert (opened["customer"], opened["on"], opened["amount_minor"], opened["summary"]) == (
        "C002",
        "2026-10-06",
        100_00,
        f"dispute opened (price): W-1 EUR 100.00: unit price [dispute {weber['dispute_id']}]",
    )
    received = items(client, "/api/activities?kind=payment_received&on_from=2026-10-02", text)
    assert [(a["payment"], a["amount_minor"], a["currency"]) for a in received] == [
        ("W-BANK-1", 200_00, "EUR")]  # fmt: skip
    one = client.get(f"/api/activities/{weber['activity_id']}", **auth(text)).json()
    assert (one["kind"], one["actor"]) == ("customer_created", "system")


def test_disputes_promises_and_plans_with_their_invoices_and_instalments(
    world, weber, client
) -> None:
    _, _, text, _ = world
    [dispute] = items(client, "/api/disputes?state=open&reason=price", text)
    assert (dispute["customer"], dispute["opened_on"], dispute["note"], dispute["items"]) == (
        "C002", "2026-10-06", "unit price",
        [{"invoice": "W-1", "currency": "EUR", "amount_minor": 100_00}])  # fmt: skip
    [promise] = items(client, "/api/promises?promised_from=2026-11-30&promised_to=2026-11-30", text)
    assert (promise["amount_minor"], promise["state"], promise["channel"], promise["invoices"],
            promise["paid_minor"]) == (300_00, "open", "phone", ["W-2"], 0)  # fmt: skip
    plan = client.get(f"/api/plans/{weber['plan_id']}", **auth(text)).json()
    assert (plan["state"], plan["total_minor"], plan["invoices"]) == (
        "active", 900_00, [{"invoice": "W-3", "amount_minor": 900_00}])  # fmt: skip
    assert [(i["sequence"], i["due_on"], i["amount_minor"], i["state"])
            for i in plan["instalments"]] == [(1, "2026-12-01", 300_00, "due"),
                                              (2, "2027-01-01", 300_00, "due"),
                                              (3, "2027-02-01", 300_00, "due")]  # fmt: skip
    assert items(client, "/api/plans?state=completed", text) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("/api/invoices?issued_from=2026-13-01", "issued_from", id="date"),
        pytest.param("/api/invoices?open=perhaps", "open", id="boolean"),
        pytest.param("/api/invoices?currency=EURO", "currency", id="currency"),
        pytest.param("/api/payments?value_to=yesterday", "value_to", id="payment_date"),
        pytest.param("/api/activities?kind=invoice_paid", "kind", id="activity_kind"),
        pytest.param("/api/allocations?kind=cash", "kind", id="allocation_kind"),
        pytest.param("/api/disputes?state=closed", "state", id="dispute_state"),
        pytest.param("/api/contacts?role=boss", "role", id="role"),
        pytest.param("/api/customers?limit=501", "limit", id="limit"),
        pytest.param("/api/plans?cursor=not*one", "cursor", id="cursor"),
        pytest.param("/api/disputes/abc", "dispute_id", id="id"),
        pytest.param("/api/customers?q=a%00b", "q", id="nul"),
        pytest.param("/api/invoices?custmer=C001", "custmer", id="misspelt"),
        pytest.param("/api/invoices?open=true&open=false", "open", id="twice"),
        pytest.param("/api/invoices/A%0AB", "number", id="line_break"),
    ],
)
def test_a_filter_value_that_is_not_one_is_a_400_naming_the_field(
    world, client, query, field
) -> None:
    _, _, text, _ = world
    refused = client.get(query, **auth(text))
    assert refused.status_code == 400 and refused["Content-Type"] == "application/problem+json"
    assert refused.json()["field"] == field and refused.json()["detail"].startswith(field)


def test_an_erp_posts_an_invoice_due_by_its_terms_and_a_credit_note_for_it(world, client) -> None:
    acme, _, text, _ = world
    create_term(company=acme, code="net14", name="Net 14", days=14)
    body = {"customer": "C001", "number": "RE-2026/0815", "issued_on": "2026-11-02",
            "amount_minor": 1_190_00, "net_minor": 1_000_00, "tax_minor": 190_00,
            "terms": "net14", "po_number": "PO-7"}  # fmt: skip
    made = post(client, "/api/invoices", body, text, key="erp-inv-1")
    assert made.status_code == 201, made.content
    assert (made.json()["number"], made.json()["due_on"], made.json()["open_minor"],
            made.json()["currency"]) == ("RE-2026/0815", "2026-11-16", 1_190_00, "EUR")  # fmt: skip
    found = client.get("/api/invoices/RE-2026/0815", **auth(text))
    assert found.json() == made.json()
    entry = Activity.objects.get(item__number="RE-2026/0815")
    assert (entry.summary, entry.data) == ("Invoice RE-2026/0815 issued, due 2026-11-16",
                                           {"source": "API: ERP"})  # fmt: skip
    again = post(client, "/api/invoices", {**body, "amount_minor": 1}, text, key="erp-inv-2")
    assert (again.status_code, again.json()["detail"], again.json()["field"]) == (
        409, "Invoice RE-2026/0815 already exists", "number")  # fmt: skip
    note = post(client, "/api/invoices", {"customer": "C001", "number": "GS-1", "kind":
                "credit_note", "issued_on": "2026-11-03", "amount_minor": 190_00, "invoice":
                "RE-2026/0815"}, text, key="erp-cn-1")  # fmt: skip
    assert note.status_code == 201
    assert (note.json()["amount_minor"], note.json()["related"]) == (-190_00, "RE-2026/0815")


@pytest.mark.parametrize(
    ("change", "status", "field", "detail"),
    [
        pytest.param({"due_on": "2026-10-01"}, 400, "due_on",
                     "X-1: due date 2026-10-01 is before the issue date 2026-11-02", id="due"),
        pytest.param({"terms": "net99"}, 404, None, "no payment terms 'net99'", id="terms"),
        pytest.param({"currency": "XYZ"}, 400, "currency", None, id="currency"),
        pytest.param({"issued_on": "9999-12-31"}, 400, "issued_on",
                     "issued_on 9999-12-31: expected a day from 1900-01-01 to 2999-12-31",
                     id="far"),
        pytest.param({"amount_minor": 0}, 422, "amount_minor", None, id="amount"),
        pytest.param({"kind": "fee"}, 422, "kind", None, id="kind"),
        pytest.param({"invoice": "INV-404"}, 404, "invoice", "no invoice 'INV-404' of C001",
                     id="related"),
    ],
)  # fmt: skip
def test_an_invoice_that_breaks_a_rule_is_refused_naming_the_field(
    world, client, change, status, field, detail
) -> None:
    _, _, text, _ = world
    body = {"customer": "C001", "number": "X-1", "issued_on": "2026-11-02", "amount_minor": 100}
    refused = post(client, "/api/invoices", {**body, **change}, text)
    assert refused.status_code == status and refused.json().get("field") == field
    if detail:
        assert refused.json()["detail"] == detail
    assert not OpenItem.objects.filter(number="X-1").exists()


def test_a_body_field_that_is_not_one_is_a_422_naming_it(world, client) -> None:
    _, _, text, _ = world
    body = {"customer": "C001", "invoices": [{"number": "INV-1", "amount": 100_00}],
            "reason": "price"}  # fmt: skip
    refused = post(client, "/api/disputes", body, text)
    assert (refused.status_code, refused.json()["field"]) == (422, "invoices.0.amount")
    assert not Dispute.objects.exists()


def test_a_payment_posted_is_applied_to_the_invoices_named(world, client) -> None:
    acme, one, text, _ = world
    three = f.invoice(acme, one.customer, "INV-3", 300_00, date(2026, 9, 3))
    body = {"customer": "C001", "external_id": "ERP-PAY-1", "value_on": "2026-11-20",
            "amount_minor": 700_00, "reference": "INV-3 INV-1",
            "invoices": [{"number": "INV-3"}, {"number": "INV-1", "amount_minor": 250_00}]}  # fmt: skip
    made = post(client, "/api/payments", body, text, key="pay-1")
    assert made.status_code == 201, made.content
    answer = made.json()
    assert (answer["unapplied_minor"], answer["method"]) == (150_00, "transfer")
    assert [(a["item"], a["amount_minor"]) for a in answer["allocations"]] == [
        ("INV-3", 300_00), ("INV-1", 250_00)]  # fmt: skip
    three.refresh_from_db()
    one.refresh_from_db()
    assert (three.open_minor, one.open_minor) == (0, 350_00)
    assert client.get("/api/payments/ERP-PAY-1", **auth(text)).json()["unapplied_minor"] == 150_00
    first = answer["allocations"][0]
    assert client.get(f"/api/allocations/{first['id']}", **auth(text)).json() == first
    again = post(client, "/api/payments", body, text, key="pay-2")
    assert (again.status_code, again.json()["detail"]) == (
        409,
        "payment ERP-PAY-1 is already recorded",
    )


def test_a_payment_posted_oldest_first_settles_the_oldest_due_first(world, client) -> None:
    acme, one, text, _ = world
    older = f.invoice(acme, one.customer, "INV-0", 100_00, date(2026, 8, 1),
                      due_on=date(2026, 8, 31))  # fmt: skip
    body = {"customer": "C001", "external_id": "ERP-PAY-2", "value_on": "2026-11-20",
            "amount_minor": 300_00, "oldest_first": True}  # fmt: skip
    made = post(client, "/api/payments", body, text, key="pay-3").json()
    assert [(a["item"], a["amount_minor"]) for a in made["allocations"]] == [
        ("INV-0", 100_00), ("INV-1", 200_00)]  # fmt: skip
    older.refresh_from_db()
    assert (older.open_minor, made["unapplied_minor"]) == (0, 0)
    both = post(client, "/api/payments", {**body, "external_id": "ERP-PAY-3",
                                          "invoices": [{"number": "INV-1"}]}, text, key="pay-4")  # fmt: skip
    assert (both.status_code, both.json()["field"]) == (400, "oldest_first")
    too_much = post(client, "/api/payments", {**body, "external_id": "ERP-PAY-4", "oldest_first":
                    False, "invoices": [{"number": "INV-1", "amount_minor": 999_00}]}, text,
                    key="pay-5")  # fmt: skip
    assert too_much.status_code == 400 and too_much.json()["detail"] == (
        "cannot allocate EUR 999.00 to Invoice INV-1: only EUR 400.00 is open"
    )
    assert not Payment.objects.filter(external_id="ERP-PAY-4").exists()


def test_a_dispute_posted_pauses_the_amounts_named(world, client) -> None:
    _, _, text, _ = world
    body = {"customer": "C001", "invoices": [{"number": "INV-1", "amount_minor": 120_00}],
            "reason": "quantity", "comment": "2 of 10 pallets missing", "due_by": "2026-12-15"}  # fmt: skip
    made = post(client, "/api/disputes", body, text, key="dispute-1")
    assert made.status_code == 201, made.content
    answer = made.json()
    assert (answer["state"], answer["reason"], answer["note"], answer["due_by"], answer["items"]) == (
        "open", "quantity", "2 of 10 pallets missing", "2026-12-15",
        [{"invoice": "INV-1", "currency": "EUR", "amount_minor": 120_00}])  # fmt: skip
    assert client.get(f"/api/disputes/{answer['id']}", **auth(text)).json() == answer
    paid = post(client, "/api/disputes", {**body, "invoices": [{"number": "INV-2"}]}, text,
                key="dispute-2")  # fmt: skip
    assert (paid.status_code, paid.json()["detail"]) == (
        400,
        "Invoice INV-2 has nothing open to dispute",
    )
    wrong = post(client, "/api/disputes", {**body, "reason": "mood"}, text, key="dispute-3")
    assert (wrong.status_code, wrong.json()["field"]) == (422, "reason")


def test_every_post_needs_the_write_scope_and_an_idempotency_key(world, client) -> None:
    _, _, text, read_only = world
    spec = client.get("/api/openapi.json").json()
    for path, methods in spec["paths"].items():
        if "post" not in methods:
            continue
        assert "Idempotency-Key" in [p["name"] for p in methods["post"]["parameters"]], path
        body = {**BOLT_BODIES[path], "customer": "C001"}
        assert post(client, path, body, read_only).status_code == 403, path
        keyless = client.post(path, data=json.dumps(body), content_type="application/json",
                              **auth(text))  # fmt: skip
        assert (keyless.status_code, keyless.json()["field"]) == (400, "Idempotency-Key"), path


def test_the_openapi_document_declares_the_errors_as_problem_json(world, client) -> None:
    spec = client.get("/api/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            answers = operation["responses"]
            assert {"400", "401", "403"} <= set(answers), (method, path)
            for status, answer in answers.items():
                expected = "application/problem+json" if int(status) >= 400 else "application/json"
                assert list(answer["content"]) == [expected], (method, path, status)
    assert spec["paths"]["/api/invoices"]["post"]["operationId"] == "issue_invoice"


def test_a_path_no_route_has_is_a_problem_json_404(world, client) -> None:
    _, _, text, _ = world
    for url in (
        "/api/receipts",
        "/api/customers/C001/orders",
        "/api/",
        "/api/customers/",
        "/api/no%0Apath",
    ):
        missing = client.get(url, **auth(text))
        assert (
            missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"
        ), url
    assert client.get("/api/receipts").json()["detail"] == "no such path: /api/receipts"


def test_a_page_costs_the_same_queries_however_many_records_it_holds(world, weber, client) -> None:
    acme, _, text, _ = world
    spec = client.get("/api/openapi.json").json()
    lists = [path for path, methods in spec["paths"].items()
             if "get" in methods and "cursor" in {p["name"] for p in methods["get"]["parameters"]}]  # fmt: skip

    def queries() -> dict[str, int]:
        counted = {}
        for path in lists:
            with CaptureQueriesContext(connection) as done:
                url = path.replace("{account_number}", "C002")
                assert client.get(f"{url}?limit=500", **auth(text)).status_code == 200
            counted[path] = len(done)
        return counted

    queries()  # the token's last use is stamped once a minute: not in what is counted
    one_customer = queries()
    seed(acme, f.customer(acme, "C003", "Xaver OHG"), "X")
    assert queries() == one_customer
    # the credit standing adds the exposure's sums (items, cash, orders, past due), holds, scores
    assert one_customer.pop("/api/credit") <= 9
    assert max(one_customer.values()) <= 5
