"""Items carry the key payment matching finds their number by, on every issuing path."""

from __future__ import annotations

from datetime import date

import pytest

from dunwell.core.document_numbers import lookup_key
from dunwell.ledger.models import OpenItem
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("INV-000123", "123"),
        ("2024/0815", "20240815"),
        ("RE 2024-0815", "20240815"),
        ("ABC", "ABC"),
    ],
)
def test_lookup_key_is_the_core_of_the_number(number, key):
    assert lookup_key(number) == key


def test_an_issued_item_stores_its_number_key():
    company = f.company()
    customer = f.customer(company)
    f.invoice(company, customer, "INV-000123", 100_00, date(2026, 1, 2))
    assert OpenItem.objects.get().number_key == "123"


def test_a_bulk_imported_item_stores_its_number_key_too():
    from dunwell.imports.services.common import Options
    from dunwell.imports.services.run import run_import

    company = f.company()
    f.customer(company, "C001", "Bauer KG")
    data = b"number,customer,issue_date,due_date,amount,currency\nRE-2024/0815,C001,2025-03-01,,10.00,EUR\n"
    run_import(company=company, kind="invoices", files=[("i.csv", data)], options=Options(),
               actor=None, at=f.AT)  # fmt: skip
    assert OpenItem.objects.get().number_key == "20240815"
