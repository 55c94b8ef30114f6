"""The aging benchmark's ledger: one company, 10^4 customers, 10^6 invoices, ~10^6 allocations.

Invoices are issued over three years (2023-01-01 .. 2025-12-31) on net 14/30/60 terms. About 95 %
are paid in full by one payment each, on the due date plus a lateness drawn from a skewed
distribution (some early, most within days, a tail up to 120 days late); about 3 % are paid in
part (one payment of 20-80 % of the amount); the rest are unpaid. Every row is written with
`core.bulk.insert_rows` (executemany on SQLite, COPY on PostgreSQL), carrying the columns the
services write; `ledger.services.balances.refresh_company` then computes the stored open amounts
and settlement copies, and `ledger.queries.drift` must find nothing. The whole build is one
transaction, so a half-built company never exists; the same seed gives the same ledger.

Rows are generated three times from the seed (items, payments, allocations) rather than held in
memory: a pass costs a few seconds, a million kept tuples several hundred megabytes.
"""

from __future__ import annotations

import random
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from math import log
from typing import Any, NamedTuple, TypeVar

from django.db import connection, models, transaction

from dunwell.core.bulk import BackgroundInserter
from dunwell.core.models import Company
from dunwell.ledger.models import Allocation, AllocationKind, Customer, OpenItem, Payment
from dunwell.ledger.queries import drift
from dunwell.ledger.services.balances import refresh_company
from dunwell.ledger.services.documents import payment_reference_for
from dunwell.terms.models import PaymentTerm
from dunwell.terms.services import create_term

COMPANY = "agingbench"
CUSTOMERS = 10_000
START = date(2023, 1, 1)
DAYS = (date(2025, 12, 31) - START).days + 1
TERMS = ((14, 0.25), (30, 0.55), (60, 0.20))  # net days and share of customers
SOURCE = "agingbench"
BATCH = 50_000

T = TypeVar("T")

ITEM_COLUMNS = (
    "company_id", "customer_id", "kind", "number", "issued_on", "due_on", "currency",
    "amount_minor", "net_minor", "tax_minor", "po_number", "payment_reference",
    "payment_term_id", "discount_until", "discount_minor", "related_id", "has_instalments",
    "description", "source", "open_minor", "created_at", "updated_at", "created_by_id",
)  # fmt: skip
PAYMENT_COLUMNS = (
    "company_id", "customer_id", "external_id", "value_on", "currency", "amount_minor",
    "method", "reference", "payer_name", "payer_iban", "source", "unapplied_minor",
    "settled_on", "voided_on", "void_reason", "created_at",
)  # fmt: skip
# What `allocations.allocate_payment` writes for a payment in the item's currency.
ALLOCATION_COLUMNS = (
    "company_id", "customer_id", "currency", "target_id", "kind", "amount_minor", "payment_id",
    "payment_amount_minor", "fx_rate", "fx_on", "counter_item_id", "write_off_id",
    "reversal_of_id", "effective_on", "recorded_at", "recorded_by_id", "note", "target_due_on",
    "target_settled_on",
)  # fmt: skip


class Invoice(NamedTuple):
    n: int
    customer: int  # index into the customer list
    issued_on: date
    due_on: date
    net_minor: int
    tax_minor: int
    paid_minor: int  # 0 (unpaid), part of the gross amount, or all of it
    paid_on: date | None

    @property
    def gross_minor(self) -> int:
        return self.net_minor + self.tax_minor

    @property
    def number(self) -> str:
        return f"INV-{self.n:07d}"

    @property
    def payment_key(self) -> str:
        return f"PAY-{self.n:07d}"


def customer_terms(count: int, seed: int) -> list[int]:
    """Net days of each customer's payment terms."""
    rng = random.Random(seed)
    return rng.choices([d for d, _ in TERMS], weights=[w for _, w in TERMS], k=count)


def lateness(rng: random.Random) -> int:
    """Days from due date to value date: 15 % early, 40 % within 3 days, the rest late."""
    draw = rng.random()
    if draw < 0.15:
        return -rng.randint(1, 10)
    if draw < 0.55:
        return rng.randint(0, 3)
    return min(120, 1 + int(rng.expovariate(1 / 18)))


