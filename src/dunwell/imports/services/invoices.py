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
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple

from django.contrib.auth.models import User

from dunwell.core.bulk import BackgroundInserter
from dunwell.core.errors import DunwellError
from dunwell.core.models import Company
from dunwell.formats.csv_rows import CsvRow
from dunwell.formats.errors import FieldError
from dunwell.imports.services.common import Outcome, RowResult, Summary
from dunwell.imports.services.rows import RowError, RowReader
from dunwell.ledger.models import (
    ActivityKind,
    Allocation,
    Customer,
    Instalment,
    ItemKind,
    OpenItem,
    OpenItemLine,
)
from dunwell.ledger.services import activity
from dunwell.ledger.services.allocations import apply_credit_note
from dunwell.ledger.services.balances import refresh_items
from dunwell.ledger.services.documents import (
    ITEM_COLUMNS,
    ItemInput,
    Planned,
    instalments_of,
    item_row,
    lines_of,
)
from dunwell.terms.models import PaymentTerm
from dunwell.terms.services import Scheduler

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
BATCH = 20_000  # rows staged, looked up and written together
LOOKUP = 900  # numbers per IN (...) query: under every SQLite build's parameter limit


class Staged(NamedTuple):
    line: int | None
    spec: ItemInput
    related_number: str = ""


def parse_rows(
    company: Company,
    rows: Iterable[CsvRow],
    kind: ItemKind,
    reader: RowReader,
    summary: Summary,
) -> Iterator[Staged]:
    """Each row staged as a document, or rejected in the summary (a generator: rows stream)."""
    known = Customer.objects.filter(company=company).only(
        "id", "company_id", "account_number", "currency", "payment_term_id"
    )
    customers = {c.account_number: c for c in known}
    terms = {t.code: t for t in PaymentTerm.objects.filter(company=company)}
    for row in rows:
        try:
            yield _stage(row, kind, reader, customers, terms)
        except RowError as error:
            summary.reject(error.error, reader.file_name, row.line, row.get("number"))


def _stage(
    row: CsvRow,
    kind: ItemKind,
    reader: RowReader,
    customers: dict[str, Customer],
    terms: dict[str, PaymentTerm],
) -> Staged:
    """One row as a document to issue, or a `RowError` naming the line and field.

    Called once per row of files of a million rows: it reads the row's values directly and
    leaves the parsing (and the error messages) to `RowReader`.
    """
    values = row.values
    number = values.get("number", "")
    account = values.get("customer", "")
    customer = customers.get(account)
    if not number or customer is None:
        number = reader.text(row, "number", required=True)
        account = reader.text(row, "customer", required=True)
        raise RowError(
            FieldError("the account number of a known customer", account).at(
                reader.file_name, row.line, "customer"
            )
        )
    currency = reader.currency(row, "currency", default=customer.currency)
    term_code = values.get("terms", "")
    if term_code and term_code not in terms:
        expected = f"a payment-terms code ({', '.join(sorted(terms)) or 'none defined'})"
        raise RowError(FieldError(expected, term_code).at(reader.file_name, row.line, "terms"))
    issued_on = reader.date(row, "issue_date")
    if issued_on is None:  # required=True has raised already; this narrows the type
        raise RowError(FieldError("a date", "").at(reader.file_name, row.line, "issue_date"))
    spec = ItemInput(
        customer=customer,
        number=number,
        issued_on=issued_on,
        currency=currency,
        gross_minor=reader.amount(row, "amount", currency) or 0,
        kind=kind,
        due_on=reader.date(row, "due_date", required=False),
        net_minor=reader.amount(row, "net", currency, required=False, positive=False),
        tax_minor=reader.amount(row, "tax", currency, required=False, positive=False),
        po_number=values.get("po_number", ""),
        payment_reference=values.get("payment_reference", ""),
        payment_term=terms.get(term_code) if term_code else None,
        description=values.get("description", ""),
        source=f"{reader.file_name}:{row.line}",
    )
    return Staged(row.line, spec, values.get("invoice", "") if kind is ItemKind.CREDIT_NOTE else "")


def _content(spec: ItemInput) -> tuple[Any, ...]:
    """What two rows with one number must agree on to be the same document."""
    return (
        spec.customer.id,
        spec.currency,
        spec.gross_minor,
        spec.issued_on,
        spec.due_on,
        spec.po_number,
    )


