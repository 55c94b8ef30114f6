"""The bulk writer stores exactly what the ORM stores, on SQLite and PostgreSQL."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from tests import factories as f
from tests.factories import AT

from dunwell.core.bulk import BackgroundInserter, analyze, insert_rows
from dunwell.ledger.models import Activity, ActivityKind, OpenItem
from dunwell.ledger.services import activity
from dunwell.ledger.services.documents import ITEM_COLUMNS, ItemInput, item_row
from dunwell.terms.services import Scheduler, create_term

pytestmark = pytest.mark.django_db

COMPARED = [
    c for c in ITEM_COLUMNS if c not in ("number", "number_key", "payment_reference", "source")
]


def test_an_item_written_in_bulk_reads_back_as_the_orm_writes_it():
    company = f.company()
    customer = f.customer(company)
    term = create_term(company=company, code="2-10-net30", name="2/10 net 30", days=30,
                       discount_percent="2", discount_days=10)  # fmt: skip
    spec = ItemInput(customer=customer, number="A-1", issued_on=date(2025, 1, 31),
                     currency="EUR", gross_minor=119_00, net_minor=100_00, tax_minor=19_00,
                     po_number="PO 7", payment_term=term)  # fmt: skip
    by_orm = f.invoice(company, customer, "A-1", 119_00, date(2025, 1, 31),
                       net_minor=100_00, tax_minor=19_00, po_number="PO 7", payment_term=term)  # fmt: skip
    row, _ = item_row(company, spec._replace(number="A-2"), created_by_id=None, at=AT,
                      scheduler=Scheduler(company))  # fmt: skip
    assert insert_rows(OpenItem, ITEM_COLUMNS, [row]) == 1
    in_bulk = OpenItem.objects.get(number="A-2")
    assert in_bulk.discount_until == date(2025, 2, 10) and in_bulk.discount_minor == 2_38
    assert in_bulk.due_on == date(2025, 3, 2) and in_bulk.has_instalments is False
    assert in_bulk.created_at == AT
    assert in_bulk.payment_reference == "RF63A2"  # stdnum agrees: iso11649.is_valid
    assert (in_bulk.number_key, by_orm.number_key) == ("2", "1")  # the numbers' cores
    for column in COMPARED:
        if column not in ("created_at", "updated_at"):
            assert getattr(in_bulk, column) == getattr(by_orm, column), column


def test_history_entries_written_together_keep_their_json_and_times():
    company = f.company()
    customer = f.customer(company)
    entries = [
        activity.entry(
            company=company,
            kind=ActivityKind.IMPORTED,
            on=AT.date(),
            at=AT + timedelta(seconds=n),
            customer=customer,
            summary=f"entry {n}",
            data={"n": n, "numbers": ["INV-1", "Ünïcode"], "nested": {"ok": True}},
        )
        for n in range(3)
    ]
    activity.record_many(entries)
    stored = list(
        Activity.objects.filter(customer=customer, kind=ActivityKind.IMPORTED).order_by(
            "recorded_at"
        )
    )
    assert [a.data["n"] for a in stored] == [0, 1, 2]
    assert stored[1].data == {"n": 1, "numbers": ["INV-1", "Ünïcode"], "nested": {"ok": True}}
    assert stored[2].recorded_at == AT + timedelta(seconds=2)
    with pytest.raises(ValueError, match="without keys"):
        activity.record_many([activity.entry(company=company, kind=ActivityKind.IMPORTED,
                                             on=AT.date(), at=AT, summary="x", key="k")])  # fmt: skip


def test_an_error_on_the_writer_thread_reaches_the_caller_and_nothing_is_kept():
    company = f.company()
    customer = f.customer(company)
    scheduler = Scheduler(company)

    def row(number: str) -> tuple:
        spec = ItemInput(customer=customer, number=number, issued_on=date(2025, 1, 1),
                         currency="EUR", gross_minor=10_00)  # fmt: skip
        return item_row(company, spec, created_by_id=None, at=AT, scheduler=scheduler)[0]

    def write_twice() -> None:
        with transaction.atomic():
            writer = BackgroundInserter(OpenItem, ITEM_COLUMNS)
            writer.put([row("B-1"), row("B-2")])
            writer.put([row("B-2")])  # the same number again: refused by the unique constraint
            writer.close()

    with pytest.raises(IntegrityError):
        write_twice()
    assert not OpenItem.objects.filter(company=company).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_analyze_gives_the_planner_the_size_of_a_table_just_loaded():
    company = f.company()
    customer = f.customer(company)
    columns = ("company_id", "customer_id", "kind", "on", "recorded_at", "actor_label", "summary",
               "currency", "data")  # fmt: skip
    insert_rows(Activity, columns, ((company.pk, customer.pk, ActivityKind.NOTE_ADDED,
                                     AT.date(), AT, "system", f"n{n}", "", {}) for n in range(5000)))  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'ledger_activity'")
        before = cursor.fetchone()[0]
        analyze(Activity)
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'ledger_activity'")
        after = cursor.fetchone()[0]
    # reltuples is kept outside transactions: an earlier test's rolled-back load may show in
    # `before`; after ANALYZE it is this table's size as this transaction sees it
    assert after == Activity.objects.count() >= 5000 and before != after
