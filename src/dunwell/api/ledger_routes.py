"""The ledger's routes: customers and contacts, invoices and credit notes (read, and issued by
another system), and the aging. Money (payments, allocations) and the history are in
`money_routes`; the shared vocabulary in `common`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.db.models import Case, Q, When
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.params import functions as param
from pydantic import ConfigDict

from dunwell.api.common import (
    DETAIL_ERRORS,
    KEY,
    KEYED,
    MAYBE_CURRENCY,
    READ_ERRORS,
    WRITE_ERRORS,
    Amount,
    Body,
    Day,
    Minor,
    Paging,
    QueryParameters,
    RecordId,
    check_choice,
    check_day,
    choice_field,
    customer_named,
    found_or_404,
    idempotent,
    in_range,
    key_field,
    page,
    read,
    token_of,
)
from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.ledger.models import Contact, ContactRole, Customer, ItemKind, OpenItem
from dunwell.ledger.services.documents import ItemInput, issue_item
from dunwell.reports.aging import aging
from dunwell.terms.models import PaymentTerm

router = Router()

AccountNumber = Annotated[str, param.Path(max_length=40, pattern=KEY)]
# A document number may hold "/" ("RE-2026/0815"): its routes take the rest of the path.
Number = Annotated[str, param.Path(max_length=60, pattern=KEY)]


# -- customers and contacts --------------------------------------------------------------------


class CustomerOut(Schema):
    account_number: str
    name: str
    currency: str
    country: str
    language: str
    segment: str


class CustomerPage(Schema):
    items: list[CustomerOut]
    next: str | None


class CustomerFilters(Paging):
    q: str = Field("", max_length=200, pattern=KEY,
                   description="a part of the name or of the account number")  # fmt: skip


def customer_row(c: Customer) -> dict[str, Any]:
    return {"account_number": c.account_number, "name": c.legal_name, "currency": c.currency,
            "country": c.country, "language": c.language, "segment": c.segment}  # fmt: skip


@router.get("/customers", response={200: CustomerPage, **READ_ERRORS}, tags=["customers"])
def customers(request: HttpRequest, filters: Query[CustomerFilters]) -> Any:
    """The company's customers; `q`: a part of the name or the account number."""
    rows = Customer.objects.filter(company=read(request))
    if filters.q:
        rows = rows.filter(
            Q(legal_name__icontains=filters.q) | Q(account_number__icontains=filters.q)
        )
    return page(rows, filters, customer_row)


@router.get("/customers/{account_number}", response={200: CustomerOut, **DETAIL_ERRORS},
            tags=["customers"])  # fmt: skip
def customer(request: HttpRequest, account_number: AccountNumber) -> Any:
    return customer_row(customer_named(read(request), account_number, field="account_number"))


class ContactOut(Schema):
    id: int
    customer: str
    name: str
    role: str
    email: str
    phone: str
    preferred_channel: str
    language: str = Field(description="empty: the customer's")
    receives_reminders: bool
    receives_escalations: bool
    receives_statements: bool
    email_bounced_on: date | None


class ContactPage(Schema):
    items: list[ContactOut]
    next: str | None


ROLES = list(ContactRole.values)


class RoleFilters(Paging):
    role: str = choice_field(ROLES, "the contact's role")


class ContactFilters(RoleFilters):
    customer: str = key_field("the customer's account number", 40)


def contact_row(c: Contact) -> dict[str, Any]:
    return {"id": c.pk, "customer": c.customer.account_number, "name": c.name, "role": c.role,
            "email": c.email, "phone": c.phone, "preferred_channel": c.preferred_channel,
            "language": c.language, "receives_reminders": c.receives_reminders,
            "receives_escalations": c.receives_escalations,
            "receives_statements": c.receives_statements,
            "email_bounced_on": c.email_bounced_on}  # fmt: skip


def _contacts(filters: RoleFilters, **scope: Any) -> Any:
    rows = Contact.objects.filter(**scope).select_related("customer")
    if isinstance(filters, ContactFilters) and filters.customer:
        rows = rows.filter(customer__account_number=filters.customer)
    if check_choice(filters.role, ROLES, "role"):
        rows = rows.filter(role=filters.role)
    return page(rows, filters, contact_row)


@router.get("/contacts", response={200: ContactPage, **READ_ERRORS}, tags=["customers"])
def contacts(request: HttpRequest, filters: Query[ContactFilters]) -> Any:
    """The people at the customers whom reminders, escalations and statements go to."""
    return _contacts(filters, company=read(request))