CHANGEABLE = (
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
_CHANGEABLE_AT = [ITEM_COLUMNS.index(name) for name in CHANGEABLE]


class Known(NamedTuple):
    """A stored item as the comparison needs it: its id and the values a file may change."""

    id: int
    values: tuple[Any, ...]  # in CHANGEABLE order


def _changes(known: Known, row: tuple[Any, ...]) -> dict[str, tuple[Any, Any]]:
    changes = {}
    for name, index, old in zip(CHANGEABLE, _CHANGEABLE_AT, known.values, strict=True):
        new = row[index]
        if new not in (None, "") and old != new:
            changes[name] = (old, new)
    return changes


def _batches(entries: Iterable[Staged], size: int) -> Iterator[list[Staged]]:
    it = iter(entries)
    while batch := list(islice(it, size)):
        yield batch


def _known(company: Company, kind: ItemKind, numbers: list[str]) -> dict[str, Known]:
    """The stored items with these numbers, as plain values (a re-import of a million rows
    compares a million of them; model instances would take most of its time)."""
    found: dict[str, Known] = {}
    for start in range(0, len(numbers), LOOKUP):
        chunk = numbers[start : start + LOOKUP]
        query = OpenItem.objects.filter(company=company, kind=kind, number__in=chunk)
        for pk, number, *values in query.values_list("pk", "number", *CHANGEABLE):
            found[number] = Known(pk, tuple(values))
    return found


def _existing(company: Company, kind: ItemKind, numbers: list[str]) -> dict[str, OpenItem]:
    found: dict[str, OpenItem] = {}
    for start in range(0, len(numbers), LOOKUP):
        chunk = numbers[start : start + LOOKUP]
        query = OpenItem.objects.filter(company=company, kind=kind, number__in=chunk)
        found.update((item.number, item) for item in query)
    return found


def _allocated(item_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(item_ids), LOOKUP):
        chunk = item_ids[start : start + LOOKUP]
        found.update(
            Allocation.objects.filter(target_id__in=chunk).values_list("target_id", flat=True)
        )
    return found


def apply_items(
    *,
    company: Company,
    staged: Iterable[Staged],
    kind: ItemKind,
    summary: Summary,
    file_name: str,
    actor: User | None,
    at: datetime,
) -> None:
    """Create, update or report each staged item (inside the caller's transaction).

    Works through the rows in batches, so a million-row file never holds a million model
    instances: new items are written by a `BackgroundInserter`, known numbers are looked up
    per batch (not at all while the company has no document of this kind yet).
    """
    scheduler = Scheduler(company)
    stored = activity.stored_actor(actor)
    created_by_id = stored.pk if stored else None
    seen: dict[str, tuple[int | None, tuple[Any, ...]]] = {}
    any_stored = OpenItem.objects.filter(company=company, kind=kind).exists()
    creator = _Creator(company, kind, summary, file_name, actor, at)
    updated: list[tuple[int, dict[str, tuple[Any, Any]]]] = []
    try:
        for batch in _batches(staged, BATCH):
            fresh = _first_of_each_number(batch, seen, summary, file_name)
            if any_stored:
                creator.writer.drain()  # the connection is the writer's until then
            existing = _known(company, kind, [e.spec.number for e in fresh]) if any_stored else {}
            allocated = _allocated([known.id for known in existing.values()]) if existing else set()
            for entry in fresh:
                try:
                    row, planned = item_row(
                        company, entry.spec, created_by_id=created_by_id, at=at, scheduler=scheduler
                    )
                except DunwellError as error:
                    summary.reject(error, file_name, entry.line, entry.spec.number)
                    continue
                known = existing.get(entry.spec.number)
                if known is None:
                    creator.add(entry, row, planned)
                else:
                    result = _compare(entry, known, row, known.id in allocated)
                    summary.add(result)
                    if result.outcome is Outcome.UPDATED:
                        updated.append((known.id, _changes(known, row)))
            creator.flush()
    except BaseException:
        creator.writer.abandon()
        raise
    creator.finish()
    _update(company, updated, file_name, actor, at)


def _first_of_each_number(
    batch: list[Staged],
    seen: dict[str, tuple[int | None, tuple[Any, ...]]],
    summary: Summary,
    file_name: str,
) -> list[Staged]:
    """The rows whose number is new in the file; a repeat is unchanged or, if it differs, refused."""
    fresh: list[Staged] = []
    for entry in batch:
        number = entry.spec.number
        first = seen.get(number)
        if first is None:
            seen[number] = (entry.line, _content(entry.spec))
            fresh.append(entry)
        elif first[1] == _content(entry.spec):
            summary.add(
                RowResult(entry.line, Outcome.UNCHANGED, number, reason=f"repeats line {first[0]}")
            )
        else:
            reason = (
                f'{file_name} line {entry.line}, field "number": {number} '
                f"appears on line {first[0]} with different content"
            )
            summary.add(RowResult(entry.line, Outcome.REJECTED, number, "number", reason))
    return fresh


def _compare(entry: Staged, known: Known, row: tuple[Any, ...], allocated: bool) -> RowResult:
    """What a row says of a stored item: unchanged, an update, or a conflict not applied."""
    number = entry.spec.number
    changes = _changes(known, row)
    guarded = sorted(set(changes) & {"amount_minor", "currency", "customer_id"})
    if not changes:
        return RowResult(entry.line, Outcome.UNCHANGED, number)
    if guarded and allocated:
        described = ", ".join(
            f"{f.removesuffix('_minor').removesuffix('_id')} {changes[f][0]} -> {changes[f][1]}"
            for f in guarded
        )
        reason = f"{number} already has allocations; not applied: {described}"
        return RowResult(entry.line, Outcome.CONFLICT, number, guarded[0], reason)
    return RowResult(
        entry.line, Outcome.UPDATED, number, reason="changed " + ", ".join(sorted(changes))
    )


class _Creator:
    """New items of one import: written in batches, then their history, parts and links."""

    def __init__(
        self,
        company: Company,
        kind: ItemKind,
        summary: Summary,
        file_name: str,
        actor: User | None,
        at: datetime,
    ) -> None:
        self.company, self.kind, self.summary = company, kind, summary
        self.file_name, self.actor, self.at = file_name, actor, at
        self.rows: list[tuple[Any, ...]] = []
        self.writer = BackgroundInserter(OpenItem, ITEM_COLUMNS)
        self.by_customer: dict[int, list[str]] = defaultdict(list)
        self.detailed: list[tuple[Staged, Planned]] = []  # with instalments or lines
        self.credit_notes: list[Staged] = []

    def add(self, entry: Staged, row: tuple[Any, ...], planned: Planned) -> None:
        self.rows.append(row)
        self.by_customer[entry.spec.customer.id].append(entry.spec.number)
        self.summary.add(RowResult(entry.line, Outcome.CREATED, entry.spec.number))
        if len(planned.parts) > 1 or entry.spec.lines:
            self.detailed.append((entry, planned))
        if entry.related_number:
            self.credit_notes.append(entry)

    def flush(self) -> None:
        if self.rows:
            self.writer.put(self.rows)
            self.rows = []

    def finish(self) -> None:
        self.flush()
        self.writer.close()
        self._details()
        customers = Customer.objects.only("id", "company_id").in_bulk(list(self.by_customer))
        entries = []
        for customer_id, numbers in self.by_customer.items():
            shown = ", ".join(numbers[:5]) + (
                f" and {len(numbers) - 5} more" if len(numbers) > 5 else ""
            )
            entries.append(
                activity.entry(
                    company=self.company,
                    kind=ActivityKind.IMPORTED,
                    on=self.at.date(),
                    at=self.at,
                    actor=self.actor,
                    customer=customers[customer_id],
                    label=f"import {self.file_name}"[:60],
                    summary=f"{len(numbers)} document(s) imported from {self.file_name}: {shown}",
                    data={"file": self.file_name, "created": numbers[:1000]},
                )
            )
        activity.record_many(entries)
        _link_credit_notes(self.company, self.credit_notes, self.actor, self.at)

    def _details(self) -> None:
        """Instalments and lines of the new items that have them."""
        if not self.detailed:
            return
        items = _existing(self.company, self.kind, [e.spec.number for e, _ in self.detailed])
        parts: list[Instalment] = []
        lines: list[OpenItemLine] = []
        for entry, planned in self.detailed:
            item = items[entry.spec.number]
            parts.extend(instalments_of(item, planned))
            lines.extend(lines_of(item, entry.spec))
        Instalment.objects.bulk_create(parts)
        OpenItemLine.objects.bulk_create(lines)


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
    updated: list[tuple[int, dict[str, tuple[Any, Any]]]],
    file_name: str,
    actor: User | None,
    at: datetime,
) -> None:
    items = OpenItem.objects.select_related("customer").in_bulk([pk for pk, _ in updated])
    for pk, changes in updated:
        item = items[pk]
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
    refresh_items([pk for pk, _ in updated])
