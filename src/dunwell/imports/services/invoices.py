"""Importing invoices and credit notes from CSV, and e-invoices (UBL, CII) through the same path.

Natural key: (kind, number). A new number is created with its due date from the file, else from
its terms; a known number with the same content is unchanged; a later export may update what can
change (due date, PO number, description); a change of amount, currency or customer is applied
only while nothing is allocated to the item, and is otherwise a conflict, reported, not applied.
The same number twice in one file with different content is rejected (naming the first line).
A credit note that names its invoice is linked to it and applied to what is open on it.

New items are written in bulk; the history gets one entry per customer and file (with the
numbers created), so a million-row file adds thousands of history rows, not millions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from dunwell.core.errors import DunwellError
from dunwell.core.models import Company
from dunwell.formats.csv_rows import CsvRow
from dunwell.formats.errors import FieldError
from dunwell.imports.services.common import Outcome, RowResult, Summary
from dunwell.imports.services.rows import RowError, RowReader
from dunwell.ledger.models import ActivityKind, Allocation, Customer, Instalment, ItemKind, OpenItem
from dunwell.ledger.services import activity
from dunwell.ledger.services.allocations import apply_credit_note
from dunwell.ledger.services.balances import refresh_items
from dunwell.ledger.services.documents import ItemInput, build_item, instalments_of
from dunwell.terms.models import PaymentTerm

REQUIRED = ("number", "customer", "issue_date", "amount")
OPTIONAL = (
    "currency",
    "due_date",
    "net",
    "tax",
    "po_number",
    "payment_reference",
    "description",
    "terms",
    "invoice",
)
BATCH = 5000


@dataclass(frozen=True)
class Staged:
    line: int | None
    spec: ItemInput
    related_number: str = ""


def parse_rows(
    company: Company, rows: tuple[CsvRow, ...], kind: ItemKind, reader: RowReader, summary: Summary
) -> list[Staged]:
    customers = {c.account_number: c for c in Customer.objects.filter(company=company)}
    terms = {t.code: t for t in PaymentTerm.objects.filter(company=company)}
    staged: list[Staged] = []
    for row in rows:
        try:
            staged.append(_stage(row, kind, reader, customers, terms))
        except RowError as error:
            summary.reject(error.error, reader.file_name, row.line, row.get("number"))
    return staged


def _stage(
    row: CsvRow,
    kind: ItemKind,
    reader: RowReader,
    customers: dict[str, Customer],
    terms: dict[str, PaymentTerm],
) -> Staged:
    def fail(field: str, expected: str, got: str) -> RowError:
        return RowError(FieldError(expected, got).at(reader.file_name, row.line, field))

    number = reader.text(row, "number", required=True)
    account = reader.text(row, "customer", required=True)
    customer = customers.get(account)
    if customer is None:
        raise fail("customer", "the account number of a known customer", account)
    currency = reader.currency(row, "currency", default=customer.currency)
    term_code = reader.text(row, "terms")
    if term_code and term_code not in terms:
        raise fail(
            "terms",
            f"a payment-terms code ({', '.join(sorted(terms)) or 'none defined'})",
            term_code,
        )
    issued_on = reader.date(row, "issue_date")
    if issued_on is None:  # required=True has raised already; this narrows the type
        raise fail("issue_date", "a date", "")
    spec = ItemInput(
        customer=customer,
        number=number,
        kind=kind,
        issued_on=issued_on,
        currency=currency,
        gross_minor=reader.amount(row, "amount", currency) or 0,
        due_on=reader.date(row, "due_date", required=False),
        net_minor=reader.amount(row, "net", currency, required=False, positive=False),
        tax_minor=reader.amount(row, "tax", currency, required=False, positive=False),
        po_number=reader.text(row, "po_number"),
        payment_reference=reader.text(row, "payment_reference"),
        description=reader.text(row, "description"),
        payment_term=terms.get(term_code),
        source=f"{reader.file_name}:{row.line}",
    )
    return Staged(
        row.line, spec, reader.text(row, "invoice") if kind is ItemKind.CREDIT_NOTE else ""
    )


def _same_content(first: ItemInput, second: ItemInput) -> bool:
    fields = ("customer", "currency", "gross_minor", "issued_on", "due_on", "po_number")
    return all(getattr(first, f) == getattr(second, f) for f in fields)


def _changes(item: OpenItem, new: OpenItem) -> dict[str, tuple[Any, Any]]:
    fields = (
        "due_on",
        "po_number",
        "description",
        "amount_minor",
        "currency",
        "customer_id",
        "net_minor",
        "tax_minor",
        "issued_on",
    )
    return {
        f: (getattr(item, f), getattr(new, f))
        for f in fields
        if getattr(new, f) not in (None, "") and getattr(item, f) != getattr(new, f)
    }


def apply_items(
    *,
    company: Company,
    staged: list[Staged],
    kind: ItemKind,
    summary: Summary,
    file_name: str,
    actor: User | None,
    at: datetime,
) -> None:
    """Create, update or report each staged item (inside the caller's transaction)."""
    seen: dict[str, Staged] = {}
    existing = {
        item.number: item
        for item in OpenItem.objects.filter(
            company=company, kind=kind, number__in=[s.spec.number for s in staged]
        )
    }
    allocated = set(
        Allocation.objects.filter(target__in=existing.values()).values_list("target_id", flat=True)
    )
    new_items: list[tuple[Staged, OpenItem]] = []
    updated: list[tuple[OpenItem, dict[str, tuple[Any, Any]]]] = []
    for entry in staged:
        spec = entry.spec
        first = seen.get(spec.number)
        if first is not None:
            if _same_content(first.spec, spec):
                summary.add(
                    RowResult(
                        entry.line,
                        Outcome.UNCHANGED,
                        spec.number,
                        reason=f"repeats line {first.line}",
                    )
                )
            else:
                summary.add(
                    RowResult(
                        entry.line,
                        Outcome.REJECTED,
                        spec.number,
                        "number",
                        f'{file_name} line {entry.line}, field "number": {spec.number} '
                        f"appears on line {first.line} with different content",
                    )
                )
            continue
        seen[spec.number] = entry
        try:
            built = build_item(company, spec, actor)
        except DunwellError as error:
            summary.reject(error, file_name, entry.line, spec.number)
            continue
        item = existing.get(spec.number)
        if item is None:
            new_items.append((entry, built))
            continue
        changes = _changes(item, built)
        guarded = sorted(set(changes) & {"amount_minor", "currency", "customer_id"})
        if not changes:
            summary.add(RowResult(entry.line, Outcome.UNCHANGED, spec.number))
        elif guarded and item.pk in allocated:
            described = ", ".join(
                f"{f.removesuffix('_minor').removesuffix('_id')} {changes[f][0]} -> {changes[f][1]}"
                for f in guarded
            )
            summary.add(
                RowResult(
                    entry.line,
                    Outcome.CONFLICT,
                    spec.number,
                    guarded[0],
                    f"{spec.number} already has allocations; not applied: {described}",
                )
            )
        else:
            updated.append((item, changes))
            summary.add(
                RowResult(
                    entry.line,
                    Outcome.UPDATED,
                    spec.number,
                    reason="changed " + ", ".join(sorted(changes)),
                )
            )
    _create(company, new_items, summary, file_name, actor, at)
    _update(company, updated, file_name, actor, at)


def _create(
    company: Company,
    new_items: list[tuple[Staged, OpenItem]],
    summary: Summary,
    file_name: str,
    actor: User | None,
    at: datetime,
) -> None:
    by_customer: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(new_items), BATCH):
        chunk = new_items[start : start + BATCH]
        items = OpenItem.objects.bulk_create([item for _, item in chunk])
        Instalment.objects.bulk_create(
            [
                part
                for (entry, item) in zip(chunk, items, strict=True)
                for part in instalments_of(item, company, entry[0].spec)
            ]
        )
        for (entry, _), item in zip(chunk, items, strict=True):
            by_customer[item.customer_id].append(item.number)
            summary.add(RowResult(entry.line, Outcome.CREATED, item.number))
    customers = Customer.objects.in_bulk(list(by_customer))
    for customer_id, numbers in by_customer.items():
        shown = ", ".join(numbers[:5]) + (
            f" and {len(numbers) - 5} more" if len(numbers) > 5 else ""
        )
        activity.record(
            company=company,
            kind=ActivityKind.IMPORTED,
            on=at.date(),
            at=at,
            actor=actor,
            customer=customers[customer_id],
            label=f"import {file_name}"[:60],
            summary=f"{len(numbers)} document(s) imported from {file_name}: {shown}",
            data={"file": file_name, "created": numbers[:1000]},
        )
    _link_credit_notes(
        company, [entry for entry, _ in new_items if entry.related_number], actor, at
    )


