"""The statement's arithmetic: running balances, aging and totals per currency (no database)."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dunwell.ledger.rules.statement import PAYMENT, Entry, sections

AS_OF = date(2026, 3, 31)


def item(number, due_on, original, open_minor, currency="EUR", kind="invoice", **extra):
    return Entry(kind, number, currency, due_on - timedelta(days=30), due_on, original,
                 open_minor, **extra)  # fmt: skip


def cash(number, on, amount, unapplied, currency="EUR"):
    return Entry(PAYMENT, number, currency, on, None, -amount, -unapplied)


def test_the_worked_example_of_the_module_docstring():
    entries = [
        cash("P-2", date(2026, 3, 20), 50_00, 50_00),
        item("C", date(2026, 4, 15), 250_00, 250_00),
        item("B", date(2026, 3, 10), -150_00, -150_00, kind="credit_note"),
        item("A", date(2026, 1, 31), 1000_00, 600_00),
    ]
    [eur] = sections(entries, AS_OF)
    assert [(line.entry.number, line.days_overdue, line.balance_minor) for line in eur.lines] == [
        ("A", 59, 600_00),
        ("B", 0, 450_00),  # a credit note is never overdue
        ("C", 0, 700_00),
        ("P-2", 0, 650_00),
    ]
    assert eur.aging == (250_00, -150_00, 600_00, 0, 0, 0)
    assert (eur.items_minor, eur.unapplied_minor, eur.balance_minor) == (700_00, 50_00, 650_00)
    assert eur.overdue_minor == 450_00


def test_items_with_the_same_due_date_come_by_number_then_instalment():
    due = date(2026, 3, 1)
    entries = [
        item("B", due, 1, 1),
        item("A", due, 2, 2, instalment=2),
        item("A", due, 3, 3, instalment=1),
    ]
    [eur] = sections(entries, AS_OF)
    assert [(e.entry.number, e.entry.instalment) for e in eur.lines] == [
        ("A", 1),
        ("A", 2),
        ("B", None),
    ]


def test_settled_and_later_entries_are_left_out():
    entries = [
        item("PAID", date(2026, 1, 31), 100_00, 0),
        cash("LATER", AS_OF + timedelta(days=1), 10_00, 10_00),
    ]
    assert sections(entries, AS_OF) == ()


def test_currencies_get_their_own_sections_with_the_lead_currency_first():
    entries = [item("E", date(2026, 3, 1), 100_00, 100_00), item("U", date(2026, 3, 1), 7_00, 7_00, "USD"),
               item("C", date(2026, 3, 1), 3_00, 3_00, "CHF")]  # fmt: skip
    result = sections(entries, AS_OF, lead_currency="USD")
    assert [(s.currency, s.balance_minor) for s in result] == [
        ("USD", 7_00),
        ("CHF", 3_00),
        ("EUR", 100_00),
    ]


def test_buckets_follow_the_aging_report_bounds():
    due = [AS_OF, AS_OF - timedelta(days=1), AS_OF - timedelta(days=30), AS_OF - timedelta(days=31),
           AS_OF - timedelta(days=90), AS_OF - timedelta(days=120), AS_OF - timedelta(days=121)]  # fmt: skip
    entries = [item(str(n), on, 10**n, 10**n) for n, on in enumerate(due)]
    [eur] = sections(entries, AS_OF)
    assert eur.aging == (1, 110, 1000, 10000, 100000, 1000000)
    [custom] = sections(entries, AS_OF, bounds=(60,))
    assert custom.aging == (1, 1110, 1110000)


entries = st.lists(
    st.one_of(
        st.builds(
            item,
            number=st.text("ABC", min_size=1, max_size=3),
            due_on=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
            original=st.integers(-(10**9), 10**9),
            open_minor=st.integers(-(10**9), 10**9),
            currency=st.sampled_from(["EUR", "USD", "JPY"]),
        ),
        st.builds(
            cash,
            number=st.text("P", min_size=1, max_size=2),
            on=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
            amount=st.integers(1, 10**9),
            unapplied=st.integers(1, 10**9),
            currency=st.sampled_from(["EUR", "USD", "JPY"]),
        ),
    ),
    max_size=30,
)


@given(entries)
def test_the_last_running_balance_is_the_sections_balance(generated):
    for section in sections(generated, AS_OF):
        expected = sum(
            e.open_minor
            for e in generated
            if e.currency == section.currency and e.issued_on <= AS_OF
        )
        assert section.lines[-1].balance_minor == section.balance_minor == expected
        assert section.items_minor == sum(
            line.entry.open_minor for line in section.lines if not line.entry.is_cash
        )
        assert all(line.entry.currency == section.currency for line in section.lines)
