"""E-invoices in, one `EInvoice` out: UBL 2.1 / Peppol BIS 3 and UN/CEFACT CII (Factur-X, ZUGFeRD).

Both syntaxes carry the same EN 16931 business terms (BT-n) under different element names; this
module reads the ones collections needs into one shape, and refuses a document it cannot read
with a `FileRejected` that names the file, the line lxml reports and the element:

    base.xml line 7, field "cbc:IssueDate": expected the issue date (BT-2) as YYYY-MM-DD

What is read, by business term (UBL element / CII element):

- number BT-1 (``cbc:ID`` / ``ExchangedDocument/ID``), issue date BT-2, type code BT-3, currency
  BT-5, due date BT-9 (``cbc:DueDate``, or ``PaymentMeans/PaymentDueDate`` on a UBL credit note /
  ``SpecifiedTradePaymentTerms/DueDateDateTime``), terms text BT-20, order reference BT-13,
  payment reference BT-83 and payee account BT-84 (the first payment means that has one).
- Totals, in integer minor units of the document currency: ``line_total_minor`` BT-106 (sum of
  line amounts; absent in the CII MINIMUM profile), ``net_minor`` BT-109 (the tax basis: lines
  plus charges minus allowances), ``tax_minor`` BT-110, ``gross_minor`` BT-112 and
  ``payable_minor`` BT-115 (the gross less any prepaid amount). Net is BT-109, not BT-106, so
  that net + tax = gross holds for both syntaxes: the Peppol example has lines of 1300.00, an
  insurance charge of 25.00, net 1325.00, tax 331.25, gross and payable 1656.25. BT-110 is
  optional in EN 16931; when absent it is gross - net (business rule BR-CO-15), never guessed
  otherwise.
- Amounts are read as exact Decimals and refused when they have more decimals than the currency
  (1.005 EUR), or when a UBL ``currencyID`` differs from the document currency. Unit prices and
  quantities stay Decimals (EN 16931 allows more decimals there). Amounts keep the sign the
  document gives: a credit note's totals are positive, and `kind` says it is a credit.
- A credit note is a UBL ``CreditNote`` root, or a type code from EN 16931's credit-note list
  (381, 396, 81, 83, 261, 262, 296, 308, 420, 458, 532) on an invoice root.
- Party names are the legal name (BT-27/BT-44, UBL ``RegistrationName``), else the trading name.

Parsing is safe for files from strangers (`formats.safe_xml`): no network, no DTD loading, no
entity expansion, and a document with a DOCTYPE is refused (no e-invoice has one). A Factur-X / ZUGFeRD PDF is refused
with a hint: its XML travels as an attachment (factur-x.xml) that must be extracted first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Literal

from lxml import etree

from dunwell.core.money import MoneyError, check_currency, exponent
from dunwell.formats.errors import FileRejected, FormatError
from dunwell.formats.safe_xml import parse_xml, source_line

UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"

_NAMESPACES = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "rsm": CII,
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
# UNTDID 1001 codes that EN 16931 lists as credit notes.
CREDIT_NOTE_TYPE_CODES = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"}
)
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_XSD_DATE = re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(Z|[+-]\d{2}:\d{2})?")
_CII_DATE = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    vat_id: str | None = None
    registration_id: str | None = None
    country: str | None = None
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Line:
    description: str  # the item name (BT-153), else the item description (BT-154)
    quantity: Decimal
    unit_price: Decimal  # net price per the price's base quantity, as written (BT-146)
    net_minor: int
    tax_rate: Decimal | None


@dataclass(frozen=True, slots=True)
class EInvoice:
    syntax: Literal["ubl", "cii"]
    kind: Literal["invoice", "credit_note"]
    type_code: str | None
    number: str
    issued_on: date
    due_on: date | None
    currency: str
    net_minor: int
    tax_minor: int
    gross_minor: int
    payable_minor: int
    line_total_minor: int | None
    seller: Party
    buyer: Party
    payment_reference: str | None
    payee_iban: str | None
    terms_text: str | None
    po_number: str | None
    lines: tuple[Line, ...]
    profile: str | None  # CustomizationID / guideline ID, e.g. urn:factur-x.eu:1p0:minimum


def read_einvoice(data: bytes, *, file_name: str) -> EInvoice:
    """Read a UBL Invoice/CreditNote or a CII CrossIndustryInvoice; see the module docstring."""
    root = _parse(data, file_name)
    reader = _Reader(file_name)
    namespace = etree.QName(root).namespace
    if namespace in (UBL_INVOICE, UBL_CREDIT_NOTE):
        invoice = _read_ubl(reader, root)
    else:
        invoice = _read_cii(reader, root)
    if invoice is None or reader.errors:
        raise FileRejected(reader.errors)
    return invoice


# -- parsing ----------------------------------------------------------------------------------

_ROOTS = {
    (UBL_INVOICE, "Invoice"),
    (UBL_CREDIT_NOTE, "CreditNote"),
    (CII, "CrossIndustryInvoice"),
}
_PREFIXES = {namespace: prefix for prefix, namespace in _NAMESPACES.items()}


def _parse(data: bytes, file_name: str) -> etree._Element:
    def rejected(line: int | None, expected: str, got: str | None) -> FileRejected:
        return FileRejected([FormatError(file_name, line, None, expected, got)])

    if data.lstrip()[:5] == b"%PDF-":
        expected = "an XML e-invoice (extract the XML attachment, factur-x.xml, from the PDF)"
        raise rejected(None, expected, "a PDF file")
    root = parse_xml(data, file_name, what="an e-invoice")
    name = etree.QName(root)
    if (name.namespace, name.localname) not in _ROOTS:
        got = name.localname + (f" in namespace {name.namespace}" if name.namespace else "")
        expected = "a UBL Invoice or CreditNote, or a CII CrossIndustryInvoice, as the root element"
        raise rejected(source_line(root), expected, got)
    return root


def _path(node: etree._Element) -> str:
    """The element's path below the root with the usual prefixes: cac:InvoiceLine[2]/cbc:ID."""
    parts: list[str] = []
    parent = node.getparent()
    while parent is not None:
        name = etree.QName(node)
        prefix = _PREFIXES.get(name.namespace or "")
        part = f"{prefix}:{name.localname}" if prefix else name.localname
        same = [child for child in parent if child.tag == node.tag]
        parts.append(part + (f"[{same.index(node) + 1}]" if len(same) > 1 else ""))
        node, parent = parent, parent.getparent()
    return "/".join(reversed(parts))


