"""The SQL aging agrees with the pure oracle (ledger.rules.aging) on generated ledgers."""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dunwell.ledger.models import Allocation, OpenItem
from dunwell.ledger.rules.aging import AgingItem, age
from dunwell.ledger.services.allocations import allocate_payment, void_payment
from dunwell.reports.aging import aging
from tests import factories as f
from tests.factories import AT

pytestmark = pytest.mark.django_db

START = date(2025, 1, 1)


def oracle(company, as_of, bounds):
    items = []
    for item in OpenItem.objects.filter(company=company).exclude(has_instalments=True):
        allocations = tuple(
            Allocation.objects.filter(target=item).values_list("effective_on", "amount_minor")
        )
        items.append(AgingItem(item.customer_id, item.currency, item.due_on, item.issued_on,
                               item.amount_minor, allocations))  # fmt: skip
    return age(items, as_of, bounds)


def test_aging_buckets_an_example_ledger_as_of_past_dates():
    company = f.company()
    bauer = f.customer(company)
    item = f.invoice(company, bauer, "INV-1", 1000_00, date(2025, 3, 1), date(2025, 3, 31))
    p1 = f.payment(company, bauer, "P1", 400_00, date(2025, 4, 10))
    p2 = f.payment(company, bauer, "P2", 700_00, date(2025, 5, 20))
    allocate_payment(company=company, payment=p1, item=item, amount_minor=400_00, actor=None, at=AT)
    allocate_payment(company=company, payment=p2, item=item, amount_minor=600_00, actor=None, at=AT)
    april = aging(company, date(2025, 4, 30))
    [row] = april.rows
    assert (row.buckets, row.unapplied_minor) == ([0, 600_00, 0, 0, 0, 0], 0)
    may = aging(company, date(2025, 5, 31))
    [row] = may.rows
    assert (row.buckets, row.unapplied_minor, row.balance_minor) == ([0] * 6, 100_00, -100_00)
    assert aging(company, date(2025, 2, 1)).rows == []
    void_payment(
        company=company, payment=p2, on=date(2025, 6, 3), reason="returned", actor=None, at=AT
    )
    [row] = aging(company, date(2025, 6, 30)).rows
    assert (row.buckets, row.unapplied_minor) == ([0, 0, 0, 0, 600_00, 0], 0)  # 91 days past due
    # The report as of May is unchanged by the later reversal.
    [row] = aging(company, date(2025, 5, 31)).rows
    assert (row.buckets, row.unapplied_minor) == ([0] * 6, 100_00)


def test_currencies_are_never_summed():
    company = f.company()
    bauer = f.customer(company)
    f.invoice(company, bauer, "INV-1", 100_00, date(2025, 3, 1), date(2025, 3, 31))
    f.invoice(company, bauer, "INV-2", 50_00, date(2025, 3, 1), date(2025, 3, 31), currency="USD")
    report = aging(company, date(2025, 4, 15))
    assert {r.currency: r.buckets[1] for r in report.rows} == {"EUR": 100_00, "USD": 50_00}
    assert {c: t.total_minor for c, t in report.totals.items()} == {"EUR": 100_00, "USD": 50_00}


ledgers = st.lists(
    st.tuples(
        st.integers(0, 2),  # customer
        st.integers(0, 300),  # issue day
        st.integers(0, 90),  # days to due
        st.integers(1, 500_00),  # amount
        st.lists(st.tuples(st.integers(0, 400), st.integers(1, 100)), max_size=3),  # payments
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    ledger=ledgers,
    as_of_day=st.integers(0, 420),
    bounds=st.sampled_from([(30, 60, 90, 120), (15, 45), (7,)]),
)
def test_sql_aging_agrees_with_the_oracle(django_db_blocker, ledger, as_of_day, bounds):
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        company = f.company(code="gen")
        customers = [f.customer(company, f"C{i}", f"Customer {i}") for i in range(3)]
        for n, (who, issue, to_due, amount, pays) in enumerate(ledger):
            issued = START + timedelta(days=issue)
            item = f.invoice(
                company, customers[who], f"I{n}", amount, issued, issued + timedelta(days=to_due)
            )
            for k, (day, percent) in enumerate(pays):
                item.refresh_from_db()
                share = min(item.open_minor, max(1, amount * percent // 100))
                if share <= 0:
                    break
                value_on = issued + timedelta(days=day)
                pay = f.payment(company, customers[who], f"P{n}-{k}", share, value_on)
                allocate_payment(
                    company=company, payment=pay, item=item, amount_minor=share, actor=None, at=AT
                )
        as_of = START + timedelta(days=as_of_day)
        expected = oracle(company, as_of, bounds)
        report = aging(company, as_of, bounds, with_names=False)
        got = {(r.customer_id, r.currency): tuple(r.buckets) for r in report.rows if any(r.buckets)}
        assert got == {k: v for k, v in expected.by_customer.items() if any(v)}
        transaction.set_rollback(True)


def _paid_ledger():
    """Three invoices settled on different days, one paid in part, one open."""
    company = f.company()
    bauer = f.customer(company)
    for n, (issued, paid_on, paid) in enumerate(
        [
            (date(2025, 1, 10), date(2025, 3, 5), 300_00),
            (date(2025, 2, 1), date(2025, 4, 20), 120_00),  # part of 300.00
            (date(2025, 3, 1), date(2025, 6, 30), 300_00),
            (date(2025, 4, 1), None, 0),
        ]
    ):
        item = f.invoice(company, bauer, f"INV-{n}", 300_00, issued, issued + timedelta(days=30))
        if paid_on:
            pay = f.payment(company, bauer, f"P{n}", paid, paid_on)
            allocate_payment(
                company=company, payment=pay, item=item, amount_minor=paid, actor=None, at=AT
            )
    return company


DATES = [date(2025, 1, 5) + timedelta(days=d) for d in range(0, 220, 9)]


def test_items_settled_after_the_date_are_found_by_day_seeks_or_by_one_range(monkeypatch):
    company = _paid_ledger()
    by_day = [aging(company, d, with_names=False).rows for d in DATES]
    monkeypatch.setattr("dunwell.reports.aging.MAX_SEEK_DAYS", 0)
    assert [aging(company, d, with_names=False).rows for d in DATES] == by_day
    # INV-1 (180.00 open) and INV-2 are 59 and 31 days past due; INV-3 is due that day.
    assert [r.buckets for r in aging(company, date(2025, 5, 1)).rows] == [
        [300_00, 0, 480_00, 0, 0, 0]
    ]


def test_a_settlement_dated_after_the_latest_one_read_still_counts(monkeypatch):
    company = _paid_ledger()
    expected = [aging(company, d, with_names=False).rows for d in DATES]
    # As if every settlement were written between reading the latest date and the scans.
    monkeypatch.setattr(
        "dunwell.reports.aging.LATEST_SETTLEMENT",
        "SELECT NULL FROM ledger_openitem WHERE company_id IN (%s, %s, %s) AND 1 = 0",
    )
    assert [aging(company, d, with_names=False).rows for d in DATES] == expected
