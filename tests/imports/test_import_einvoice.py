from datetime import date

import pytest

from dunwell.imports.services.common import Options
from dunwell.imports.services.run import run_import
from dunwell.ledger.models import Customer, ItemKind, OpenItem
from tests import factories as f
from tests.factories import AT

pytestmark = pytest.mark.django_db


def files(shared_data):
    folder = shared_data / "einvoice"
    return [(p.name, p.read_bytes()) for p in sorted(folder.glob("*/*.xml"))]


def test_every_sample_einvoice_imports_with_its_totals_dates_and_parties(shared_data):
    company = f.company()
    summary = run_import(company=company, kind="einvoice", files=files(shared_data),
                         options=Options(create_customers=True), actor=None, at=AT)  # fmt: skip
    assert summary.applied, [r.reason for r in summary.rejected]
    assert summary.counts["created"] == 5
    got = {i.number: (i.kind, i.currency, i.amount_minor, i.issued_on, i.due_on, i.customer.legal_name)
           for i in OpenItem.objects.select_related("customer")}  # fmt: skip
    assert got == {
        "Snippet1": (
            "invoice",
            "EUR",
            1656_25,
            date(2017, 11, 13),
            date(2017, 12, 1),
            "Buyer Official Name",
        ),
        "018304 / 28865": (
            ItemKind.CREDIT_NOTE,
            "EUR",
            -100_11,
            date(2019, 9, 23),
            date(2019, 9, 23),
            "My Customer Company",
        ),
        "INVOICE_test_7": (
            "invoice",
            "SEK",
            3200_00,
            date(2013, 3, 11),
            date(2013, 4, 10),
            "THe Buyercompany",
        ),
        "TOSL108": (
            "invoice",
            "DKK",
            1125_00,
            date(2013, 4, 10),
            date(2013, 5, 10),
            "Buyercompany ltd",
        ),
        "F-2023-001": (
            "invoice",
            "EUR",
            120_00,
            date(2023, 1, 1),
            date(2023, 1, 31),
            "Buyer Company Ltd",
        ),
    }
    assert OpenItem.objects.get(number="TOSL108").payment_reference == "Payref1"
    assert any(
        "due date 2013-04-10 derived from the terms 'Payment within 30 days'" in n
        for n in summary.notes
    )
    again = run_import(company=company, kind="einvoice", files=files(shared_data),
                       options=Options(create_customers=True), actor=None, at=AT)  # fmt: skip
    assert again.counts["unchanged"] == 5 and Customer.objects.count() == 5


def test_unknown_buyer_is_refused_unless_customers_may_be_created(shared_data):
    company = f.company()
    summary = run_import(company=company, kind="einvoice", files=files(shared_data)[:1],
                         options=Options(), actor=None, at=AT)  # fmt: skip
    [rejected] = summary.rejected
    assert (
        "is not a customer: import customers first, or pass --create-customers" in rejected.reason
    )
    assert OpenItem.objects.count() == 0


def test_malformed_xml_names_the_file(shared_data):
    company = f.company()
    summary = run_import(company=company, kind="einvoice", files=[("broken.xml", b"<Invoice><cbc:ID>")],
                         options=Options(), actor=None, at=AT)  # fmt: skip
    [rejected] = summary.rejected
    assert rejected.reason.startswith("broken.xml")


def test_the_lines_of_each_einvoice_are_stored_with_the_document(shared_data):
    from dunwell.formats.einvoice import read_einvoice
    from dunwell.ledger.models import OpenItemLine

    company = f.company()
    summary = run_import(company=company, kind="einvoice", files=files(shared_data),
                         options=Options(create_customers=True), actor=None, at=AT)  # fmt: skip
    assert summary.applied
    expected = {}
    for name, data in files(shared_data):
        parsed = read_einvoice(data, file_name=name)
        expected[parsed.number] = [line.description[:300] for line in parsed.lines]
    stored = {}
    for line in OpenItemLine.objects.select_related("item").order_by("item_id", "sequence"):
        stored.setdefault(line.item.number, []).append(line.description)
    assert sum(len(v) for v in expected.values()) > 0
    assert stored == {number: lines for number, lines in expected.items() if lines}
