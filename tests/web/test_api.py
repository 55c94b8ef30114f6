"""The REST API (issue 6): tokens stored hashed, with scopes and expiry; one company per token;
cursor pages and filters; Idempotency-Key on POST; problem+json errors; the OpenAPI document
and its docs page.

Acme has Bauer KG (C001) with INV-1 (EUR 600.00, overdue) and INV-2 (EUR 400.00, paid); Bolt
has its own customer, which Acme's token must never see.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from dunwell.api import tokens
from dunwell.api.models import ApiToken
from dunwell.cases.models import PromiseToPay
from dunwell.core.models import Company
from dunwell.ledger.models import Customer
from dunwell.ledger.services.allocations import allocate_payment
from tests import factories as f

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def world():
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
    bolt_item = f.invoice(Company.objects.get(code="bolt"),
                          Customer.objects.get(account_number="B-9"), "BOLT-1", 10_00,
                          date(2026, 9, 1))  # fmt: skip
    theirs = {"account_number": "B-9", "number": bolt_item.number}
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
            assert "Bolt" not in response.content.decode()
            checked += 1
    assert checked >= 2
