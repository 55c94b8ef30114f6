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

import multiprocessing
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from multiprocessing.pool import AsyncResult, Pool
from typing import Any, NamedTuple

from django.contrib.auth.models import User

from dunwell.core.bulk import BackgroundInserter
from dunwell.core.errors import DunwellError
from dunwell.core.models import Company
from dunwell.core.processes import detach_database, fork_workers
from dunwell.formats.csv_rows import CsvBody, CsvRow, CsvStream
from dunwell.formats.errors import FieldError, FormatError
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
    LineInput,
    instalments_of,
    item_row,
    lines_of,
)
from dunwell.terms.models import PaymentTerm
from dunwell.terms.rules.due_dates import DuePart
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


class Prepared(NamedTuple):
    """A row ready to store: its values in `ITEM_COLUMNS` order, and what the checks across
    the file need. Plain values only, so that a worker process can hand it back cheaply."""

    line: int | None
    number: str
    content: tuple[Any, ...]  # what two rows with one number must agree on
    row: tuple[Any, ...]
    parts: tuple[DuePart, ...] = ()  # the instalments, when the terms split the amount
    lines: tuple[LineInput, ...] = ()
    related_number: str = ""


class _Preparer:
    """Reads, checks and computes the rows of one file of one company.

    Made in the importing process with everything it needs read from the database (customers,
    terms, holidays come lazily from the calendar library); for a large file it is copied into
    worker processes by fork, which never use the database connection (see `core.processes`).
    """

    def __init__(
        self,
        company: Company,
        kind: ItemKind,
        reader: RowReader,
        actor: User | None,
        at: datetime,
    ) -> None:
        self.company, self.kind, self.reader, self.at = company, kind, reader, at
        known = Customer.objects.filter(company=company).only(
            "id", "company_id", "account_number", "currency", "payment_term_id"
        )
        self.customers = {c.account_number: c for c in known}
        self.terms = {t.code: t for t in PaymentTerm.objects.filter(company=company)}
        self.scheduler = Scheduler(company)
        stored = activity.stored_actor(actor)
        self.created_by_id = stored.pk if stored else None

    def staged(self, entry: Staged, summary: Summary) -> Prepared | None:
        """A staged document with its computed values, or None (rejected in the summary)."""
        spec = entry.spec
        try:
            row, planned = item_row(
                self.company,
                spec,
                created_by_id=self.created_by_id,
                at=self.at,
                scheduler=self.scheduler,
            )
        except DunwellError as error:
            summary.reject(error, self.reader.file_name, entry.line, spec.number)
            return None
        parts = planned.parts if len(planned.parts) > 1 else ()
        return Prepared(
            entry.line, spec.number, _content(spec), row, parts, spec.lines, entry.related_number
        )

    def row(self, row: CsvRow, summary: Summary) -> Prepared | None:
        try:
            entry = _stage(row, self.kind, self.reader, self.customers, self.terms)
        except RowError as error:
            summary.reject(error.error, self.reader.file_name, row.line, row.get("number"))
            return None
        return self.staged(entry, summary)

    def piece(
        self, body: CsvBody, make_row: Callable[[int, list[str]], CsvRow], task: _Piece
    ) -> _Done:
        """One piece of the file (in a worker): its prepared rows, rejected rows and records
        that could not be split into the header's columns."""
        summary = Summary(kind="", file_name=self.reader.file_name, dry_run=True, keep_valid=True)
        errors: list[FormatError] = []
        prepared = []
        for line, cells in body.records(*task, errors):
            entry = self.row(make_row(line, cells), summary)
            if entry is not None:
                prepared.append(entry)
        return prepared, summary.rejected, errors


_Piece = tuple[int, int, int]  # start, end, first line: see CsvBody.pieces
_Done = tuple[list[Prepared], list[RowResult], list[FormatError]]


def prepare_staged(
    company: Company,
    staged: Iterable[Staged],
    kind: ItemKind,
    reader: RowReader,
    summary: Summary,
    actor: User | None,
    at: datetime,
) -> Iterator[Prepared]:
    """Documents staged by another reader (e-invoices), prepared in this process."""
    preparer = _Preparer(company, kind, reader, actor, at)
    for entry in staged:
        prepared = preparer.staged(entry, summary)
        if prepared is not None:
            yield prepared


PARALLEL_FROM_BYTES = (
    8 * 2**20
)  # about 100,000 invoice rows: below, workers cost more than they save
PIECE = 2**19  # characters per task of a worker (about 6,000 invoice rows)


def workers_for(size: int) -> int:
    """How many worker processes prepare a CSV file of `size` bytes (0: this process does)."""
    return fork_workers() if size >= PARALLEL_FROM_BYTES else 0


@contextmanager
def prepared_rows(
    company: Company,
    table: CsvStream,
    kind: ItemKind,
    reader: RowReader,
    summary: Summary,
    actor: User | None,
    at: datetime,
    *,
    workers: int = 0,
) -> Iterator[Iterator[Prepared]]:
    """The file's rows prepared, in file order, with rejected rows in the summary.

    With `workers` (and a file that can be read in pieces, `CsvBody`), reading and computing
    the rows, most of a large import's work, runs in that many forked processes while this one
    checks numbers across the file, looks up stored items and writes. The pool is forked here,
    before the writer's thread exists; the workers get the file's text and the preparer by
    fork, so a task is three integers.
    """
    preparer = _Preparer(company, kind, reader, actor, at)
    if workers < 1 or table.body is None:
        yield (p for row in table.rows if (p := preparer.row(row, summary)) is not None)
        return
    context = multiprocessing.get_context("fork")
    state = (preparer, table.body, table.make_row)
    with context.Pool(workers, initializer=_start_worker, initargs=(state,)) as pool:
        yield _in_workers(pool, table, summary, window=4 * workers)


