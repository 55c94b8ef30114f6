from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.ledger.rules.aging import AgingItem, Bucket, age, bucket_index, buckets
from dunwell.ledger.rules.open_items import open_amount_as_of

INVOICE = AgingItem(
    customer_id=7,
    currency="EUR",
    due_on=date(2025, 3, 31),
    issued_on=date(2025, 3, 1),
    amount_minor=100_000,
    allocations=((date(2025, 4, 10), 40_000), (date(2025, 5, 20), 60_000)),
)
NOT_YET_DUE = AgingItem(7, "EUR", date(2025, 5, 15), date(2025, 4, 15), 25_000)


def test_default_bounds_give_six_labelled_buckets():
    assert [b.label for b in buckets()] == ["Current", "1-30", "31-60", "61-90", "91-120", ">120"]
    assert buckets((30, 60))[0] == Bucket("Current", None, 0)
    assert buckets((30, 60))[-1] == Bucket(">60", 61, None)


@pytest.mark.parametrize(
    ("days", "expected"),
    [(-10, 0), (0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (90, 3), (120, 4), (121, 5), (999, 5)],
)
def test_bucket_index_puts_bounds_in_the_lower_bucket_when_days_are_on_a_bound(days, expected):
    assert bucket_index(days, (30, 60, 90, 120)) == expected


@pytest.mark.parametrize("bounds", [(), (0, 30), (30, 30), (60, 30), (-5,), (True, 30)])
def test_bounds_are_refused_and_named_when_not_strictly_increasing_positive(bounds):
    with pytest.raises(ValueError, match="aging bounds") as raised:
        buckets(bounds)
    assert repr(tuple(bounds)) in str(raised.value)


def test_partly_paid_invoice_sits_in_1_30_when_aged_30_days_after_due():
    report = age([INVOICE, NOT_YET_DUE], date(2025, 4, 30))
    assert report.by_customer == {(7, "EUR"): (25_000, 60_000, 0, 0, 0, 0)}
    assert report.by_currency == {"EUR": (25_000, 60_000, 0, 0, 0, 0)}
    assert report.buckets == buckets()


def test_settled_invoice_contributes_nothing_when_aged_on_the_last_payment_day():
    assert age([INVOICE], date(2025, 5, 20)).by_customer == {}


def test_reopened_invoice_is_aged_again_when_a_payment_is_reversed():
    reopened = AgingItem(
        7, "EUR", INVOICE.due_on, INVOICE.issued_on, 100_000,
        (*INVOICE.allocations, (date(2025, 6, 1), -60_000)),
    )  # fmt: skip
    report = age([reopened], date(2025, 6, 1))  # 62 days past due
    assert report.by_currency == {"EUR": (0, 0, 0, 60_000, 0, 0)}


def test_item_issued_after_the_date_is_left_out_when_aging():
    later = AgingItem(7, "EUR", date(2025, 6, 30), date(2025, 5, 1), 5_000)
    assert age([later], date(2025, 4, 30)).by_customer == {}


def test_currencies_are_never_summed_when_a_customer_owes_in_two():
    items = [
        AgingItem(1, "EUR", date(2025, 1, 31), date(2025, 1, 1), 10_000),
        AgingItem(1, "USD", date(2025, 1, 31), date(2025, 1, 1), 20_000),
        AgingItem(2, "EUR", date(2025, 6, 30), date(2025, 6, 1), 5_000),
        AgingItem(2, "EUR", date(2025, 6, 30), date(2025, 6, 1), -1_000),  # credit note
    ]
    report = age(items, date(2025, 6, 1), (30, 60, 90, 120))
    assert report.by_customer == {
        (1, "EUR"): (0, 0, 0, 0, 0, 10_000),
        (1, "USD"): (0, 0, 0, 0, 0, 20_000),
        (2, "EUR"): (4_000, 0, 0, 0, 0, 0),
    }
    assert report.by_currency == {
        "EUR": (4_000, 0, 0, 0, 0, 10_000),
        "USD": (0, 0, 0, 0, 0, 20_000),
    }


# -- properties -----------------------------------------------------------------------------------

a_day = st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 12, 31))
aging_items = st.builds(
    AgingItem,
    customer_id=st.integers(min_value=1, max_value=5),
    currency=st.sampled_from(["EUR", "USD", "JPY"]),
    due_on=a_day,
    issued_on=a_day,
    amount_minor=st.integers(min_value=-50_000, max_value=500_000),
    allocations=st.lists(
        st.tuples(a_day, st.integers(min_value=-100_000, max_value=100_000)), max_size=4
    ).map(tuple),
)
bounds_strategy = st.lists(
    st.integers(min_value=1, max_value=400), min_size=1, max_size=6, unique=True
).map(lambda bs: tuple(sorted(bs)))


@given(items=st.lists(aging_items, max_size=25), as_of=a_day, bounds=bounds_strategy)
def test_bucket_totals_add_up_to_the_open_amounts_per_currency_when_ledgers_are_random(
    items, as_of, bounds
):
    report = age(items, as_of, bounds)
    expected: dict[str, int] = {}
    for item in items:
        if item.issued_on <= as_of:
            open_minor = open_amount_as_of(item.amount_minor, item.allocations, as_of)
            expected[item.currency] = expected.get(item.currency, 0) + open_minor
    for currency, totals in report.by_currency.items():
        assert len(totals) == len(bounds) + 2
        assert sum(totals) == expected.pop(currency)
    assert all(total == 0 for total in expected.values())  # only all-settled currencies are absent


@given(items=st.lists(aging_items, max_size=25), as_of=a_day)
def test_customer_rows_add_up_to_the_currency_totals_when_ledgers_are_random(items, as_of):
    report = age(items, as_of)
    for currency, totals in report.by_currency.items():
        rows = [row for (_, c), row in report.by_customer.items() if c == currency]
        assert tuple(map(sum, zip(*rows, strict=True))) == totals


@given(days=st.integers(min_value=-400, max_value=400), bounds=bounds_strategy)
def test_bucket_index_agrees_with_the_bucket_ranges_when_days_are_random(days, bounds):
    bucket = buckets(bounds)[bucket_index(days, bounds)]
    assert bucket.low is None or bucket.low <= days
    assert bucket.high is None or days <= bucket.high