def invoices(count: int, terms: Sequence[int], seed: int) -> Iterator[Invoice]:
    """The ledger's invoices in number order; the same seed gives the same sequence."""
    rng = random.Random(seed)
    customers = len(terms)
    days = [START + timedelta(days=d) for d in range(DAYS)]
    mu = log(80_000)  # a median invoice of about 800 EUR net
    for n in range(1, count + 1):
        customer = int(customers * rng.random() ** 1.5)  # a few customers buy much more
        issued = days[rng.randrange(DAYS)]
        due = issued + timedelta(days=terms[customer])
        net = min(10_000_000, max(1_000, int(rng.lognormvariate(mu, 1.0))))
        tax = (net * 19 + 50) // 100
        draw = rng.random()
        paid_on = max(issued, due + timedelta(days=lateness(rng)))
        if draw < 0.95:
            yield Invoice(n, customer, issued, due, net, tax, net + tax, paid_on)
        elif draw < 0.98:
            part = max(1, (net + tax) * rng.randint(20, 80) // 100)
            yield Invoice(n, customer, issued, due, net, tax, part, paid_on)
        else:
            yield Invoice(n, customer, issued, due, net, tax, 0, None)


def at_hour(on: date, hour: int) -> datetime:
    return datetime.combine(on, clock(hour), tzinfo=UTC)


def _insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """Write rows in batches while the next batch is prepared (see `BackgroundInserter`)."""
    writer = BackgroundInserter(model, columns)
    try:
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                writer.put(batch)
                batch = []
        if batch:
            writer.put(batch)
    except BaseException:
        writer.abandon()
        raise
    return writer.close()


def _insert_payments(rows: Iterable[Sequence[Any]]) -> int:
    """`insert_rows` for payments, written here because `core.bulk` cannot name `external_id`.

    `core.bulk._insert_with` strips "_id" from every column to find a foreign key, so a plain
    column ending in "_id" raises FieldDoesNotExist (`meta.get_field(name)` would accept both).
    """
    table, names = Payment._meta.db_table, ", ".join(PAYMENT_COLUMNS)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        stamp = connection.ops.adapt_datetimefield_value
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(PAYMENT_COLUMNS))})"
        batch: list[Sequence[Any]] = []
        for row in rows:
            *values, created_at = row
            batch.append([*values, stamp(created_at)])  # dates: sqlite3's own adapter
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                count, batch = count + len(batch), []
        cursor.executemany(sql, batch)
    return count + len(batch)


def _ids(sql: str, params: Sequence[Any]) -> array[int]:
    found: array[int] = array("q")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(100_000):
            found.extend(row[0] for row in chunk)
    return found


def _setup(seed: int) -> tuple[Company, list[int], list[int], list[int]]:
    """The company, its terms and customers: (company, customer ids, term ids, term days)."""
    company = Company.objects.create(
        code=COMPANY,
        legal_name="Aging Bench GmbH",
        country="DE",
        base_currency="EUR",
        governing_law="DE",
    )
    term_of_days: dict[int, PaymentTerm] = {
        days: create_term(company=company, code=f"net{days}", name=f"Net {days}", days=days,
                          is_default=days == 30)
        for days, _ in TERMS
    }  # fmt: skip
    terms = customer_terms(CUSTOMERS, seed)
    created = Customer.objects.bulk_create(
        [
            Customer(
                company=company,
                account_number=f"C{i:05d}",
                legal_name=f"Customer {i:05d} GmbH",
                country="DE",
                city="Berlin",
                currency="EUR",
                language="de",
                payment_term=term_of_days[days],
            )
            for i, days in enumerate(terms, start=1)
        ],
        batch_size=2_000,
    )
    return company, [c.pk for c in created], [term_of_days[d].pk for d in terms], terms


def _item_rows(
    company: Company, plan: Iterable[Invoice], customer_ids: Sequence[int], term_ids: Sequence[int]
) -> Iterator[tuple[Any, ...]]:
    for inv in plan:
        created = at_hour(inv.issued_on, 8)
        gross = inv.gross_minor
        yield (
            company.pk, customer_ids[inv.customer], "invoice", inv.number, inv.issued_on,
            inv.due_on, "EUR", gross, inv.net_minor, inv.tax_minor,
            f"PO{inv.n % 997_001:06d}" if inv.n % 3 else "", payment_reference_for(inv.number),
            term_ids[inv.customer], None, None, None, False, "", SOURCE, gross, created, created,
            None,
        )  # fmt: skip


