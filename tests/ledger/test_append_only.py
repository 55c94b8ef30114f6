"""The account history is append-only (invariant 5), twice: the ORM refuses before any SQL is
sent (`Activity`'s manager and methods), and the database refuses what goes around the ORM
(the triggers of ledger migration 0002). The admin's refusals are in tests/web/test_admin.py; the
HTTP API (issue 6) does not exist yet.

The test database carries a row in `dunwell_history_bypass` so that flushing between tests works;
production never has one. Each test here removes it inside its own transaction (rolled back at the
end) to see what production sees. On PostgreSQL a failed statement aborts the transaction, so each
attempt runs in its own savepoint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from dunwell.core.errors import DunwellError
from dunwell.core.models import Company
from dunwell.ledger.models import Activity, ActivityKind, Customer
from dunwell.ledger.models.activity import RULE, AppendOnlyError
from dunwell.ledger.services import activity

pytestmark = pytest.mark.django_db

REFUSED = "append-only"


@pytest.fixture
def company() -> Company:
    return Company.objects.create(
        code="acme", legal_name="Acme GmbH", country="DE", base_currency="EUR"
    )


def record(company: Company, summary: str = "Imported invoices.csv") -> Activity:
    return Activity.objects.create(
        company=company,
        kind=ActivityKind.IMPORTED,
        on=date(2026, 1, 5),
        recorded_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        summary=summary,
    )


def test_the_orm_refuses_to_save_a_stored_entry_again(company: Company) -> None:
    entry = record(company)

    entry.summary = "rewritten"
    for attempt in (
        entry.save,
        lambda: entry.save(update_fields=["summary"]),
        lambda: entry.save(force_update=True),
    ):
        with pytest.raises(AppendOnlyError, match=RULE):
            attempt()

    assert Activity.objects.get(pk=entry.pk).summary == "Imported invoices.csv"


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(lambda e: Activity.objects.filter(pk=e.pk).update(summary="x"), id="update"),
        pytest.param(lambda e: Activity.objects.all().update(summary="x"), id="update-all"),
        pytest.param(lambda e: Activity.objects.filter(pk=e.pk).delete(), id="queryset-delete"),
        pytest.param(lambda e: e.delete(), id="instance-delete"),
        pytest.param(lambda e: Activity.objects.bulk_update([e], ["summary"]), id="bulk_update"),
        pytest.param(
            lambda e: Activity.objects.update_or_create(pk=e.pk, defaults={"summary": "x"}),
            id="update_or_create",
        ),
        pytest.param(
            lambda e: (
                e.company.pk and Activity.objects.filter(company=e.company).update(summary="x")
            ),
            id="scoped-update",
        ),
    ],
)
def test_the_orm_refuses_updates_and_deletes_before_any_sql(
    company: Company, attempt: Callable[[Activity], object]
) -> None:
    """Refused in code, even where the test database's bypass would let the trigger through."""
    entry = record(company)

    with CaptureQueriesContext(connection) as queries, pytest.raises(AppendOnlyError) as error:
        attempt(entry)

    assert str(error.value).startswith("the history is append-only: add a correcting entry")
    assert not [q for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert Activity.objects.get(pk=entry.pk).summary == "Imported invoices.csv"


def test_the_orm_refuses_changes_through_a_customers_related_manager(company: Company) -> None:
    customer = Customer.objects.create(
        company=company, account_number="C1", legal_name="Buyer", currency="EUR", country="DE"
    )
    Activity.objects.create(company=company, customer=customer, kind=ActivityKind.NOTE_ADDED,
                            on=date(2026, 1, 5), recorded_at=datetime(2026, 1, 5, tzinfo=UTC),
                            summary="Called")  # fmt: skip

    with pytest.raises(AppendOnlyError):
        customer.activities.update(summary="x")
    with pytest.raises(AppendOnlyError):
        customer.activities.all().delete()


def test_the_orm_still_inserts_one_by_one_in_bulk_and_through_record_many(
    company: Company,
) -> None:
    first = record(company)
    Activity.objects.bulk_create([Activity(company=company, kind=ActivityKind.IMPORTED,
                                           on=date(2026, 1, 6), summary="bulk",
                                           recorded_at=datetime(2026, 1, 6, tzinfo=UTC))])  # fmt: skip
    at = datetime(2026, 1, 7, tzinfo=UTC)
    activity.record_many(
        [
            activity.entry(
                company=company, kind=ActivityKind.IMPORTED, on=at.date(), at=at, summary="many"
            )
        ]
    )

    assert list(Activity.objects.order_by("pk").values_list("summary", flat=True)) == [
        first.summary,
        "bulk",
        "many",
    ]


@pytest.mark.usefixtures("as_in_production")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_activity SET summary = 'rewritten' WHERE id = %s",
        "DELETE FROM ledger_activity WHERE id = %s",
    ],
)
def test_history_refuses_raw_sql(company: Company, statement: str) -> None:
    entry = record(company)

    with (
        pytest.raises(DatabaseError, match=REFUSED),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [entry.pk])

    assert Activity.objects.get(pk=entry.pk).summary == "Imported invoices.csv"


