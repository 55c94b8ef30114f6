"""Statements of account attached to reminders: laid out once per customer and day, then reused.

A delivery pass asks for the statements of the customers it is about to email
(`statement_copies`). What is not stored yet is read and turned into HTML here (a few
milliseconds a customer), laid out as PDF by WeasyPrint (about 0.15 s a page, nearly all of the
work) in spawned worker processes when there are many, and stored as `StatementCopy` rows: the
next message to the same customer that day, a retry, or a second worker gets the same file.
Two workers that lay out the same statement at once both store it; the unique constraint keeps
one, and both send that one.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime

from dunwell.core.pdf import write_pdf
from dunwell.core.processes import usable_cpus
from dunwell.dunning.models import StatementCopy
from dunwell.ledger.models import Customer
from dunwell.ledger.printing import document_language, statement_filename, statement_html

PARALLEL_FROM = 8  # statements to lay out: below, starting workers costs more than it saves

Key = tuple[int, date]  # (customer id, as of)


def statement_copies(
    wanted: Iterable[Key], *, at: datetime, workers: int | None = None
) -> dict[Key, StatementCopy]:
    """The stored statement of each (customer, day), laying out the missing ones first.

    `workers`: processes to lay them out in (None: as many as `core.processes` allows, 0: this
    process)."""
    keys = set(wanted)
    found = _stored(keys)
    missing = sorted(keys - found.keys())
    if not missing:
        return found
    customers = Customer.objects.select_related("company", "parent").in_bulk(
        [pk for pk, _ in missing]
    )
    pages = [statement_html(customers[pk], as_of) for pk, as_of in missing]
    cpus = usable_cpus()
    pdfs = _lay_out(pages, (min(cpus, 2) if cpus > 1 else 0) if workers is None else workers)
    copies = []
    for (pk, as_of), pdf in zip(missing, pdfs, strict=True):
        customer = customers[pk]
        copies.append(
            StatementCopy(
                company_id=customer.company_id,
                customer=customer,
                as_of=as_of,
                language=document_language(customer, customer.company),
                filename=statement_filename(customer, as_of),
                pdf=pdf,
                created_at=at,
            )
        )
    StatementCopy.objects.bulk_create(copies, ignore_conflicts=True)
    return found | _stored(set(missing))


def _stored(keys: set[Key]) -> dict[Key, StatementCopy]:
    if not keys:
        return {}
    rows = StatementCopy.objects.filter(
        customer_id__in={pk for pk, _ in keys}, as_of__in={on for _, on in keys}
    )
    return {key: row for row in rows if (key := (row.customer_id, row.as_of)) in keys}


def _lay_out(pages: list[str], workers: int) -> list[bytes]:
    """The PDFs of `pages`, in worker processes when there are many. The workers are spawned,
    not forked: Pango and fontconfig are not safe to use across a fork from a process that has
    used them or runs other threads (the test suite once saw a forked pool's workers die and
    its map wait for ever), and a process pool that loses a worker says so
    (`BrokenProcessPool`) instead of waiting for ever."""
    if workers < 1 or len(pages) < PARALLEL_FROM:
        return [write_pdf(html) for html in pages]
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        return list(pool.map(write_pdf, pages, chunksize=1))
