"""Schemathesis against the API's own OpenAPI document (issue 6): every operation, in process
through Django's WSGI handler, with a valid read-and-write token for a small seeded company
(`test_api.seed`), answers no 5xx and only what the document says: a documented status, its
content type (problem+json for errors) and a body of its schema. Schemathesis's other checks run
too: schema-valid input is accepted and invalid input refused, a missing or wrong token is 401,
a missing Idempotency-Key 400.

A write may break a rule of the ledger that no schema can say (a due date before the issue date,
more allocated than is open, an unknown currency code), as may the KPIs' months (`from` after
`to`, more than 60): those 400s are the one answer valid input may also get
(`positive_data_acceptance` below).

Fast and repeatable (about 20 s for the 26 operations): the coverage phase's cases plus at most
25 generated ones an operation, a fixed seed, derandomized, no deadline, no example database.
Now and then a parameter takes a value the seeded company has (`dictionaries`), so that reads
find records and writes succeed, not only refusals.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from dunwell.api import tokens
from dunwell.api.common import IDEMPOTENCY_KEY_TEXT
from dunwell.core import clock
from dunwell.core.models import Company
from tests import factories as f
from tests.web.test_api import seed

pytestmark = pytest.mark.django_db

CONFIG = schemathesis.Config.from_dict({
    "seed": 20261123,
    "generation": {"max-examples": 25, "deterministic": True, "database": "none",
                   "with-security-parameters": False},
    # Now and then a value the seeded company has, so that lookups and writes succeed too.
    "dictionaries": {
        "customers": {"values": ["C001", "B-9"]},
        "numbers": {"values": ["INV-1", "INV-2", "INV-3"]},
        "currencies": {"values": ["EUR", "eur"]},
        "ids": {"values": [1, 2, 3]},
    },
    "parameters": {
        **{name: {"dictionary": "customers", "probability": 0.5}
           for name in ("customer", "account_number", "body.customer")},
        **{name: {"dictionary": "numbers", "probability": 0.5}
           for name in ("number", "item", "body.invoices[*].number", "body.invoices[*]",
                        "body.invoice")},
        **{name: {"dictionary": "currencies", "probability": 0.5}
           for name in ("currency", "body.currency")},
        **{name: {"dictionary": "ids", "probability": 0.5}
           for name in ("contact_id", "allocation_id", "activity_id", "dispute_id",
                        "promise_id", "plan_id")},
    },
    "operations": [{
        "include-method": "POST",
        "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "403", "404", "409"]}},
    }, {
        # months the schema cannot relate: `from` after `to`, more than 60 of them
        "include-path": "/api/kpis",
        "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "403", "404"]}},
    }],
})  # fmt: skip


# Django's WSGI handler: the application as a server runs it, all middleware included.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler(), config=CONFIG)


WRITES = itertools.count(1)


@pytest.fixture
def token(db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A read-and-write token of Acme, which has a record of every kind, on a fixed business
    date; the database connection stays open between requests, as with Django's test client
    (it holds the test's transaction)."""
    monkeypatch.setattr(clock, "today", lambda company=None: date(2026, 11, 23))
    acme = f.company("acme")
    seed(acme, f.customer(acme, "C001", "Bauer KG"), "INV")
    f.customer(Company.objects.create(code="bolt", legal_name="Bolt AG", country="DE",
                                      base_currency="EUR"), "B-9", "Bolt Secret AG")  # fmt: skip
    _, text = tokens.issue(company=acme, name="schemathesis", scopes=["read", "write"], days=1,
                           actor=None, at=datetime.now(tz=UTC))  # fmt: skip
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield text
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
# one world per operation, shared by its generated cases (the writes add to it, as in use)
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_its_openapi_document_says(case, token) -> None:
    key = (case.headers or {}).get("Idempotency-Key")
    if key is not None and re.fullmatch(IDEMPOTENCY_KEY_TEXT, key.strip()):
        # a well-formed key made unique: generated keys repeat ("0"), and a key used for another
        # body is rightly a 409 (test_api tests the replay); a malformed one stays as drawn
        case.headers["Idempotency-Key"] = f"{key.strip()[:180]}-{next(WRITES)}"
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
