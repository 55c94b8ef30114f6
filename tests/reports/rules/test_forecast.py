"""The forecast's arithmetic: shares of each invoice by week from its three quantile dates, the
past-due invoice in the first week, the 80 % interval, and conservation of the amounts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.reports.rules.forecast import ONE, Expected, cdf, monday_of, never_paid, weekly

START = date(2026, 12, 7)  # a Monday


def test_an_invoice_certain_within_a_week_is_all_expected_in_it_with_no_spread() -> None:
    invoice = Expected(1_000_00, START + timedelta(days=8), START + timedelta(days=9),
                       START + timedelta(days=10))  # fmt: skip
    weeks, later, _ = weekly([invoice], START, 13)
    assert [w.expected_minor for w in weeks[:3]] == [0, 1_000_00, 0]
    assert later == 0


def test_the_quantiles_spread_an_invoice_over_the_weeks() -> None:
    # paid by day 3 one time in ten, by day 10 half the time, by day 17 nine times in ten
    invoice = Expected(1_000_00, START + timedelta(days=3), START + timedelta(days=10),
                       START + timedelta(days=17))  # fmt: skip
    assert cdf(invoice, START + timedelta(days=3), START) == Decimal("0.1")
    assert cdf(invoice, START + timedelta(days=10), START) == Decimal("0.5")
    assert cdf(invoice, START + timedelta(days=24), START) == 1  # 17 + (17 - 10)
    weeks, later, _ = weekly([invoice], START, 4)
    # by day 7: 0.1 + 0.4 x 4/7; by 14: 0.5 + 0.4 x 4/7; by 21: 0.9 + 0.1 x 4/7; by 28: all
    assert [w.expected_minor for w in weeks] == [32_857, 40_000, 22_857, 4_286]
    assert later == 0 and sum(w.expected_minor for w in weeks) == 1_000_00


def test_an_invoice_past_all_its_dates_is_expected_in_the_first_week() -> None:
    past = Expected(500_00, START - timedelta(days=30), START - timedelta(days=20),
                    START - timedelta(days=10))  # fmt: skip
    weeks, *_ = weekly([past], START, 13)
    assert weeks[0].expected_minor == 500_00


def test_independent_invoices_give_an_80_percent_interval_around_the_expectation() -> None:
    # each half in week 1, half in week 2: p = 0.5, variance 2 x 100² x 0.25 = 5000 (in euros²)
    coin = Expected(100_00, START + timedelta(days=2), START + timedelta(days=7),
                    START + timedelta(days=12))  # fmt: skip
    weeks, *_ = weekly([coin, coin], START, 2)
    first = weeks[0]
    assert first.expected_minor == 100_00
    spread = Decimal("1.2816") * (Decimal(2) * 100_00 * 100_00 * Decimal("0.25")).sqrt()
    assert (first.low_minor, first.high_minor) == (round(100_00 - spread), round(100_00 + spread))


def test_what_comes_after_the_last_week_is_said_apart() -> None:
    late = Expected(700_00, START + timedelta(days=200), START + timedelta(days=210),
                    START + timedelta(days=220))  # fmt: skip
    weeks, later, _ = weekly([late], START, 13)
    assert sum(w.expected_minor for w in weeks) == 0 and later == 700_00


def test_what_may_never_be_paid_is_doubtful_and_in_no_week() -> None:
    # 15 % loss rate: 85 % of the invoice spread as the quantiles say, 15 % doubtful
    invoice = Expected(1_000_00, START + timedelta(days=3), START + timedelta(days=10),
                       START + timedelta(days=17), never_paid(Decimal("15")))  # fmt: skip
    weeks, later, doubtful = weekly([invoice], START, 4)
    assert [w.expected_minor for w in weeks] == [27_929, 34_000, 19_429, 3_643]  # 0.85 x before
    assert (later, doubtful) == (0, 150_00)
    assert sum(w.expected_minor for w in weeks) + doubtful == 1_000_00 + 1  # each week rounded


def test_a_loss_rate_is_an_exact_probability() -> None:
    assert never_paid(Decimal("0.5")) == ONE // 200
    assert never_paid(Decimal("100")) == ONE and never_paid(Decimal("0")) == 0
    assert never_paid(Decimal("12.345")) == 123_450_000
    with pytest.raises(ValueError, match=r"at most 7 decimals, got 1\.23456789"):
        never_paid(Decimal("1.23456789"))
    with pytest.raises(ValueError, match="between 0 and 100"):
        never_paid(Decimal("101"))


def test_a_forecast_needs_a_week_and_weeks_start_on_monday() -> None:
    with pytest.raises(ValueError, match="at least one week"):
        weekly([], START, 0)
    assert monday_of(date(2026, 12, 10)) == START and monday_of(START) == START


offsets = st.integers(min_value=-60, max_value=200)


@given(amounts=st.lists(st.integers(1, 10**9), min_size=1, max_size=20),
       a=offsets, b=offsets, c=offsets, loss=st.integers(0, 100_000))  # fmt: skip
def test_every_invoice_is_expected_once_in_all(
    amounts: list[int], a: int, b: int, c: int, loss: int
) -> None:
    low, mid, high = sorted((a, b, c))
    doubtful = never_paid(Decimal(loss) / 1000)  # 0 to 100 %, three decimals
    invoices = [Expected(n, START + timedelta(days=low), START + timedelta(days=mid),
                         START + timedelta(days=high), doubtful) for n in amounts]  # fmt: skip
    weeks, later, doubt = weekly(invoices, START, 13)
    # each of the 15 figures is rounded to the minor unit, and each invoice's shares are
    # rounded down to a billionth (at most a minor unit per invoice over the weeks)
    total = sum(w.expected_minor for w in weeks) + later + doubt
    assert abs(total - sum(amounts)) <= 15 + len(amounts)
    assert all(w.low_minor <= w.expected_minor <= w.high_minor for w in weeks)
