"""One entry point for every import: read, stage, apply in one transaction, record the run.

A dry run and an atomic import with a rejected row roll the whole transaction back, so nothing is
stored; the summary says what would have happened. Re-importing a file changes nothing: every
row is matched on its natural key and comes back unchanged.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.core.bulk import analyze, deferred_indexes, gc_paused
from dunwell.core.models import Company
from dunwell.formats.csv_rows import stream_csv
from dunwell.formats.errors import FileRejected
from dunwell.imports.services import customers, einvoices, invoices, payments
from dunwell.imports.services.common import Options, Summary, record_run
from dunwell.imports.services.rows import RowReader
from dunwell.ledger.models import (
    Allocation,
    Contact,
    Customer,
    Instalment,
    ItemKind,
    OpenItem,
    OpenItemLine,
    Payment,
)

KINDS = ("customers", "invoices", "credit-notes", "payments", "einvoice")
FIELDS = {
    "customers": (customers.REQUIRED, customers.OPTIONAL),
    "invoices": (invoices.REQUIRED, invoices.OPTIONAL),
    "credit-notes": (invoices.REQUIRED, invoices.OPTIONAL),
    "payments": (payments.REQUIRED, payments.OPTIONAL),
}
# A load of this many rows or more is followed by ANALYZE of the tables it filled (PostgreSQL;
# `core.bulk.analyze`): the next command (a dunning run, cash matching) is otherwise planned on
# the statistics of the table before, or on none, until autovacuum's next pass.
ANALYZE_FROM = 10_000
LOADED = {
    "customers": (Customer, Contact),
    "invoices": (OpenItem, OpenItemLine, Instalment),
    "credit-notes": (OpenItem, OpenItemLine, Instalment),
    "payments": (Payment, Allocation),
}


class _RollbackError(Exception):
    pass


def run_import(
    *,
    company: Company,
    kind: str,
    files: list[tuple[str, bytes]],
    options: Options,
    actor: User | None,
    at: datetime,
) -> Summary:
    """Import one CSV file (or several e-invoice files) of `kind`; see the module docstring."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}: expected one of {', '.join(KINDS)}")
    name = ", ".join(n for n, _ in files)
    summary = Summary(
        kind=kind, file_name=name, dry_run=options.dry_run, keep_valid=options.keep_valid
    )
    try:
        with transaction.atomic(), gc_paused():
            _apply(company, kind, files, options, summary, actor, at)
            if options.dry_run or summary.blocked():
                raise _RollbackError
            if sum(d.count(b"\n") for _, d in files) >= ANALYZE_FROM:
                for model in LOADED.get(kind, (OpenItem, OpenItemLine)):
                    analyze(model)  # PostgreSQL: what comes next is planned on the new size
            summary.applied = True
    except _RollbackError:
        summary.applied = False
    if not options.dry_run:
        data = b"".join(d for _, d in files)
        record_run(
            company=company,
            summary=summary,
            data=data,
            options=options,
            actor=actor,
            started=at,
            finished=at,
        )
    return summary


def _apply(
    company: Company,
    kind: str,
    files: list[tuple[str, bytes]],
    options: Options,
    summary: Summary,
    actor: User | None,
    at: datetime,
) -> None:
    if kind == "einvoice":
        parsed = einvoices.read_files(files, summary)
        staged = einvoices.stage(
            company, parsed, options, summary, actor=actor, at=at, on=at.date()
        )
        reader = RowReader(summary.file_name, options)
        for item_kind, entries in staged.items():
            invoices.apply_items(
                company=company,
                prepared=invoices.prepare_staged(
                    company, entries, item_kind, reader, summary, actor, at
                ),
                kind=item_kind,
                summary=summary,
                file_name=summary.file_name,
                actor=actor,
                at=at,
            )
        return
    file_name, data = files[0]
    required, optional = FIELDS[kind]
    try:
        table = stream_csv(
            data, file_name=file_name, required=required, optional=optional, mapping=options.mapping
        )
    except FileRejected as rejected:
        for error in rejected.errors:
            summary.reject(error, file_name, error.line)
        return
    if table.unknown_columns:
        summary.notes.append("columns not read: " + ", ".join(table.unknown_columns))
    reader = RowReader(file_name, options)
    try:
        if kind == "customers":
            customers.apply_customers(
                company=company,
                rows=tuple(table.rows),
                reader=reader,
                summary=summary,
                actor=actor,
                at=at,
            )
        elif kind == "payments":
            payments.apply_payments(
                company=company,
                rows=tuple(table.rows),
                reader=reader,
                summary=summary,
                options=options,
                actor=actor,
                at=at,
            )
        else:
            item_kind = ItemKind.CREDIT_NOTE if kind == "credit-notes" else ItemKind.INVOICE
            workers = invoices.workers_for(len(data))
            with (
                deferred_indexes(OpenItem, new_rows=data.count(b"\n")),
                invoices.prepared_rows(
                    company, table, item_kind, reader, summary, actor, at, workers=workers
                ) as prepared,
            ):
                invoices.apply_items(
                    company=company,
                    prepared=prepared,
                    kind=item_kind,
                    summary=summary,
                    file_name=file_name,
                    actor=actor,
                    at=at,
                )
    except FileRejected as rejected:  # a record that cannot be read, found while streaming
        summary.file_rejected = True
        for error in rejected.errors:
            summary.reject(error, file_name, error.line)
    for error in table.errors:  # rows that could not be split, found while reading
        summary.reject(error, file_name, error.line)
