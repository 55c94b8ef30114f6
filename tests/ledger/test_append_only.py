"""The database itself keeps the account history append-only (invariant 5, ledger migration 0002).

The test database carries a row in `dunwell_history_bypass` so that flushing between tests works;
production never has one. Each test here removes it inside its own transaction (rolled back at the
end) to see what production sees. On PostgreSQL a failed statement aborts the transaction, so each
attempt runs in its own savepoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from django.db import DatabaseError, connection, transaction

from dunwell.core.models import Company
from dunwell.ledger.models import Activity, ActivityKind

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


@pytest.fixture
def as_in_production() -> Iterator[None]:
    """Remove the test database's bypass for the rest of this test's transaction."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dunwell_history_bypass")
    yield
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO dunwell_history_bypass (reason) VALUES ('test database')")


@pytest.mark.usefixtures("as_in_production")
def test_history_refuses_updates_through_the_orm(company: Company) -> None:
    entry = record(company)

    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        Activity.objects.filter(pk=entry.pk).update(summary="rewritten")
    entry.summary = "rewritten"
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        entry.save(update_fields=["summary"])

    assert Activity.objects.get(pk=entry.pk).summary == "Imported invoices.csv"


@pytest.mark.usefixtures("as_in_production")
def test_history_refuses_deletes_through_the_orm(company: Company) -> None:
    entry = record(company)

    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        Activity.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        entry.delete()

    assert Activity.objects.filter(pk=entry.pk).exists()


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
    """With the bypass row (test database only) the trigger steps aside, so teardown can flush."""
    entry = record(company)

    Activity.objects.filter(pk=entry.pk).update(summary="rewritten")

    assert Activity.objects.get(pk=entry.pk).summary == "rewritten"