@pytest.mark.usefixtures("as_in_production")
def test_history_refuses_truncate_on_postgresql(company: Company) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; DELETE is refused above")
    entry = record(company)
    with connection.cursor() as cursor:
        # the insert's deferred foreign-key checks must run first, or TRUNCATE refuses for that
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with (
        pytest.raises(DatabaseError, match=REFUSED),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE ledger_activity")

    assert Activity.objects.filter(pk=entry.pk).exists()


@pytest.mark.usefixtures("as_in_production")
def test_history_still_accepts_new_entries(company: Company) -> None:
    first = record(company)
    correction = record(company, summary="Correction: the import was a duplicate")

    assert list(Activity.objects.values_list("pk", flat=True)) == [first.pk, correction.pk]


def test_only_the_test_database_bypass_allows_changes(company: Company) -> None:
    """With the bypass row (test database only) the trigger steps aside, so teardown can flush;
    the ORM refuses regardless, so this goes around it with SQL."""
    entry = record(company)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_activity SET summary = 'rewritten' WHERE id = %s", [entry.pk])

    assert Activity.objects.get(pk=entry.pk).summary == "rewritten"


@pytest.mark.usefixtures("as_in_production")
def test_production_refuses_what_the_bypass_allows(company: Company) -> None:
    entry = record(company)

    with (
        pytest.raises(DatabaseError, match=REFUSED),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE ledger_activity SET summary = 'rewritten' WHERE id = %s", [entry.pk])

    assert Activity.objects.get(pk=entry.pk).summary == "Imported invoices.csv"


def test_a_correction_is_a_new_entry_on_the_same_customer_and_item(company: Company) -> None:
    customer = Customer.objects.create(
        company=company, account_number="C1", legal_name="Buyer", currency="EUR", country="DE"
    )
    wrong = Activity.objects.create(company=company, customer=customer, kind=ActivityKind.CALL_LOGGED,
                                    on=date(2026, 1, 5), summary="Promised EUR 500 by Friday",
                                    recorded_at=datetime(2026, 1, 5, 9, tzinfo=UTC))  # fmt: skip

    fixed = activity.record_correction(entry=wrong, text="It was EUR 50, not 500", actor=None,
                                       at=datetime(2026, 1, 6, 8, tzinfo=UTC))  # fmt: skip

    assert (fixed.kind, fixed.customer_id, fixed.item_id) == (
        ActivityKind.CORRECTION,
        customer.pk,
        None,
    )
    assert fixed.data == {"corrects": wrong.pk, "text": "It was EUR 50, not 500"}
    assert fixed.summary == f"Correction of entry {wrong.pk} (Call): It was EUR 50, not 500"
    assert fixed.on == date(2026, 1, 5)
    assert Activity.objects.get(pk=wrong.pk).summary == "Promised EUR 500 by Friday"


def test_a_correction_needs_a_text(company: Company) -> None:
    wrong = record(company)

    with pytest.raises(DunwellError, match="text"):
        activity.record_correction(entry=wrong, text="  ", actor=None,
                                   at=datetime(2026, 1, 6, tzinfo=UTC))  # fmt: skip
