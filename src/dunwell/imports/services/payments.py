"""Importing payments. Key: the file's payment id, else a digest of the row's content.

A row may name the invoices it pays (`invoices`: numbers separated by ";" or ",", each optionally
with an amount, "INV-1:100.00; INV-2"); the payment is allocated to them in that order up to each
one's open amount, converting through the dated FX rate when currencies differ. Without named
invoices the payment stays unapplied on the account, or is allocated oldest-first on request.
Each row is its own savepoint: a refused allocation leaves no half-written payment behind.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cases.services import tracking
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.formats.csv_rows import CsvRow
from dunwell.formats.errors import FieldError
from dunwell.imports.services.common import Options, Outcome, RowResult, Summary
from dunwell.imports.services.rows import RowError, RowReader
from dunwell.ledger.models import Customer, ItemKind, OpenItem, Payment, PaymentMethod
from dunwell.ledger.services.allocations import allocate_oldest_first, allocate_payment
from dunwell.ledger.services.payments import PaymentInput, receive_payment

REQUIRED = ("customer", "date", "amount")
OPTIONAL = ("id", "currency", "method", "reference", "payer_name", "payer_iban", "invoices")


def _key(row: CsvRow, occurrence: int) -> str:
    content = "|".join(row.get(f) for f in ("customer", "date", "amount", "currency", "reference"))
    return "row-" + hashlib.sha256(f"{content}|{occurrence}".encode()).hexdigest()[:24]


def _invoice_list(row: CsvRow, reader: RowReader, currency: str) -> list[tuple[str, int | None]]:
    named: list[tuple[str, int | None]] = []
    for part in row.get("invoices").replace(",", ";").split(";"):
        if not part.strip():
            continue
        number, _, amount = part.partition(":")
        minor = None
        if amount.strip():
            probe = CsvRow(row.line, {"invoice_amount": amount.strip()})
            minor = reader.amount(probe, "invoice_amount", currency)
        named.append((number.strip(), minor))
    return named


def apply_payments(
    *,
    company: Company,
    rows: tuple[CsvRow, ...],
    reader: RowReader,
    summary: Summary,
    options: Options,
    actor: User | None,
    at: datetime,
) -> None:
    customers = {c.account_number: c for c in Customer.objects.filter(company=company)}
    occurrences: Counter[str] = Counter()
    for row in rows:
        content = "|".join(
            row.get(f) for f in ("customer", "date", "amount", "currency", "reference")
        )
        occurrences[content] += 1
        key = row.get("id") or _key(row, occurrences[content])
        try:
            with transaction.atomic():
                outcome = _one(company, row, key, reader, customers, options, actor, at)
            summary.add(RowResult(row.line, outcome, key))
        except RowError as error:
            summary.reject(error.error, reader.file_name, row.line, key)
        except DunwellError as error:
            summary.reject(error, reader.file_name, row.line, key)


def _one(
    company: Company,
    row: CsvRow,
    key: str,
    reader: RowReader,
    customers: dict[str, Customer],
    options: Options,
    actor: User | None,
    at: datetime,
) -> Outcome:
    account = reader.text(row, "customer", required=True)
    customer = customers.get(account)
    if customer is None:
        raise RowError(
            FieldError("the account number of a known customer", account).at(
                reader.file_name, row.line, "customer"
            )
        )
    currency = reader.currency(row, "currency", default=customer.currency)
    amount = reader.amount(row, "amount", currency) or 0
    value_on = reader.date(row, "date")
    if value_on is None:  # required=True has raised already; this narrows the type
        raise RowError(FieldError("a date", "").at(reader.file_name, row.line, "date"))
    method = reader.text(row, "method") or PaymentMethod.TRANSFER
    if method not in PaymentMethod.values:
        raise RowError(
            FieldError(f"a method ({', '.join(PaymentMethod.values)})", method).at(
                reader.file_name, row.line, "method"
            )
        )
    existing = Payment.objects.filter(company=company, external_id=key).first()
    if existing is not None:
        if (existing.customer_id, existing.amount_minor, existing.currency, existing.value_on) != (
            customer.pk,
            amount,
            currency,
            value_on,
        ):
            raise DunwellError(
                ErrorCode.CONFLICT,
                f"payment {key} is already recorded with other customer, amount, currency or date",
                field="id",
            )
        return Outcome.UNCHANGED
    named = _invoice_list(row, reader, currency)
    payment = receive_payment(
        company=company,
        actor=actor,
        at=at,
        spec=PaymentInput(
            customer=customer,
            external_id=key,
            value_on=value_on,
            currency=currency,
            amount_minor=amount,
            method=PaymentMethod(method),
            reference=reader.text(row, "reference"),
            payer_name=reader.text(row, "payer_name"),
            payer_iban=reader.text(row, "payer_iban"),
            source=f"{reader.file_name}:{row.line}",
        ),
    )
    allocated: set[int] = set()
    for number, wanted in named:
        item = (
            OpenItem.objects.filter(company=company, number=number)
            .exclude(kind=ItemKind.CREDIT_NOTE)
            .first()
        )
        if item is None:
            raise DunwellError(
                ErrorCode.UNKNOWN_DOCUMENT, f"invoice {number} does not exist", field="invoices"
            )
        payment.refresh_from_db(fields=["unapplied_minor"])
        share = wanted if wanted is not None else _fits(payment, item)
        if share > 0:
            allocate_payment(
                company=company,
                payment=payment,
                item=item,
                amount_minor=share,
                actor=actor,
                at=at,
                note=f"named in {reader.file_name}",
            )
            allocated.add(item.customer_id)
    if not named and options.allocate == "oldest":
        rows = allocate_oldest_first(company=company, payment=payment, actor=actor, at=at)
        allocated.update(row.customer_id for row in rows)
    # the promises and instalments these payments keep, in the row's own transaction
    tracking.after_payments(company=company, customer_ids=allocated, on=value_on, at=at,
                            actor=actor)  # fmt: skip
    return Outcome.CREATED


def _fits(payment: Payment, item: OpenItem) -> int:
    """How much of the item the payment's unapplied amount can settle (same currency only)."""
    if payment.currency != item.currency:
        return item.open_minor  # converted and checked against the unapplied amount by the service
    return min(item.open_minor, payment.unapplied_minor)
