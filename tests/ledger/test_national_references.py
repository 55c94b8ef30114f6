"""The national structured reference each invoice gets beside its RF reference: by the company's
country, the same on the ORM path and in a bulk import, and a reference given in a file kept
when it validates, refused when it claims a scheme and fails its check."""

from datetime import date

import pytest

from dunwell.core.errors import DunwellError
from dunwell.imports.services.common import Options
from dunwell.imports.services.run import run_import
from dunwell.ledger.models import Customer, ItemKind, OpenItem
from tests import factories as f
from tests.factories import AT

pytestmark = pytest.mark.django_db

QR_IBAN = "CH4431999123000889012"  # institution id 31999
SWISS_IBAN = "CH9300762011623852957"  # institution id 00762: a regular IBAN


def company_in(country, iban="", kid_check="mod10", code="acme"):
    made = f.company(code=code, country=country)
    made.iban, made.kid_check = iban, kid_check
    made.save()
    f.customer(made, "C001", "Bauer")
    return made


def csv_import(company, rows, reference_column=False):
    header = "number,customer,issue_date,amount,currency" + (
        ",payment_reference" * reference_column
    )
    data = "\n".join([header, *rows]).encode()
    return run_import(company=company, kind="invoices", files=[("invoices.csv", data)],
                      options=Options(keep_valid=True), actor=None, at=AT)  # fmt: skip


CASES = [
    ("BE", "", "mod10", "002025004231"),  # OGM: 20250042 zero-padded to 10 digits, mod 97 = 31
    ("CH", QR_IBAN, "mod10", "000000000000000000202500423"),
    ("CH", SWISS_IBAN, "mod10", ""),  # a regular IBAN: the RF reference alone
    ("NO", "", "mod10", "202500427"),
    ("NO", "", "mod11", "202500420"),
    ("FI", "", "mod10", "202500421"),
    ("DE", "", "mod10", ""),
]


@pytest.mark.parametrize(("country", "iban", "kid_check", "expected"), CASES)
def test_an_invoice_gets_its_countrys_reference_on_both_paths(country, iban, kid_check, expected):
    by_orm = company_in(country, iban, kid_check)
    invoice = f.invoice(by_orm, customer_of(by_orm), "INV-2025-0042", 100_00, date(2025, 3, 1))
    assert invoice.national_reference == expected
    assert invoice.payment_reference == "RF25INV20250042"

    in_bulk = company_in(country, iban, kid_check, code="bulk")
    summary = csv_import(in_bulk, ["INV-2025-0042,C001,2025-03-01,100.00,EUR"])
    assert summary.counts["created"] == 1, [r.reason for r in summary.rejected]
    imported = OpenItem.objects.get(company=in_bulk)
    assert (imported.payment_reference, imported.national_reference) == (
        "RF25INV20250042",
        expected,
    )


def customer_of(company):
    return Customer.objects.get(company=company)


def test_a_credit_note_gets_no_national_reference():
    company = company_in("BE")
    note = f.invoice(company, customer_of(company), "CN-7", 10_00, date(2025, 3, 1),
                     kind=ItemKind.CREDIT_NOTE)  # fmt: skip
    assert note.national_reference == ""
    fee = f.invoice(company, customer_of(company), "FEE-7", 10_00, date(2025, 3, 1),
                    kind=ItemKind.FEE)  # fmt: skip
    assert fee.national_reference == "000000000707"  # 7 mod 97 = 7


def test_a_valid_reference_in_the_file_is_kept_and_an_invalid_one_refused():
    company = company_in("BE")
    summary = csv_import(
        company,
        [
            "INV-1,C001,2025-03-01,10.00,EUR,+++010/8068/17183+++",  # a valid OGM: kept
            "INV-2,C001,2025-03-01,10.00,EUR,rf18 5390 0754 7034",  # a valid RF: kept
            "INV-3,C001,2025-03-01,10.00,EUR,PO 4711",  # free text: kept, as before
            "INV-4,C001,2025-03-01,10.00,EUR,+++010/8068/17184+++",  # check digits wrong
            "INV-5,C001,2025-03-01,10.00,EUR,RF19 5390 0754 7034",  # check digits wrong
        ],
        reference_column=True,
    )
    stored = {
        number: (rf, national)
        for number, rf, national in OpenItem.objects.values_list(
            "number", "payment_reference", "national_reference"
        )
    }
    assert stored == {
        "INV-1": ("RF47INV1", "010806817183"),
        "INV-2": ("RF18539007547034", "000000000202"),  # 2 zero-padded, 2 mod 97 = 02
        "INV-3": ("PO 4711", "000000000303"),
    }
    assert [(r.line, r.key, r.field) for r in summary.rejected] == [
        (5, "INV-4", "payment_reference"),
        (6, "INV-5", "payment_reference"),
    ]
    assert summary.rejected[0].reason == (
        'invoices.csv line 5, field "payment_reference": INV-4: the payment reference '
        "'+++010/8068/17184+++' is not a valid Belgian structured communication (OGM/VCS) (its "
        "check digits do not match): expected e.g. +++010/8068/17183+++, or none for Dunwell "
        "to issue one"
    )
    assert "not a valid RF creditor reference" in summary.rejected[1].reason


def test_an_invalid_reference_is_refused_on_the_orm_path_too():
    company = company_in("FI")
    with pytest.raises(DunwellError, match="not a valid Finnish reference") as refused:
        f.invoice(company, customer_of(company), "INV-9", 10_00, date(2025, 3, 1),
                  payment_reference="12 34562")  # fmt: skip
    assert refused.value.context["field"] == "payment_reference"
    assert not OpenItem.objects.exists()
    kept = f.invoice(company, customer_of(company), "INV-9", 10_00, date(2025, 3, 1),
                     payment_reference="00000000000001234561")  # fmt: skip
    assert kept.national_reference == "1234561"


def test_a_number_a_german_company_is_given_stays_its_free_reference():
    company = company_in("DE")
    kept = f.invoice(company, customer_of(company), "INV-9", 10_00, date(2025, 3, 1),
                     payment_reference="12 34562")  # fmt: skip
    assert (kept.payment_reference, kept.national_reference) == ("12 34562", "")


def test_an_e_invoice_keeps_the_structured_communication_it_carries(shared_data):
    company = company_in("BE")
    sample = (shared_data / "einvoice" / "ubl" / "peppol_base-example.xml").read_bytes()
    data = sample.replace(b"<cbc:PaymentID>Snippet1</cbc:PaymentID>",
                          b"<cbc:PaymentID>+++010/8068/17183+++</cbc:PaymentID>")  # fmt: skip
    summary = run_import(company=company, kind="einvoice", files=[("peppol.xml", data)],
                         options=Options(create_customers=True), actor=None, at=AT)  # fmt: skip
    assert summary.applied, [r.reason for r in summary.rejected]
    invoice = OpenItem.objects.get(number="Snippet1")
    assert (invoice.payment_reference, invoice.national_reference) == (
        "RF69SNIPPET1",
        "010806817183",
    )