@router.get("/customers/{account_number}/contacts",
            response={200: ContactPage, **DETAIL_ERRORS}, tags=["customers"])  # fmt: skip
def customer_contacts(
    request: HttpRequest, account_number: AccountNumber, filters: Query[RoleFilters]
) -> Any:
    """One customer's contacts (404 for a customer that does not exist)."""
    found = customer_named(read(request), account_number, field="account_number")
    return _contacts(filters, company=found.company_id, customer=found)


@router.get("/contacts/{contact_id}", response={200: ContactOut, **DETAIL_ERRORS},
            tags=["customers"])  # fmt: skip
def contact(request: HttpRequest, contact_id: RecordId) -> Any:
    rows = Contact.objects.filter(company=read(request), pk=contact_id).select_related("customer")
    return contact_row(found_or_404(rows.first(), f"contact {contact_id}"))


# -- invoices and credit notes -----------------------------------------------------------------


class ItemOut(Schema):
    number: str
    kind: str
    customer: str
    currency: str
    amount_minor: int = Field(description="signed: a credit note is negative")
    open_minor: int
    issued_on: date
    due_on: date
    settled_on: date | None
    payment_reference: str
    related: str | None = Field(description="the invoice a credit note, fee or interest is of")


class ItemPage(Schema):
    items: list[ItemOut]
    next: str | None


def item_row(i: OpenItem) -> dict[str, Any]:
    return {"number": i.number, "kind": i.kind, "customer": i.customer.account_number,
            "currency": i.currency, "amount_minor": i.amount_minor, "open_minor": i.open_minor,
            "issued_on": i.issued_on, "due_on": i.due_on, "settled_on": i.settled_on,
            "payment_reference": i.payment_reference,
            "related": i.related.number if i.related else None}  # fmt: skip


KINDS = list(ItemKind.values)


class DocumentFilters(Paging):
    customer: str = key_field("the customer's account number", 40)
    currency: str = Field("", pattern=MAYBE_CURRENCY, description="ISO 4217, e.g. EUR")
    open: bool | None = Field(None, description="true: something is open; false: settled")
    issued_from: Day | None = None
    issued_to: Day | None = None


class ItemFilters(DocumentFilters):
    overdue: bool | None = Field(None, description="true: open and due before today")
    kind: str = choice_field(KINDS, "invoice, credit_note, fee, interest or refund")
    due_from: Day | None = None
    due_to: Day | None = None


def _documents(request: HttpRequest, filters: DocumentFilters) -> Any:
    company = read(request)
    rows = OpenItem.objects.filter(company=company).select_related("customer", "related")
    if filters.customer:
        rows = rows.filter(customer__account_number=filters.customer)
    if filters.currency:
        rows = rows.filter(currency=filters.currency.upper())
    if filters.open is not None:
        rows = rows.exclude(open_minor=0) if filters.open else rows.filter(open_minor=0)
    return in_range(rows, "issued_on", filters.issued_from, filters.issued_to)


@router.get("/invoices", response={200: ItemPage, **READ_ERRORS}, tags=["invoices"])
def invoices(request: HttpRequest, filters: Query[ItemFilters]) -> Any:
    """Invoices, credit notes, fees, interest and refunds (`kind`), filtered; `overdue` as of
    the company's today."""
    rows = _documents(request, filters)
    if check_choice(filters.kind, KINDS, "kind"):
        rows = rows.filter(kind=filters.kind)
    if filters.overdue:
        rows = rows.exclude(open_minor=0).filter(due_on__lt=clock.today(token_of(request).company))
    rows = in_range(rows, "due_on", filters.due_from, filters.due_to)
    return page(rows, filters, item_row)


@router.get("/invoices/{rest:number}", response={200: ItemOut, **DETAIL_ERRORS},
            tags=["invoices"])  # fmt: skip
def invoice(request: HttpRequest, number: Number) -> Any:
    """A document by its number (an invoice before a credit note of the same number)."""
    rows = OpenItem.objects.filter(company=read(request), number=number)
    last = Case(When(kind=ItemKind.CREDIT_NOTE, then=1), default=0)
    found = rows.select_related("customer", "related").order_by(last, "pk").first()
    return item_row(found_or_404(found, f"invoice {number!r}"))


@router.get("/credit-notes", response={200: ItemPage, **READ_ERRORS}, tags=["invoices"])
def credit_notes(request: HttpRequest, filters: Query[DocumentFilters]) -> Any:
    """Credit notes (amounts negative); `open`: not yet applied in full."""
    rows = _documents(request, filters).filter(kind=ItemKind.CREDIT_NOTE)
    return page(rows, filters, item_row)


