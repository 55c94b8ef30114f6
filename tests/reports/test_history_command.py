"""`dunwell history` and `dunwell case correct` from the command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dunwell.ledger.models import Activity, ActivityKind, Customer, OpenItem
from dunwell.ledger.services import activity
from tests import factories as f

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def world() -> tuple[Customer, OpenItem]:
    company = f.company()
    customer = Customer.objects.create(company=company, account_number="C001",
                                       legal_name="Bauer KG", currency="EUR", country="DE")  # fmt: skip
    item = OpenItem.objects.create(company=company, customer=customer, number="INV-1",
                                   issued_on=date(2026, 1, 1), due_on=date(2026, 1, 31),
                                   currency="EUR", amount_minor=10000, open_minor=10000)  # fmt: skip
    for n, (kind, summary, on_item) in enumerate([
        (ActivityKind.CALL_LOGGED, "Called Petra", False),
        (ActivityKind.PAYMENT_RECEIVED, "Paid 50.00", True),
        (ActivityKind.NOTE_ADDED, "=cmd|' /C calc'!A0", False),
    ]):  # fmt: skip
        activity.record(company=company, kind=kind, on=(T0 + timedelta(days=n)).date(),
                        at=T0 + timedelta(days=n), customer=customer, summary=summary,
                        item=item if on_item else None, amount_minor=5000 if on_item else None,
                        currency="EUR" if on_item else "")  # fmt: skip
    return customer, item


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_history_as_json_newest_first(world) -> None:
    rows = json.loads(run("history", "--customer", "C001", "--format", "json"))

    assert [r["summary"] for r in rows] == ["=cmd|' /C calc'!A0", "Paid 50.00", "Called Petra"]
    assert rows[1]["amount"] == "50.00" and rows[1]["invoice"] == "INV-1"


def test_history_filters_by_invoice_kind_and_dates(world) -> None:
    assert [r["summary"] for r in json.loads(run("history", "--customer", "C001", "--invoice",
                                                 "INV-1", "--format", "json"))] == ["Paid 50.00"]  # fmt: skip
    assert [r["summary"] for r in json.loads(run("history", "--customer", "C001", "--kind",
                                                 "calls", "--to", "2026-03-02", "--format",
                                                 "json"))] == ["Called Petra"]  # fmt: skip


def test_history_as_csv_neutralises_formulas(world) -> None:
    rows = list(
        csv.DictReader(io.StringIO(run("history", "--customer", "C001", "--format", "csv")))
    )

    assert rows[0]["summary"] == "'=cmd|' /C calc'!A0"


def test_history_as_table_and_bad_input(world) -> None:
    assert "Called Petra" in run("history", "--customer", "C001")
    with pytest.raises(CommandError, match="--customer: no customer 'C999'"):
        run("history", "--customer", "C999")
    with pytest.raises(CommandError, match="--invoice"):
        run("history", "--customer", "C001", "--invoice", "NOPE")
    with pytest.raises(CommandError, match="--from/--to"):
        run("history", "--customer", "C001", "--from", "2026-03-05", "--to", "2026-03-01")


def test_case_correct_adds_a_linked_entry(world) -> None:
    wrong = Activity.objects.get(kind=ActivityKind.CALL_LOGGED)

    shown = json.loads(run("case", "correct", str(wrong.pk), "--text", "It was Paul",
                           "--format", "json"))  # fmt: skip

    assert shown["corrects"] == wrong.pk
    assert Activity.objects.get(pk=shown["id"]).data == {"corrects": wrong.pk,
                                                         "text": "It was Paul"}  # fmt: skip
    with pytest.raises(CommandError, match="entry_id: no history entry 999999"):
        run("case", "correct", "999999", "--text", "x")
