"""Importing customers (and one contact per row, when the row names one). Key: account number."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.formats.csv_rows import CsvRow
from dunwell.imports.services.common import Outcome, RowResult, Summary
from dunwell.imports.services.rows import RowError, RowReader
from dunwell.ledger.models import Contact, ContactRole, Customer
from dunwell.ledger.services.customers import (
    CustomerInput,
    create_customer,
    customer_values,
    update_customer,
)
from dunwell.terms.models import PaymentTerm

REQUIRED = ("account_number", "name")
OPTIONAL = (
    "currency",
    "kind",
    "country",
    "vat_id",
    "registration_id",
    "street",
    "postal_code",
    "city",
    "language",
    "time_zone",
    "segment",
    "credit_limit",
    "parent",
    "billed_to_parent",
    "terms",
    "tags",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_role",
)


def _input(row: CsvRow, reader: RowReader, company: Company) -> CustomerInput:
    currency = reader.currency(row, "currency", default=company.base_currency)
    limit = reader.amount(row, "credit_limit", currency, required=False, positive=False)
    return CustomerInput(
        account_number=reader.text(row, "account_number", required=True),
        legal_name=reader.text(row, "name", required=True),
        currency=currency,
        kind=reader.text(row, "kind") or "business",
        country=reader.text(row, "country"),
        registration_id=reader.text(row, "registration_id"),
        vat_id=reader.text(row, "vat_id"),
        street=reader.text(row, "street"),
        postal_code=reader.text(row, "postal_code"),
        city=reader.text(row, "city"),
        language=reader.text(row, "language") or company.default_language,
        time_zone=reader.text(row, "time_zone"),
        segment=reader.text(row, "segment"),
        credit_limit_minor=limit,
        tags=tuple(
            t.strip() for t in reader.text(row, "tags").replace(";", ",").split(",") if t.strip()
        ),
        parent_account=reader.text(row, "parent"),
        billed_to_parent=reader.flag(row, "billed_to_parent"),
    )


def apply_customers(
    *,
    company: Company,
    rows: tuple[CsvRow, ...],
    reader: RowReader,
    summary: Summary,
    actor: User | None,
    at: datetime,
) -> None:
    existing = {c.account_number: c for c in Customer.objects.filter(company=company)}
    terms = {t.code: t for t in PaymentTerm.objects.filter(company=company)}
    # Parents first, so that a branch may name a head office further down the file.
    ordered = sorted(rows, key=lambda r: bool(r.get("parent")))
    for row in ordered:
        key = row.get("account_number")
        try:
            spec = _input(row, reader, company)
            term = terms.get(reader.text(row, "terms")) if reader.text(row, "terms") else None
            if reader.text(row, "terms") and term is None:
                raise DunwellError(
                    ErrorCode.INVALID,
                    f"unknown payment-terms code {reader.text(row, 'terms')!r}",
                    field="terms",
                )
            customer = existing.get(spec.account_number)
            if customer is None:
                customer = create_customer(
                    company=company, spec=spec, actor=actor, at=at, on=at.date()
                )
                existing[customer.account_number] = customer
                outcome = Outcome.CREATED
                changed: list[str] = []
            else:
                values = customer_values(spec)
                values.pop("currency")
                changed = update_customer(
                    customer=customer, changes=values, actor=actor, at=at, on=at.date()
                )
                outcome = Outcome.UPDATED if changed else Outcome.UNCHANGED
            if term is not None and customer.payment_term_id != term.pk:
                customer.payment_term = term
                customer.save(update_fields=["payment_term", "updated_at"])
                if outcome is Outcome.UNCHANGED:
                    outcome, changed = Outcome.UPDATED, ["terms"]
            if _contact(customer, row, reader) and outcome is Outcome.UNCHANGED:
                outcome, changed = Outcome.UPDATED, ["contact"]
            summary.add(RowResult(row.line, outcome, key, reason=", ".join(changed)))
        except RowError as error:
            summary.reject(error.error, reader.file_name, row.line, key)
        except DunwellError as error:
            summary.reject(error, reader.file_name, row.line, key)


def _contact(customer: Customer, row: CsvRow, reader: RowReader) -> bool:
    """Add the row's contact unless it is already there; True when one was added."""
    name = reader.text(row, "contact_name")
    if not name:
        return False
    email = reader.text(row, "contact_email")
    role = reader.text(row, "contact_role") or ContactRole.AP_CLERK
    if role not in ContactRole.values:
        raise DunwellError(
            ErrorCode.INVALID,
            f"contact role {role!r}: expected one of {', '.join(ContactRole.values)}",
            field="contact_role",
        )
    _, created = Contact.objects.get_or_create(
        company=customer.company,
        customer=customer,
        name=name,
        email=email,
        defaults={"role": role, "phone": reader.text(row, "contact_phone")},
    )
    return created