@router.get("/credit-notes/{rest:number}", response={200: ItemOut, **DETAIL_ERRORS},
            tags=["invoices"])  # fmt: skip
def credit_note(request: HttpRequest, number: Number) -> Any:
    rows = OpenItem.objects.filter(company=read(request), kind=ItemKind.CREDIT_NOTE, number=number)
    found = rows.select_related("customer", "related").first()
    return item_row(found_or_404(found, f"credit note {number!r}"))


class ItemIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer": "C001",
                    "number": "RE-2026/0815",
                    "issued_on": "2026-11-02",
                    "amount_minor": 119000,
                    "net_minor": 100000,
                    "tax_minor": 19000,
                }
            ]
        }
    )

    customer: str = Field(max_length=40, pattern=KEY, description="the account number")
    number: str = Field(min_length=1, max_length=60, pattern=KEY)
    kind: Literal["invoice", "credit_note"] = "invoice"
    issued_on: Day
    due_on: Day | None = Field(None, description="empty: from the terms")
    amount_minor: Amount = Field(description="gross, positive for either kind")
    currency: str = Field("", pattern=MAYBE_CURRENCY, description="empty: the customer's")
    terms: str = Field("", max_length=40, pattern=KEY,
                       description="a payment term's code; empty: the customer's, else the "
                       "company's default")  # fmt: skip
    net_minor: Minor | None = None
    tax_minor: Minor | None = None
    po_number: str = Field("", max_length=60, pattern=KEY)
    payment_reference: str = Field("", max_length=35, pattern=KEY,
                                   description="empty: an RF reference from the number")  # fmt: skip
    description: str = Field("", max_length=200, pattern=KEY)
    invoice: str = Field("", max_length=60, pattern=KEY,
                         description="for a credit note: the invoice it credits")  # fmt: skip


@router.post("/invoices", response={201: ItemOut, **WRITE_ERRORS}, openapi_extra=KEYED,
             tags=["invoices"])  # fmt: skip
@idempotent
def issue_invoice(request: HttpRequest, data: ItemIn) -> tuple[int, dict[str, Any]]:
    """An invoice or a credit note from another system (an ERP), for an existing customer: its
    due date from the terms unless given; the same number of the same kind again is 409."""
    token = token_of(request)
    company = token.company
    check_day(data.issued_on, "issued_on")
    check_day(data.due_on, "due_on")
    found = customer_named(company, data.customer)
    term = None
    if data.terms:
        term = PaymentTerm.objects.filter(company=company, code=data.terms).first()
        found_or_404(term, f"payment terms {data.terms!r}")
    related = None
    if data.invoice:
        related = (OpenItem.objects.filter(company=company, customer=found, number=data.invoice)
                   .exclude(kind=ItemKind.CREDIT_NOTE).first())  # fmt: skip
        if related is None:
            raise DunwellError(ErrorCode.NOT_FOUND, f"no invoice {data.invoice!r} of "
                               f"{found.account_number}", field="invoice")  # fmt: skip
    spec = ItemInput(
        customer=found, number=data.number, issued_on=data.issued_on,
        currency=(data.currency or found.currency).upper(), gross_minor=data.amount_minor,
        kind=ItemKind(data.kind), due_on=data.due_on, net_minor=data.net_minor,
        tax_minor=data.tax_minor, po_number=data.po_number,
        payment_reference=data.payment_reference, payment_term=term, related=related,
        description=data.description, source=f"API: {token.name}",
    )  # fmt: skip
    made = issue_item(company=company, spec=spec, actor=None, at=clock.now())
    return 201, item_row(made)


# -- the aging ---------------------------------------------------------------------------------


class AgingTotal(Schema):
    currency: str
    buckets: dict[str, int]
    total_minor: int
    unapplied_minor: int


class AgingQuery(QueryParameters):
    as_of: Day | None = Field(None, description="empty: the company's today")


@router.get("/aging", response={200: list[AgingTotal], **READ_ERRORS}, tags=["reports"])
def aging_totals(request: HttpRequest, filters: Query[AgingQuery]) -> Any:
    """The aging per currency as of a date (default: the company's today)."""
    company = read(request)
    report = aging(company, filters.as_of or clock.today(company), with_names=False)
    return [{"currency": c, "buckets": dict(zip(report.labels, t.buckets, strict=True)),
             "total_minor": t.total_minor, "unapplied_minor": t.unapplied_minor}
            for c, t in report.totals.items()]  # fmt: skip
