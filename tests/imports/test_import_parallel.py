"""A large CSV file is read and computed by worker processes: what is stored and reported must be
exactly what one process stores and reports, and the database is written by this process only."""

import multiprocessing
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dunwell.imports.services import invoices
from dunwell.imports.services.common import Options, Outcome
from dunwell.imports.services.run import run_import
from dunwell.ledger.models import Customer, Instalment, OpenItem
from dunwell.terms.models import PaymentTermLine
from dunwell.terms.rules.due_dates import Basis
from dunwell.terms.services import create_term
from tests import factories as f
from tests.factories import AT

pytestmark = pytest.mark.django_db

HEADER = b"number,customer,issue_date,due_date,amount,net,tax,currency,po_number,terms\n"


def ledger_file() -> bytes:
    """About 2,400 rows with every kind of outcome, spread over many pieces of the file."""
    rows = [HEADER]
    for n in range(1, 2401):
        account = f"C{n % 7:03d}"
        due = f"2025-12-{n % 28 + 1:02d}" if n % 3 == 0 else ""
        terms = "halves" if n % 50 == 0 else ""
        net, tax = (f"{n}.00", f"{n * 19 // 100}.{n % 100:02d}") if n % 4 == 0 else ("", "")
        rows.append(
            f"INV-{n:05d},{account},2025-0{n % 9 + 1}-{n % 27 + 1:02d},{due},"
            f"{n * 3}.{n % 100:02d},{net},{tax},EUR,PO{n},{terms}\n".encode()
        )
    rows.insert(400, b"\n\r\n")  # blank lines move the line numbers of the rows after them
    rows.insert(700, b"INV-00005,C005,2025-06-06,,15.05,,,EUR,PO5,\n")  # repeats line 6
    rows.insert(900, b"INV-00006,C006,2025-07-07,,99.99,,,EUR,PO6,\n")  # differs from line 7
    rows.insert(1200, b"INV-BAD1,C001,2025-13-01,,10.00,,,EUR,,\n")  # no 13th month
    rows.insert(1500, b"INV-BAD2,C404,2025-01-01,,10.00,,,EUR,,\n")  # unknown customer
    rows.insert(1800, b"INV-BAD3,C001,2025-01-01,,10.00,,EUR,,\n")  # a value short
    rows.insert(2100, b"INV-BAD4,C001,2025-03-01,2025-02-01,10.00,,,EUR,,\n")  # due before issue
    return b"".join(rows)


def a_company(code: str):
    company = f.company(code)
    for n in range(7):
        f.customer(company, f"C{n:03d}", f"Customer {n}")
    halves = create_term(company=company, code="halves", name="Half at 30, half at 60", days=30)
    halves.lines.update(share_percent=Decimal(50))
    PaymentTermLine.objects.create(term=halves, sequence=2, basis=Basis.AFTER_INVOICE, days=60)
    return company


def stored(company) -> list[tuple]:
    accounts = dict(Customer.objects.filter(company=company).values_list("id", "account_number"))
    fields = [f for f in invoices.ITEM_COLUMNS if f not in ("company_id", "payment_term_id")]
    rows = OpenItem.objects.filter(company=company).order_by("number").values_list(*fields)
    at = fields.index("customer_id")
    return [(*row[:at], accounts[row[at]], *row[at + 1 :]) for row in rows]