def _payment_rows(
    company: Company, plan: Iterable[Invoice], customer_ids: Sequence[int]
) -> Iterator[tuple[Any, ...]]:
    for inv in plan:
        if inv.paid_on is None:
            continue
        yield (
            company.pk, customer_ids[inv.customer], inv.payment_key, inv.paid_on, "EUR",
            inv.paid_minor, "transfer", inv.number, f"Customer {inv.customer + 1:05d} GmbH", "",
            SOURCE, inv.paid_minor, None, None, "", at_hour(inv.paid_on + timedelta(days=1), 7),
        )  # fmt: skip


def _allocation_rows(
    company: Company,
    plan: Iterable[Invoice],
    customer_ids: Sequence[int],
    item_ids: Sequence[int],
    payment_ids: Sequence[int],
) -> Iterator[tuple[Any, ...]]:
    paid = 0
    for inv in plan:
        if inv.paid_on is None:
            continue
        recorded = at_hour(inv.paid_on + timedelta(days=1), 7)  # booked from the next statement
        effective = max(inv.paid_on, inv.issued_on)
        yield (
            company.pk, customer_ids[inv.customer], "EUR", item_ids[inv.n - 1],
            AllocationKind.PAYMENT.value, inv.paid_minor, payment_ids[paid], inv.paid_minor,
            None, None, None, None, None, effective, recorded, None, "", inv.due_on, None,
        )  # fmt: skip
        paid += 1


def build(invoice_count: int, *, seed: int, log_to: Callable[[str], None]) -> dict[str, float]:
    """Create the company and its ledger in one transaction; returns the seconds of each phase."""
    phases: dict[str, float] = {}
    started = time.perf_counter()

    def step(label: str, action: Callable[[], T]) -> T:
        begun = time.perf_counter()
        result = action()
        phases[label] = round(time.perf_counter() - begun, 2)
        log_to(f"  {label:<34} {phases[label]:7.1f} s")
        return result

    def plan() -> Iterator[Invoice]:
        return invoices(invoice_count, terms, seed + 1)

    with transaction.atomic():
        company, customer_ids, term_ids, terms = _setup(seed)
        step("items", lambda: _insert(OpenItem, ITEM_COLUMNS,
                                      _item_rows(company, plan(), customer_ids, term_ids)))  # fmt: skip
        item_ids = _ids(
            "SELECT id FROM ledger_openitem WHERE company_id = %s AND kind = 'invoice' "
            "ORDER BY number",
            [company.pk],
        )
        step("payments", lambda: _insert_payments(_payment_rows(company, plan(), customer_ids)))
        payment_ids = _ids(
            "SELECT id FROM ledger_payment WHERE company_id = %s ORDER BY external_id",
            [company.pk],
        )
        step(
            "allocations",
            lambda: _insert(
                Allocation,
                ALLOCATION_COLUMNS,
                _allocation_rows(company, plan(), customer_ids, item_ids, payment_ids),
            ),
        )
        step("refresh_company", lambda: refresh_company(company))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum would do soon after such a load, done now: without statistics the
            # planner guesses, and without the visibility map index-only scans visit the heap.
            step("VACUUM (ANALYZE)", lambda: cursor.execute("VACUUM (ANALYZE)"))
        else:
            # No ANALYZE: Dunwell never runs it on SQLite (reports.aging names its indexes
            # there, so its plans do not depend on it). Fold the WAL into the database file.
            step("WAL checkpoint", lambda: cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
    found = step("verify (ledger.queries.drift)", lambda: drift(company))
    if found:
        for d in found[:20]:
            log_to(f"  DRIFT {d}")
        raise SystemExit(f"the built ledger has drift: {len(found)} values")
    phases["total"] = round(time.perf_counter() - started, 2)
    log_to(f"  {'built in':<34} {phases['total']:7.1f} s")
    return phases
