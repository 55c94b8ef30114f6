"""Every sample e-invoice in ../shared/data/einvoice reads with the values its README states."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dunwell.formats.einvoice import EInvoice, Line, Party, read_einvoice
from dunwell.formats.errors import FileRejected, FormatError

# file -> what ../shared/data/README.md says it holds (net is BT-109, the total without VAT).
EXPECTED = {
    "ubl/peppol_base-example.xml": {
        "syntax": "ubl",
        "kind": "invoice",
        "number": "Snippet1",
        "issued_on": date(2017, 11, 13),
        "due_on": date(2017, 12, 1),
        "currency": "EUR",
        "net_minor": 132500,  # lines 1300 + insurance charge 25
        "tax_minor": 33125,
        "gross_minor": 165625,
        "payable_minor": 165625,
        "line_total_minor": 130000,
        "seller": ("SupplierOfficialName Ltd", "GB"),
        "buyer": ("Buyer Official Name", "SE"),
        "payment_reference": "Snippet1",
        "payee_iban": "IBAN32423940",
        "terms_text": "Payment within 10 days, 2% discount",
        "po_number": None,
        "line_count": 2,
    },
    "ubl/cef_ubl-tc434-creditnote1.xml": {
        "syntax": "ubl",
        "kind": "credit_note",
        "number": "018304 / 28865",
        "issued_on": date(2019, 9, 23),
        "due_on": None,
        "currency": "EUR",
        "net_minor": 10011,
        "tax_minor": 0,
        "gross_minor": 10011,
        "payable_minor": 10011,
        "line_total_minor": 10011,
        "seller": ("My Supplier Company", "BE"),
        "buyer": ("My Customer Company", "BE"),
        "payment_reference": "010676609538",
        "payee_iban": "BE91000000143476",
        "terms_text": None,
        "po_number": None,
        "line_count": 1,
    },
    "ubl/cef_ubl-tc434-example7.xml": {
        "syntax": "ubl",
        "kind": "invoice",
        "number": "INVOICE_test_7",
        "issued_on": date(2013, 3, 11),
        "due_on": None,
        "currency": "SEK",
        "net_minor": 320000,
        "tax_minor": 0,
        "gross_minor": 320000,
        "payable_minor": 320000,
        "line_total_minor": 320000,
        "seller": ("The Sellercompany Incorporated", "SE"),
        "buyer": ("THe Buyercompany", "SE"),
        "payment_reference": None,
        "payee_iban": "SE1212341234123412",
        "terms_text": "Payment within 30 days",
        "po_number": "Order_9988_x",
        "line_count": 2,
    },
    "cii/cef_CII_example3.xml": {
        "syntax": "cii",
        "kind": "invoice",
        "number": "TOSL108",
        "issued_on": date(2013, 4, 10),
        "due_on": date(2013, 5, 10),
        "currency": "DKK",
        "net_minor": 90000,  # line 800 + freight charge 100
        "tax_minor": 22500,
        "gross_minor": 112500,
        "payable_minor": 112500,
        "line_total_minor": 80000,
        "seller": ("SubscriptionSeller", "DK"),
        "buyer": ("Buyercompany ltd", "DK"),
        "payment_reference": "Payref1",
        "payee_iban": "DK1212341234123412",
        "terms_text": None,
        "po_number": None,
        "line_count": 1,
    },
    "cii/atgp_facturx-minimum.xml": {
        "syntax": "cii",
        "kind": "invoice",
        "number": "F-2023-001",
        "issued_on": date(2023, 1, 1),
        "due_on": None,
        "currency": "EUR",
        "net_minor": 10000,
        "tax_minor": 2000,
        "gross_minor": 12000,
        "payable_minor": 12000,
        "line_total_minor": None,
        "seller": ("Seller Company SAS", None),
        "buyer": ("Buyer Company Ltd", None),
        "payment_reference": None,
        "payee_iban": None,
        "terms_text": None,
        "po_number": None,
        "line_count": 0,
    },
}


def summary(invoice: EInvoice) -> dict[str, object]:
    return {
        "syntax": invoice.syntax,
        "kind": invoice.kind,
        "number": invoice.number,
        "issued_on": invoice.issued_on,
        "due_on": invoice.due_on,
        "currency": invoice.currency,
        "net_minor": invoice.net_minor,
        "tax_minor": invoice.tax_minor,
        "gross_minor": invoice.gross_minor,
        "payable_minor": invoice.payable_minor,
        "line_total_minor": invoice.line_total_minor,
        "seller": (invoice.seller.name, invoice.seller.country),
        "buyer": (invoice.buyer.name, invoice.buyer.country),
        "payment_reference": invoice.payment_reference,
        "payee_iban": invoice.payee_iban,
        "terms_text": invoice.terms_text,
        "po_number": invoice.po_number,
        "line_count": len(invoice.lines),
    }


def read(shared_data: Path, name: str) -> EInvoice:
    path = shared_data / "einvoice" / name
    return read_einvoice(path.read_bytes(), file_name=path.name)


def edited(shared_data: Path, name: str, old: bytes, new: bytes) -> bytes:
    data = (shared_data / "einvoice" / name).read_bytes()
    assert old in data, f"the sample {name} changed: {old!r} is no longer in it"
    return data.replace(old, new, 1)


def rejection(data: bytes, file_name: str = "invoice.xml") -> list[str]:
    with pytest.raises(FileRejected) as caught:
        read_einvoice(data, file_name=file_name)
    return [str(error) for error in caught.value.errors]


# -- the sample files ---------------------------------------------------------------------------


def test_every_sample_e_invoice_has_an_expectation_here(shared_data):
    found = {str(p.relative_to(shared_data / "einvoice")) for p in shared_data.glob("einvoice/*/*")}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_reads_with_the_values_its_readme_states(shared_data, name):
    assert summary(read(shared_data, name)) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_net_plus_tax_is_the_gross_when_reading_a_sample(shared_data, name):
    invoice = read(shared_data, name)
    assert invoice.net_minor + invoice.tax_minor == invoice.gross_minor


def test_peppol_parties_carry_legal_name_vat_id_and_address(shared_data):
    invoice = read(shared_data, "ubl/peppol_base-example.xml")
    assert invoice.seller == Party(
        name="SupplierOfficialName Ltd",
        vat_id="GB1232434",
        registration_id="GB983294",
        country="GB",
        street="Main street 1",
        city="London",
        postal_code="GB 123 EW",
        email=None,
    )
    assert invoice.buyer.email == "lj@buyer.se"
    assert invoice.buyer.vat_id == "SE4598375937"


def test_peppol_lines_keep_a_negative_quantity_and_amount(shared_data):
    invoice = read(shared_data, "ubl/peppol_base-example.xml")
    assert invoice.lines == (
        Line("item name", Decimal(7), Decimal(400), 280000, Decimal("25.0")),
        Line("item name 2", Decimal(-3), Decimal(500), -150000, Decimal("25.0")),
    )


def test_cii_line_and_parties_are_read_when_the_profile_is_en16931(shared_data):
    invoice = read(shared_data, "cii/cef_CII_example3.xml")
    assert invoice.lines == (
        Line("Paper subscription", Decimal(1), Decimal(800), 80000, Decimal(25)),
    )
    assert invoice.seller.vat_id == "DK16356706"
    assert invoice.seller.email == "antonio@SubscriptionsSeller.dk"
    assert invoice.profile == "urn:cen.eu:en16931:2017"


def test_credit_note_lines_keep_accented_text(shared_data):
    invoice = read(shared_data, "ubl/cef_ubl-tc434-creditnote1.xml")
    assert invoice.lines[0].description == "Exonération du versement du PP"
    assert invoice.type_code == "381"


# -- kinds and derived values -------------------------------------------------------------------


def test_invoice_root_is_a_credit_note_when_its_type_code_is_381(shared_data):
    data = edited(
        shared_data,
        "ubl/cef_ubl-tc434-example7.xml",
        b"<cbc:InvoiceTypeCode>380<",
        b"<cbc:InvoiceTypeCode>381<",
    )
    assert read_einvoice(data, file_name="x.xml").kind == "credit_note"


def test_cii_document_is_a_credit_note_when_its_type_code_is_381(shared_data):
    data = edited(
        shared_data, "cii/cef_CII_example3.xml", b"<ram:TypeCode>380<", b"<ram:TypeCode>381<"
    )
    assert read_einvoice(data, file_name="x.xml").kind == "credit_note"


def test_tax_is_gross_minus_net_when_the_tax_total_is_absent(shared_data):
    data = edited(
        shared_data,
        "ubl/peppol_base-example.xml",
        b'<cbc:TaxAmount currencyID="EUR">331.25</cbc:TaxAmount>\n        <cac:TaxSubtotal>',
        b"<cac:TaxSubtotal>",
    )
    data = data.replace(b'<cbc:TaxAmount currencyID="EUR">331.25</cbc:TaxAmount>', b"")
    assert read_einvoice(data, file_name="x.xml").tax_minor == 33125


def test_tax_total_in_another_currency_is_not_taken_for_the_document_currency(shared_data):
    data = edited(
        shared_data,
        "ubl/peppol_base-example.xml",
        b"<cac:TaxTotal>",
        b'<cac:TaxTotal><cbc:TaxAmount currencyID="SEK">3500.00</cbc:TaxAmount></cac:TaxTotal>'
        b"<cac:TaxTotal>",
    )
    assert read_einvoice(data, file_name="x.xml").tax_minor == 33125


def test_amount_written_with_trailing_zeros_is_accepted_when_the_value_fits_the_currency(
    shared_data,
):
    data = edited(
        shared_data,
        "ubl/peppol_base-example.xml",
        b'<cbc:PayableAmount currencyID="EUR">1656.25<',
        b'<cbc:PayableAmount currencyID="EUR">1656.2500<',
    )
    assert read_einvoice(data, file_name="x.xml").payable_minor == 165625


# -- refusals -------------------------------------------------------------------------------------


def test_truncated_file_is_refused_naming_the_file_and_the_line(shared_data):
    data = (shared_data / "einvoice/ubl/peppol_base-example.xml").read_bytes()
    truncated = b"\n".join(data.split(b"\n")[:100]) + b"\n"
    assert rejection(truncated, "peppol_base-example.xml") == [
        "peppol_base-example.xml line 101: expected well-formed XML, "
        'got "Premature end of data in tag PaymentMeans line 99"'
    ]


def test_empty_file_is_refused_as_malformed_xml():
    assert rejection(b"") == [
        'invoice.xml line 1: expected well-formed XML, got "Document is empty"'
    ]


def test_xml_that_is_no_invoice_is_refused_naming_its_root():
    data = b'<?xml version="1.0"?>\n<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>'
    assert rejection(data, "order.xml") == [
        "order.xml line 2: expected a UBL Invoice or CreditNote, or a CII CrossIndustryInvoice, "
        'as the root element, got "Order in namespace '
        'urn:oasis:names:specification:ubl:schema:xsd:Order-2"'
    ]


def test_missing_issue_date_is_refused_naming_the_field(shared_data):
    data = edited(
        shared_data,
        "ubl/peppol_base-example.xml",
        b"<cbc:IssueDate>2017-11-13</cbc:IssueDate>",
        b"",
    )
    assert rejection(data) == [
        'invoice.xml line 4, field "cbc:IssueDate": expected the issue date (BT-2) as YYYY-MM-DD'
    ]


def test_missing_cii_issue_date_is_refused_naming_the_field(shared_data):
    data = edited(
        shared_data,
        "cii/atgp_facturx-minimum.xml",
        b'<udt:DateTimeString format="102">20230101</udt:DateTimeString>',
        b"",
    )
    assert rejection(data) == [
        'invoice.xml line 13, field "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString": '
        "expected the issue date (BT-2) as YYYYMMDD (format 102)"
    ]


def test_amount_with_three_decimals_in_euros_is_refused(shared_data):
    data = edited(
        shared_data,
        "ubl/peppol_base-example.xml",
        b'<cbc:PayableAmount currencyID="EUR">1656.25<',
        b'<cbc:PayableAmount currencyID="EUR">1656.255<',
    )
    assert rejection(data) == [
        'invoice.xml line 144, field "cac:LegalMonetaryTotal/cbc:PayableAmount": '
        'expected the amount due (BT-115) with at most 2 decimals for EUR, got "1656.255"'
    ]


def test_cii_amount_with_three_decimals_in_euros_is_refused(shared_data):
    data = edited(
        shared_data,
        "cii/atgp_facturx-minimum.xml",
        b"<ram:GrandTotalAmount>120.00<",
        b"<ram:GrandTotalAmount>120.005<",
    )
    assert rejection(data) == [
        'invoice.xml line 35, field "rsm:SupplyChainTradeTransaction/'
        "ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
        'ram:GrandTotalAmount": expected the total with VAT (BT-112) with at most 2 decimals '
        'for EUR, got "120.005"'
    ]


def test_amount_in_another_currency_than_the_document_is_refused(shared_data):
    data = edited(
        shared_data,
        "ubl/peppol_base-example.xml",
        b'<cbc:PayableAmount currencyID="EUR">',
        b'<cbc:PayableAmount currencyID="USD">',
    )
    assert rejection(data) == [
        'invoice.xml line 144, field "cac:LegalMonetaryTotal/cbc:PayableAmount": '
        'expected the amount due (BT-115) in EUR, the document currency, got "USD"'
    ]


def test_line_amount_with_a_thousands_separator_is_refused_naming_the_line(shared_data):
    data = edited(
        shared_data,
        "ubl/peppol_base-example.xml",
        b'<cbc:LineExtensionAmount currencyID="EUR">-1500<',
        b'<cbc:LineExtensionAmount currencyID="EUR">-1,500<',
    )
    assert rejection(data) == [
        'invoice.xml line 182, field "cac:InvoiceLine[2]/cbc:LineExtensionAmount": '
        'expected the line amount (BT-131), a decimal number like 1234.56, got "-1,500"'
    ]


def test_every_problem_is_reported_when_several_fields_are_wrong(shared_data):
    data = edited(
        shared_data,
        "ubl/peppol_base-example.xml",
        b"<cbc:ID>Snippet1</cbc:ID>\n    <cbc:IssueDate>2017-11-13<",
        b"<cbc:IssueDate>2017-02-30<",
    )
    assert rejection(data) == [
        'invoice.xml line 4, field "cbc:ID": expected the invoice number (BT-1)',
        'invoice.xml line 7, field "cbc:IssueDate": expected the issue date (BT-2), '
        'a date that exists, got "2017-02-30"',
    ]


def test_unknown_currency_is_refused(shared_data):
    data = edited(
        shared_data,
        "ubl/peppol_base-example.xml",
        b"<cbc:DocumentCurrencyCode>EUR<",
        b"<cbc:DocumentCurrencyCode>EUX<",
    )
    assert rejection(data) == [
        'invoice.xml line 4, field "cbc:DocumentCurrencyCode": '
        'expected an ISO 4217 currency code like EUR, got "EUX"'
    ]


def test_missing_totals_are_refused(shared_data):
    data = edited(
        shared_data,
        "cii/atgp_facturx-minimum.xml",
        b"<ram:DuePayableAmount>120.00</ram:DuePayableAmount>",
        b"",
    )
    assert rejection(data) == [
        'invoice.xml line 32, field "rsm:SupplyChainTradeTransaction/'
        "ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
        'ram:DuePayableAmount": expected the amount due (BT-115)'
    ]


def test_document_with_entity_declarations_is_refused_without_expanding_them():
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>\n'
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol2;</Invoice>'
    )
    assert rejection(data) == [
        'invoice.xml line 1: expected an e-invoice without a DOCTYPE, got "<!DOCTYPE Invoice>"'
    ]


def test_pdf_is_refused_with_a_hint_to_extract_its_xml():
    assert rejection(b"%PDF-1.7\n...", "facture.pdf") == [
        "facture.pdf: expected an XML e-invoice (extract the XML attachment, factur-x.xml, "
        'from the PDF), got "a PDF file"'
    ]


def test_format_error_reads_as_file_line_field_expected_got():
    error = FormatError("invoices.csv", 14, "amount", "a number like 1,234.56", "12,3x")
    assert str(error) == (
        'invoices.csv line 14, field "amount": expected a number like 1,234.56, got "12,3x"'
    )