def test_worker_processes_store_and_report_exactly_what_one_process_does(monkeypatch):
    data = ledger_file()
    one, pool = a_company("one"), a_company("pool")
    options = Options(keep_valid=True)

    def imported(company, workers):
        monkeypatch.setattr(invoices, "workers_for", lambda size: workers)
        monkeypatch.setattr(invoices, "PIECE", 4_000)  # about 60 pieces, not one
        files = [("ledger.csv", data)]
        return run_import(
            company=company, kind="invoices", files=files, options=options, actor=None, at=AT
        )

    alone, parallel = imported(one, 0), imported(pool, 2)
    assert (
        parallel.counts
        == alone.counts
        == {
            "created": 2400,
            "updated": 0,
            "unchanged": 1,
            "conflict": 0,
            "rejected": 5,
        }
    )
    assert parallel.as_dict() == alone.as_dict()
    # the line of the row at index i of the file is i + 1, and one more after the blank lines
    assert sorted((r.line, r.field) for r in parallel.rejected) == [
        (902, "number"),
        (1202, "issue_date"),
        (1502, "customer"),
        (1802, None),
        (2102, "due_on"),
    ]
    [repeat] = parallel.by_outcome[Outcome.UNCHANGED]
    assert (repeat.line, repeat.reason) == (702, "repeats line 6")
    assert stored(pool) == stored(one)
    item = OpenItem.objects.get(company=pool, number="INV-00050")
    assert list(Instalment.objects.filter(item=item).values_list("due_on", "amount_minor")) == [
        (date(2025, 7, 24), 75_25),
        (date(2025, 8, 23), 75_25),
    ]


def test_a_record_too_long_to_read_in_a_worker_refuses_the_file_naming_its_line(monkeypatch):
    company = a_company("acme")
    rows = [b"INV-%05d,C001,2025-03-01,,10.00,,,EUR,,\n" % n for n in range(1, 3000)]
    rows[2500] = b"INV-LONG,C001,2025-03-01,,10.00,,,EUR,," + b"x" * 200_000 + b"\n"
    monkeypatch.setattr(invoices, "workers_for", lambda size: 2)
    monkeypatch.setattr(invoices, "PIECE", 10_000)
    summary = run_import(
        company=company,
        kind="invoices",
        files=[("long.csv", HEADER + b"".join(rows))],
        options=Options(keep_valid=True),
        actor=None,
        at=AT,
    )
    assert summary.file_rejected and not summary.applied
    [rejected] = summary.rejected
    assert rejected.line == 2502
    assert rejected.reason.startswith("long.csv line 2502: expected a well-formed CSV record")
    assert OpenItem.objects.count() == 0


def test_a_worker_process_may_not_use_the_database():
    a_company("acme")
    context = multiprocessing.get_context("fork")
    with context.Pool(1, initializer=invoices._start_worker, initargs=(None,)) as pool:
        answer = pool.apply(_count_customers)
    assert answer == "a worker process may not use the database"
    assert Customer.objects.count() == 7  # and this process's connection still works


def _count_customers() -> str:
    try:
        Customer.objects.count()
    except RuntimeError as error:
        return str(error)
    return "counted"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL keeps its indexes")
def test_a_load_larger_than_the_table_builds_its_indexes_once_at_the_end():
    company = a_company("acme")
    data = HEADER + b"".join(b"INV-%d,C001,2025-03-01,,10.00,,,EUR,,\n" % n for n in range(50))

    def indexes() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s",
                [OpenItem._meta.db_table],
            )
            return {name for (name,) in cursor.fetchall()}

    before = indexes()
    assert "item_aging_cover" in before

    def imported(data: bytes, name: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            run_import(
                company=company,
                kind="invoices",
                files=[(name, data)],
                options=Options(),
                actor=None,
                at=AT,
            )
        return [q["sql"] for q in queries.captured_queries if "INDEX" in q["sql"]]

    first = imported(data, "first.csv")
    assert 'DROP INDEX "item_aging_cover"' in first
    assert any(sql.startswith('CREATE INDEX "item_aging_cover"') for sql in first)
    assert indexes() == before
    assert OpenItem.objects.count() == 50
    second = imported(HEADER + b"INV-X,C001,2025-03-01,,10.00,,,EUR,,\n", "second.csv")
    assert second == []  # one row into fifty: kept in order as it is written
    bad = data.replace(b"INV-7,", b"INV-A,").replace(b"2025-03-01,,10.00", b"2025-03-01,,-1", 1)
    assert imported(bad.replace(b"INV-", b"NEW-"), "bad.csv") != []  # refused: rolled back
    assert indexes() == before  # rolled back with the rows
    assert OpenItem.objects.count() == 51