def _in_workers(
    pool: Pool, table: CsvStream, summary: Summary, *, window: int
) -> Iterator[Prepared]:
    """The pieces prepared by the pool, taken back in file order; at most `window` pieces are
    out at once, so that finished rows never pile up faster than they are written."""
    if table.body is None:
        raise ValueError("this file cannot be read in pieces")
    out: deque[AsyncResult[_Done]] = deque()

    def collect() -> Iterator[Prepared]:
        prepared, rejected, errors = out.popleft().get()
        for result in rejected:
            summary.add(result)
        table.errors.extend(errors)
        return iter(prepared)

    for piece in table.body.pieces(PIECE):
        out.append(pool.apply_async(_prepare_piece, (piece,)))
        if len(out) >= window:
            yield from collect()
    while out:
        yield from collect()


_worker: tuple[_Preparer, CsvBody, Callable[[int, list[str]], CsvRow]] | None = None


def _start_worker(state: tuple[_Preparer, CsvBody, Callable[[int, list[str]], CsvRow]]) -> None:
    """In a forked worker: keep what it works with; make any use of the database an error."""
    global _worker  # noqa: PLW0603 - one per worker process
    _worker = state
    detach_database()


def _prepare_piece(task: _Piece) -> _Done:
    if _worker is None:
        raise RuntimeError("an import worker was started without its preparer")
    preparer, body, make_row = _worker
    return preparer.piece(body, make_row, task)


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


def _batches(entries: Iterable[Prepared], size: int) -> Iterator[list[Prepared]]:
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
    prepared: Iterable[Prepared],
    kind: ItemKind,
    summary: Summary,
    file_name: str,
    actor: User | None,
    at: datetime,
) -> None:
    """Create, update or report each prepared item (inside the caller's transaction).

    Works through the rows in batches, so a million-row file never holds a million model
    instances: new items are written by a `BackgroundInserter`, known numbers are looked up
    per batch (not at all while the company has no document of this kind yet).
    """
    seen: dict[str, tuple[int | None, int]] = {}
    any_stored = OpenItem.objects.filter(company=company, kind=kind).exists()
    creator = _Creator(company, kind, summary, file_name, actor, at)
    updated: list[tuple[int, dict[str, tuple[Any, Any]]]] = []
    try:
        for batch in _batches(prepared, BATCH):
            fresh = _first_of_each_number(batch, seen, summary, file_name)
            if not any_stored:
                for entry in fresh:
                    creator.add(entry)
                creator.flush()
                continue
            creator.writer.drain()  # the connection is the writer's until then
            existing = _known(company, kind, [entry.number for entry in fresh])
            allocated = _allocated([known.id for known in existing.values()]) if existing else set()
            for entry in fresh:
                known = existing.get(entry.number)
                if known is None:
                    creator.add(entry)
                else:
                    result = _compare(entry, known, known.id in allocated)
                    summary.add(result)
                    if result.outcome is Outcome.UPDATED:
                        updated.append((known.id, _changes(known, entry.row)))
            creator.flush()
    except BaseException:
        creator.writer.abandon()
        raise
    creator.finish()
    _update(company, updated, file_name, actor, at)


def _first_of_each_number(
    batch: list[Prepared],
    seen: dict[str, tuple[int | None, int]],
    summary: Summary,
    file_name: str,
) -> list[Prepared]:
    """The rows whose number is new in the file; a repeat is unchanged or, if it differs, refused.

    `seen` keeps each number's first line and the hash of its content, not the content: a
    million numbers would otherwise hold a million tuples of values (about 170 MB). Two
    different contents share a 64-bit hash with a chance of one in 10^19.
    """
    fresh: list[Prepared] = []
    for entry in batch:
        number = entry.number
        first = seen.get(number)
        if first is None:
            seen[number] = (entry.line, hash(entry.content))
            fresh.append(entry)
        elif first[1] == hash(entry.content):
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


def _compare(entry: Prepared, known: Known, allocated: bool) -> RowResult:
    """What a row says of a stored item: unchanged, an update, or a conflict not applied."""
    number = entry.number
    changes = _changes(known, entry.row)
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


_CUSTOMER_AT = ITEM_COLUMNS.index("customer_id")


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
        self.detailed: list[Prepared] = []  # with instalments or lines
        self.credit_notes: list[Prepared] = []

    def add(self, entry: Prepared) -> None:
        self.rows.append(entry.row)
        self.by_customer[entry.row[_CUSTOMER_AT]].append(entry.number)
        self.summary.add(RowResult(entry.line, Outcome.CREATED, entry.number))
        if entry.parts or entry.lines:
            self.detailed.append(entry)
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
        items = _existing(self.company, self.kind, [entry.number for entry in self.detailed])
        parts: list[Instalment] = []
        lines: list[OpenItemLine] = []
        for entry in self.detailed:
            item = items[entry.number]
            parts.extend(instalments_of(item, entry.parts))
            lines.extend(lines_of(item, entry.lines))
        Instalment.objects.bulk_create(parts)
        OpenItemLine.objects.bulk_create(lines)


def _link_credit_notes(
    company: Company, entries: list[Prepared], actor: User | None, at: datetime
) -> None:
    for entry in entries:
        note = OpenItem.objects.get(company=company, kind=ItemKind.CREDIT_NOTE, number=entry.number)
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
