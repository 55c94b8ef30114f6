"""The timeline read model: keyset pages newest first, kind groups, filters, export rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from dunwell.core.models import Company
from dunwell.ledger.models import Activity, ActivityKind, Customer, OpenItem
from dunwell.ledger.services import activity
from dunwell.reports import timeline
from dunwell.reports.timeline import Filters
from tests import factories as f

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def world() -> tuple[Company, Customer, OpenItem]:
    """Made without the services, so that the history holds only what each test adds."""
    company = f.company()
    customer = Customer.objects.create(company=company, account_number="C001",
                                       legal_name="Bauer KG", currency="EUR", country="DE")  # fmt: skip
    item = OpenItem.objects.create(company=company, customer=customer, number="INV-1",
                                   issued_on=date(2026, 1, 1), due_on=date(2026, 1, 31),
                                   currency="EUR", amount_minor=10000, open_minor=10000)  # fmt: skip
    return company, customer, item


def add(company: Company, customer: Customer, kind: ActivityKind, at: datetime, summary: str,
        item: OpenItem | None = None, label: str = "system", **extra: object) -> Activity:  # fmt: skip
    return activity.record(company=company, kind=kind, on=at.date(), at=at, customer=customer,
                           item=item, summary=summary, label=label, **extra)  # type: ignore[arg-type]  # fmt: skip


def test_every_kind_is_in_exactly_one_group() -> None:
    counted = [kind for group in timeline.GROUPS.values() for kind in group.kinds]

    assert sorted(counted) == sorted(k.value for k in ActivityKind)
    assert timeline.GROUP_OF[ActivityKind.REMINDER_SENT] == "messages"
    assert timeline.GROUP_OF[ActivityKind.PLACED] == "placements"
    assert timeline.GROUP_OF[ActivityKind.PROMISE_BROKEN] == "promises"


def test_pages_skip_and_repeat_nothing_when_many_share_one_instant(world) -> None:
    company, customer, _ = world
    # 23 entries: groups of five recorded at the very same instant
    made = [add(company, customer, ActivityKind.NOTE_ADDED, T0 + timedelta(minutes=n // 5),
                f"note {n}") for n in range(23)]  # fmt: skip
    newest_first = [e.pk for e in sorted(made, key=lambda e: (e.recorded_at, e.pk), reverse=True)]

    seen: list[int] = []
    pages = []
    after = None
    while True:
        shown = timeline.page(company, customer=customer, after=after, size=5)
        pages.append(shown)
        seen += [r.id for r in shown.rows]
        if shown.next_cursor is None:
            break
        after = shown.next_cursor

    assert seen == newest_first
    assert [len(p.rows) for p in pages] == [5, 5, 5, 5, 3]
    assert pages[0].previous_cursor is None and pages[1].previous_cursor is not None
    # and back: the page before the last is the fourth page again
    back = timeline.page(company, customer=customer, before=pages[-1].previous_cursor, size=5)
    assert [r.id for r in back.rows] == [r.id for r in pages[3].rows]
    first = timeline.page(company, customer=customer, before=pages[1].previous_cursor, size=5)
    assert [r.id for r in first.rows] == [r.id for r in pages[0].rows]
    assert first.previous_cursor is None


def test_a_cursor_not_made_here_is_refused(world) -> None:
    company, customer, _ = world

    with pytest.raises(timeline.BadCursorError):
        timeline.page(company, customer=customer, after="not-a-cursor!")


def test_filters_by_group_dates_actor_and_text(world) -> None:
    company, customer, item = world
    add(company, customer, ActivityKind.CALL_LOGGED, T0, "Called Petra, promised Friday",
        label="colly")  # fmt: skip
    add(company, customer, ActivityKind.PAYMENT_RECEIVED, T0 + timedelta(days=3), "Paid 100",
        item=item)  # fmt: skip
    add(company, customer, ActivityKind.FEE_CHARGED, T0 + timedelta(days=5), "Reminder fee")
    add(company, customer, ActivityKind.PROMISE_MADE, T0 + timedelta(days=6), "Promise EUR 50",
        label="colly")  # fmt: skip

    def shown(**given: object) -> list[str]:
        rows = timeline.page(company, customer=customer, filters=Filters(**given)).rows  # type: ignore[arg-type]
        return [r.entry.summary for r in rows]

    assert shown(groups=("calls", "promises")) == [
        "Promise EUR 50",
        "Called Petra, promised Friday",
    ]
    assert shown(groups=("fees",)) == ["Reminder fee"]
    assert shown(on_from=date(2026, 3, 5), on_to=date(2026, 3, 7)) == ["Reminder fee", "Paid 100"]
    assert shown(actor="COLLY") == ["Promise EUR 50", "Called Petra, promised Friday"]
    assert shown(text="promise") == ["Promise EUR 50", "Called Petra, promised Friday"]
    assert [r.entry.summary for r in timeline.page(company, item=item).rows] == ["Paid 100"]
    with pytest.raises(ValueError, match="unknown group"):
        Filters(groups=("gossip",))


def test_a_correction_is_linked_both_ways(world) -> None:
    company, customer, _ = world
    wrong = add(company, customer, ActivityKind.CALL_LOGGED, T0, "Promised EUR 500")
    fixed = activity.record_correction(entry=wrong, text="EUR 50", actor=None,
                                       at=T0 + timedelta(hours=1))  # fmt: skip

    rows = {r.id: r for r in timeline.page(company, customer=customer).rows}

    assert rows[fixed.pk].corrects == wrong.pk
    assert rows[wrong.pk].corrected_by == [fixed.pk]
    assert rows[fixed.pk].group == "corrections"


def test_a_reminder_shows_the_text_as_sent(world) -> None:
    company, customer, _ = world
    add(company, customer, ActivityKind.REMINDER_SENT, T0, "First reminder (email to ap@x)",
        data={"message": 42, "subject": "First reminder", "body": "Dear Sir,\nINV-1 is due."})  # fmt: skip

    row = timeline.page(company, customer=customer).rows[0]

    assert (row.message_id, row.subject, row.body) == (42, "First reminder",
                                                       "Dear Sir,\nINV-1 is due.")  # fmt: skip


def test_export_rows_carry_everything_in_chunks(world) -> None:
    company, customer, item = world
    for n in range(7):
        add(company, customer, ActivityKind.NOTE_ADDED, T0 + timedelta(minutes=n), f"n{n}",
            item=item if n == 0 else None, amount_minor=1234 if n == 0 else None,
            currency="EUR" if n == 0 else "")  # fmt: skip

    rows = list(timeline.export_rows(company, customer=customer, chunk=3))

    assert [r["summary"] for r in rows] == [f"n{n}" for n in reversed(range(7))]
    last = rows[-1]
    assert (last["invoice"], last["amount"], last["currency"], last["customer"]) == (
        "INV-1",
        "12.34",
        "EUR",
        "C001",
    )
    assert last["kind"] == "Note" and last["group"] == "calls"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_the_text_filter_walks_the_timeline_index_newest_first_on_postgresql(world) -> None:
    """Without statistics on UPPER(summary) the planner reads every entry of the customer and
    sorts them; with them (ledger 0012) it stops at the page's last match."""
    from dunwell.core.bulk import insert_rows

    company, customer, _ = world
    other = Customer.objects.create(company=company, account_number="C002", legal_name="Other",
                                    currency="EUR", country="DE")  # fmt: skip
    columns = ("company_id", "customer_id", "kind", "on", "recorded_at", "actor_label", "summary",
               "currency", "data")  # fmt: skip
    rows = ((company.pk, customer.pk if n % 5 == 0 else other.pk, 732, T0.date(),
             T0 + timedelta(seconds=n), "colly", f"Note {n}" + (" reminder" if n % 7 == 0 else ""),
             "", {}) for n in range(30_000))  # fmt: skip
    insert_rows(Activity, columns, rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_activity")
    found = timeline.entries(company, customer=customer, filters=Filters(text="reminder"))
    sql, params = found.order_by("-recorded_at", "-id")[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan Backward" in plan and "Bitmap" not in plan, plan
    page = timeline.page(company, customer=customer, filters=Filters(text="reminder"))
    assert [r.entry.summary for r in page.rows[:2]] == [
        "Note 29995 reminder",
        "Note 29960 reminder",
    ]