def _link_credit_notes(
    company: Company, entries: list[Staged], actor: User | None, at: datetime
) -> None:
    for entry in entries:
        note = OpenItem.objects.get(
            company=company, kind=ItemKind.CREDIT_NOTE, number=entry.spec.number
        )
        invoice = OpenItem.objects.filter(
            company=company,
            kind=ItemKind.INVOICE,
            number=entry.related_number,
            customer=note.customer,
        ).first()
        if invoice is None:
            continue
        OpenItem.objects.filter(pk=note.pk).update(related=invoice)
        if invoice.open_minor > 0 and invoice.currency == note.currency:
            apply_credit_note(
                company=company,
                credit_note=note,
                item=invoice,
                amount_minor=min(-note.open_minor, invoice.open_minor),
                actor=actor,
                at=at,
            )


def _update(
    company: Company,
    updated: list[tuple[OpenItem, dict[str, tuple[Any, Any]]]],
    file_name: str,
    actor: User | None,
    at: datetime,
) -> None:
    for item, changes in updated:
        for name, (_, new) in changes.items():
            setattr(item, name, new)
        if "amount_minor" in changes:
            item.open_minor = item.amount_minor
        item.save(update_fields=[*changes, "open_minor", "updated_at"])
        activity.record(
            company=company,
            kind=ActivityKind.DOCUMENT_UPDATED,
            on=at.date(),
            at=at,
            actor=actor,
            customer=item.customer,
            item=item,
            label=f"import {file_name}"[:60],
            summary=f"{item} updated from {file_name}: "
            + ", ".join(f"{k} {old} -> {new}" for k, (old, new) in changes.items()),
            data={k: [str(old), str(new)] for k, (old, new) in changes.items()},
        )
    refresh_items([item.pk for item, _ in updated])
