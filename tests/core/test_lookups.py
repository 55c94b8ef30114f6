"""`field__in=[…]`: the same rows on both databases; on PostgreSQL one array parameter."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from tests import factories

from dunwell.core.lookups import ids_in
from dunwell.ledger.models import Customer, OpenItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger() -> dict[str, OpenItem]:
    company = factories.company()
    bauer = factories.customer(company, "C001", "Bauer KG")
    weber = factories.customer(company, "C002", "Weber AG")
    return {
        "A-1": factories.invoice(company, bauer, "A-1", 100_00, date(2026, 1, 5)),
        "A-2": factories.invoice(company, bauer, "A-2", 200_00, date(2026, 2, 5)),
        "B-1": factories.invoice(company, weber, "B-1", 300_00, date(2026, 3, 5)),
    }


def numbers(rows: object) -> list[str]:
    return sorted(i.number for i in rows)  # type: ignore[attr-defined]


def test_plain_values_find_the_same_rows_and_are_one_parameter_on_postgresql(
    ledger: dict[str, OpenItem],
) -> None:
    a1, a2, b1 = ledger["A-1"], ledger["A-2"], ledger["B-1"]
    with CaptureQueriesContext(connection) as seen:
        assert numbers(OpenItem.objects.filter(pk__in=[a1.pk, b1.pk, None, a1.pk])) == [
            "A-1",
            "B-1",
        ]
        assert numbers(OpenItem.objects.filter(number__in=("A-2", "B-1", "X"))) == ["A-2", "B-1"]
        assert numbers(OpenItem.objects.filter(customer__in=[a1.customer])) == ["A-1", "A-2"]
        assert numbers(OpenItem.objects.filter(customer_id__in={b1.customer_id})) == ["B-1"]
        assert numbers(OpenItem.objects.filter(issued_on__in=[date(2026, 2, 5)])) == ["A-2"]
        assert numbers(OpenItem.objects.exclude(pk__in=[a2.pk])) == ["A-1", "B-1"]
        assert OpenItem.objects.in_bulk([a2.pk]) == {a2.pk: a2}
    if connection.vendor == "postgresql":
        for query in seen.captured_queries:
            assert " IN (" not in query["sql"], query["sql"]
            assert "= ANY(" in query["sql"], query["sql"]


def test_no_value_but_none_matches_nothing(ledger: dict[str, OpenItem]) -> None:
    assert list(OpenItem.objects.filter(pk__in=[None])) == []
    assert list(OpenItem.objects.filter(pk__in=[])) == []


def test_subqueries_and_expressions_compile_as_django_compiles_them(
    ledger: dict[str, OpenItem],
) -> None:
    bauer = Customer.objects.filter(legal_name="Bauer KG").values("pk")
    assert numbers(OpenItem.objects.filter(customer__in=bauer)) == ["A-1", "A-2"]
    both = OpenItem.objects.filter(amount_minor__in=[F("open_minor"), 1])
    assert numbers(both) == ["A-1", "A-2", "B-1"]


def test_raw_sql_condition(ledger: dict[str, OpenItem]) -> None:
    wanted = [ledger["A-1"].pk, ledger["B-1"].pk]
    where, params = ids_in(connection.vendor, "id", wanted)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT number FROM ledger_openitem WHERE {where} ORDER BY number", params)  # noqa: S608
        assert [row[0] for row in cursor.fetchall()] == ["A-1", "B-1"]