def _below(node: etree._Element, path: str) -> str:
    above = _path(node)
    return f"{above}/{path}" if above else path


class _Reader:
    """Finds values below an element and collects a `FormatError` for each one that is wrong."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.errors: list[FormatError] = []
        self.currency = ""

    def error(self, node: etree._Element, field: str, expected: str, got: str | None) -> None:
        self.errors.append(FormatError(self.file_name, source_line(node), field, expected, got))

    def missing(self, node: etree._Element, path: str, what: str) -> None:
        self.error(node, _below(node, path), what, None)

    @staticmethod
    def find(node: etree._Element | None, path: str) -> etree._Element | None:
        return None if node is None else node.find(path, _NAMESPACES)

    def text(self, node: etree._Element | None, path: str) -> str | None:
        found = self.find(node, path)
        return ((found.text or "").strip() or None) if found is not None else None

    def required(self, node: etree._Element, path: str, what: str) -> str:
        value = self.text(node, path)
        if value is None:
            self.missing(node, path, what)
        return value or ""

    def element(self, node: etree._Element, path: str, what: str) -> etree._Element | None:
        """The element at `path` if it has text; an error naming `what` if not."""
        found = self.find(node, path)
        if found is None or not (found.text or "").strip():
            self.missing(node, path, what)
            return None
        return found

    def decimal(self, found: etree._Element | None, what: str) -> Decimal | None:
        if found is None:
            return None
        raw = (found.text or "").strip()
        if not _DECIMAL.fullmatch(raw):
            self.error(found, _path(found), f"{what}, a decimal number like 1234.56", raw)
            return None
        return Decimal(raw)

    def amount(self, found: etree._Element | None, what: str) -> int | None:
        """Integer minor units of the document currency, or None (with an error) if wrong."""
        value = self.decimal(found, what)
        if found is None or value is None or not self.currency:
            return None
        given = found.get("currencyID")
        if given is not None and given.strip().upper() != self.currency:
            self.error(
                found, _path(found), f"{what} in {self.currency}, the document currency", given
            )
            return None
        places = exponent(self.currency)
        scaled = value.scaleb(places)
        if scaled != scaled.to_integral_value():
            expected = f"{what} with at most {places} decimals for {self.currency}"
            self.error(found, _path(found), expected, str(value))
            return None
        return int(scaled)

    def required_amount(self, node: etree._Element, path: str, what: str) -> int | None:
        return self.amount(self.element(node, path, what), what)

    def optional_amount(self, node: etree._Element, path: str, what: str) -> int | None:
        return self.amount(self.find(node, path), what)

    def read_currency(self, node: etree._Element, path: str) -> str:
        code = self.required(node, path, "the document currency (BT-5), an ISO 4217 code")
        if code:
            try:
                self.currency = check_currency(code)
            except MoneyError:
                self.error(node, _below(node, path), "an ISO 4217 currency code like EUR", code)
        return self.currency

    def read_date(self, found: etree._Element | None, what: str, *, syntax: str) -> date | None:
        """A UBL xs:date (2013-01-26, maybe with a time zone) or a CII format-102 20130126."""
        if found is None:
            return None
        raw = (found.text or "").strip()
        if syntax == "ubl":
            match = _XSD_DATE.fullmatch(raw)
            expected = f"{what} as YYYY-MM-DD"
        else:
            given_format = found.get("format", "102")
            match = _CII_DATE.fullmatch(raw) if given_format == "102" else None
            expected = f"{what} as YYYYMMDD (format 102)"
            raw = raw if given_format == "102" else f"{raw} (format {given_format})"
        if match is None:
            self.error(found, _path(found), expected, raw)
            return None
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            self.error(found, _path(found), f"{what}, a date that exists", raw)
            return None


def _first(reader: _Reader, nodes: list[etree._Element], path: str) -> str | None:
    return next((v for node in nodes if (v := reader.text(node, path)) is not None), None)


def _first_date(
    reader: _Reader, found: list[etree._Element | None], what: str, *, syntax: str
) -> date | None:
    dates = [reader.read_date(element, what, syntax=syntax) for element in found]
    return next((day for day in dates if day is not None), None)


def _account(account: str | None) -> str | None:
    return "".join(account.split()).upper() if account else None


def _joined(reader: _Reader, nodes: list[etree._Element], path: str) -> str | None:
    return "\n".join(t for node in nodes if (t := reader.text(node, path))) or None


@dataclass(frozen=True, slots=True)
class _Totals:
    net: int
    tax: int
    gross: int
    payable: int
    line_total: int | None


def _totals(
    net: int | None, tax: int | None, gross: int | None, payable: int | None, line_total: int | None
) -> _Totals | None:
    if tax is None and net is not None and gross is not None:
        tax = gross - net  # BT-110 absent: BR-CO-15 says gross = net + tax
    if net is None or tax is None or gross is None or payable is None:
        return None
    return _Totals(net, tax, gross, payable, line_total)


# -- UBL ----------------------------------------------------------------------------------------


def _read_ubl(r: _Reader, root: etree._Element) -> EInvoice | None:
    credit_root = etree.QName(root).localname == "CreditNote"
    type_code = r.text(root, "cbc:CreditNoteTypeCode" if credit_root else "cbc:InvoiceTypeCode")
    number = r.required(root, "cbc:ID", "the invoice number (BT-1)")
    issue_date = r.element(root, "cbc:IssueDate", "the issue date (BT-2) as YYYY-MM-DD")
    issued_on = r.read_date(issue_date, "the issue date (BT-2)", syntax="ubl")
    currency = r.read_currency(root, "cbc:DocumentCurrencyCode")
    means = root.findall("cac:PaymentMeans", _NAMESPACES)
    due_dates = [r.find(root, "cbc:DueDate")] + [r.find(m, "cbc:PaymentDueDate") for m in means]
    due_on = _first_date(r, due_dates, "the due date (BT-9)", syntax="ubl")
    totals = _ubl_totals(r, root)
    seller = _ubl_party(r, root, "cac:AccountingSupplierParty", "the seller (BG-4)")
    buyer = _ubl_party(r, root, "cac:AccountingCustomerParty", "the buyer (BG-7)")
    line_tag, paths = ("cac:InvoiceLine", _UBL_LINE)
    if credit_root:
        line_tag, paths = ("cac:CreditNoteLine", _UBL_CREDIT_NOTE_LINE)
    lines = _lines(r, root.findall(line_tag, _NAMESPACES), paths)
    if issued_on is None or totals is None or seller is None or buyer is None or r.errors:
        return None
    return EInvoice(
        syntax="ubl",
        kind="credit_note" if credit_root or type_code in CREDIT_NOTE_TYPE_CODES else "invoice",
        type_code=type_code,
        number=number,
        issued_on=issued_on,
        due_on=due_on,
        currency=currency,
        net_minor=totals.net,
        tax_minor=totals.tax,
        gross_minor=totals.gross,
        payable_minor=totals.payable,
        line_total_minor=totals.line_total,
        seller=seller,
        buyer=buyer,
        payment_reference=_first(r, means, "cbc:PaymentID"),
        payee_iban=_account(_first(r, means, "cac:PayeeFinancialAccount/cbc:ID")),
        terms_text=_joined(r, root.findall("cac:PaymentTerms", _NAMESPACES), "cbc:Note"),
        po_number=r.text(root, "cac:OrderReference/cbc:ID"),
        lines=lines,
        profile=r.text(root, "cbc:CustomizationID"),
    )


def _ubl_totals(r: _Reader, root: etree._Element) -> _Totals | None:
    totals = r.find(root, "cac:LegalMonetaryTotal")
    if totals is None:
        r.missing(root, "cac:LegalMonetaryTotal", "the document totals (BG-22)")
        return None
    tax = None
    for tax_total in root.findall("cac:TaxTotal", _NAMESPACES):
        # BT-110 is the TaxTotal in the document currency; another one may carry BT-111.
        found = r.find(tax_total, "cbc:TaxAmount")
        if found is not None and (found.get("currencyID") or r.currency) == r.currency:
            tax = r.amount(found, "the VAT total (BT-110)")
            break
    return _totals(
        net=r.required_amount(totals, "cbc:TaxExclusiveAmount", "the total without VAT (BT-109)"),
        tax=tax,
        gross=r.required_amount(totals, "cbc:TaxInclusiveAmount", "the total with VAT (BT-112)"),
        payable=r.required_amount(totals, "cbc:PayableAmount", "the amount due (BT-115)"),
        line_total=r.optional_amount(
            totals, "cbc:LineExtensionAmount", "the sum of lines (BT-106)"
        ),
    )


def _ubl_party(r: _Reader, root: etree._Element, path: str, what: str) -> Party | None:
    party = r.find(root, f"{path}/cac:Party")
    if party is None:
        r.missing(root, f"{path}/cac:Party", what)
        return None
    legal_name = r.text(party, "cac:PartyLegalEntity/cbc:RegistrationName")
    name = legal_name or r.text(party, "cac:PartyName/cbc:Name")
    if name is None:
        r.missing(party, "cac:PartyLegalEntity/cbc:RegistrationName", f"the name of {what}")
        return None
    schemes = party.findall("cac:PartyTaxScheme", _NAMESPACES)
    vat = [s for s in schemes if r.text(s, "cac:TaxScheme/cbc:ID") == "VAT"]
    address = r.find(party, "cac:PostalAddress")
    return Party(
        name=name,
        vat_id=_first(r, vat or schemes, "cbc:CompanyID"),
        registration_id=r.text(party, "cac:PartyLegalEntity/cbc:CompanyID"),
        country=r.text(address, "cac:Country/cbc:IdentificationCode"),
        street=r.text(address, "cbc:StreetName"),
        city=r.text(address, "cbc:CityName"),
        postal_code=r.text(address, "cbc:PostalZone"),
        email=r.text(party, "cac:Contact/cbc:ElectronicMail"),
    )


@dataclass(frozen=True, slots=True)
class _LinePaths:
    """Where the parts of an invoice line (EN 16931 BG-25) sit below the line element."""

    name: str
    description: str
    quantity: str
    price: str
    net: str
    rate: str


_UBL_LINE = _LinePaths(
    name="cac:Item/cbc:Name",
    description="cac:Item/cbc:Description",
    quantity="cbc:InvoicedQuantity",
    price="cac:Price/cbc:PriceAmount",
    net="cbc:LineExtensionAmount",
    rate="cac:Item/cac:ClassifiedTaxCategory/cbc:Percent",
)
_UBL_CREDIT_NOTE_LINE = replace(_UBL_LINE, quantity="cbc:CreditedQuantity")
_CII_LINE = _LinePaths(
    name="ram:SpecifiedTradeProduct/ram:Name",
    description="ram:SpecifiedTradeProduct/ram:Description",
    quantity="ram:SpecifiedLineTradeDelivery/ram:BilledQuantity",
    price="ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount",
    net="ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/"
    "ram:LineTotalAmount",
    rate="ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent",
)


def _lines(r: _Reader, nodes: list[etree._Element], paths: _LinePaths) -> tuple[Line, ...]:
    lines: list[Line] = []
    for node in nodes:
        name = r.text(node, paths.name) or r.text(node, paths.description)
        if name is None:
            r.missing(node, paths.name, "the item name (BT-153)")
        quantity = r.decimal(
            r.element(node, paths.quantity, "the quantity (BT-129)"), "the quantity"
        )
        price = r.decimal(r.element(node, paths.price, "the net price (BT-146)"), "the net price")
        net = r.required_amount(node, paths.net, "the line amount (BT-131)")
        rate = r.decimal(r.find(node, paths.rate), "the VAT rate (BT-152)")
        if name is not None and quantity is not None and price is not None and net is not None:
            lines.append(Line(name, quantity, price, net, rate))
    return tuple(lines)


# -- CII ----------------------------------------------------------------------------------------

_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
_AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"


def _read_cii(r: _Reader, root: etree._Element) -> EInvoice | None:
    document = r.find(root, "rsm:ExchangedDocument")
    agreement = r.find(root, _AGREEMENT)
    settlement = r.find(root, _SETTLEMENT)
    if document is None or agreement is None or settlement is None:
        for path, node in (
            ("rsm:ExchangedDocument", document),
            (_AGREEMENT, agreement),
            (_SETTLEMENT, settlement),
        ):
            if node is None:
                r.missing(root, path, "the document header, trade agreement and settlement")
        return None
    number = r.required(document, "ram:ID", "the invoice number (BT-1)")
    type_code = r.text(document, "ram:TypeCode")
    issue_date = r.element(
        document,
        "ram:IssueDateTime/udt:DateTimeString",
        "the issue date (BT-2) as YYYYMMDD (format 102)",
    )
    issued_on = r.read_date(issue_date, "the issue date (BT-2)", syntax="cii")
    currency = r.read_currency(settlement, "ram:InvoiceCurrencyCode")
    totals = _cii_totals(r, settlement)
    seller = _cii_party(r, agreement, "ram:SellerTradeParty", "the seller (BG-4)")
    buyer = _cii_party(r, agreement, "ram:BuyerTradeParty", "the buyer (BG-7)")
    items = "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem"
    lines = _lines(r, root.findall(items, _NAMESPACES), _CII_LINE)
    terms = settlement.findall("ram:SpecifiedTradePaymentTerms", _NAMESPACES)
    due_dates = [r.find(t, "ram:DueDateDateTime/udt:DateTimeString") for t in terms]
    due_on = _first_date(r, due_dates, "the due date (BT-9)", syntax="cii")
    if issued_on is None or totals is None or seller is None or buyer is None or r.errors:
        return None
    means = settlement.findall("ram:SpecifiedTradeSettlementPaymentMeans", _NAMESPACES)
    return EInvoice(
        syntax="cii",
        kind="credit_note" if type_code in CREDIT_NOTE_TYPE_CODES else "invoice",
        type_code=type_code,
        number=number,
        issued_on=issued_on,
        due_on=due_on,
        currency=currency,
        net_minor=totals.net,
        tax_minor=totals.tax,
        gross_minor=totals.gross,
        payable_minor=totals.payable,
        line_total_minor=totals.line_total,
        seller=seller,
        buyer=buyer,
        payment_reference=r.text(settlement, "ram:PaymentReference"),
        payee_iban=_account(_first(r, means, "ram:PayeePartyCreditorFinancialAccount/ram:IBANID")),
        terms_text=_joined(r, terms, "ram:Description"),
        po_number=r.text(agreement, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"),
        lines=lines,
        profile=r.text(
            root,
            "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
        ),
    )


def _cii_totals(r: _Reader, settlement: etree._Element) -> _Totals | None:
    path = "ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    totals = r.find(settlement, path)
    if totals is None:
        r.missing(settlement, path, "the document totals (BG-22)")
        return None
    tax = None
    for found in totals.findall("ram:TaxTotalAmount", _NAMESPACES):
        # BT-110 is the one in the document currency; a second one may carry BT-111.
        if (found.get("currencyID") or r.currency) == r.currency:
            tax = r.amount(found, "the VAT total (BT-110)")
            break
    return _totals(
        net=r.required_amount(totals, "ram:TaxBasisTotalAmount", "the total without VAT (BT-109)"),
        tax=tax,
        gross=r.required_amount(totals, "ram:GrandTotalAmount", "the total with VAT (BT-112)"),
        payable=r.required_amount(totals, "ram:DuePayableAmount", "the amount due (BT-115)"),
        line_total=r.optional_amount(totals, "ram:LineTotalAmount", "the sum of lines (BT-106)"),
    )


def _cii_party(r: _Reader, agreement: etree._Element, path: str, what: str) -> Party | None:
    party = r.find(agreement, path)
    name = r.text(party, "ram:Name")
    if party is None or name is None:
        r.missing(agreement, f"{path}/ram:Name", f"the name of {what}")
        return None
    address = r.find(party, "ram:PostalTradeAddress")
    contact = "ram:DefinedTradeContact/ram:EmailURIUniversalCommunication/ram:URIID"
    return Party(
        name=name,
        vat_id=r.text(party, "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"),
        registration_id=r.text(party, "ram:SpecifiedLegalOrganization/ram:ID"),
        country=r.text(address, "ram:CountryID"),
        street=r.text(address, "ram:LineOne"),
        city=r.text(address, "ram:CityName"),
        postal_code=r.text(address, "ram:PostcodeCode"),
        email=r.text(party, contact),
    )
