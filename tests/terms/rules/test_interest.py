"""Statutory and contractual interest: DOMAIN.md 1.8's worked examples to the cent, and properties."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.terms.rules.interest import (
    LAW_ORDER,
    PRINCIPAL_FIRST,
    DayCount,
    InterestError,
    Part,
    RateKind,
    Rates,
    RateSeries,
    Reduction,
    apply_in_order,
    contractual_interest,
    statute,
    statutory_interest,
)

D = Decimal
CHECKED = date(2025, 11, 30)
# The rates of DOMAIN.md 1.1-1.3 (ECB MRO, Basiszinssatz, Bank Rate), from the day each applied.
RATES = Rates.of(
    [
        RateSeries(RateKind.ECB_MRO, ((date(2023, 9, 20), D("4.50")), (date(2024, 6, 12), D("4.25")),
                                      (date(2024, 12, 18), D("3.15")), (date(2025, 6, 11), D("2.15"))),
                   CHECKED),
        RateSeries(RateKind.DE_BASE, ((date(2024, 1, 1), D("3.62")), (date(2024, 7, 1), D("3.37")),
                                      (date(2025, 1, 1), D("2.27")), (date(2025, 7, 1), D("1.27"))),
                   CHECKED),
        RateSeries(RateKind.UK_BANK, ((date(2023, 8, 3), D("5.25")), (date(2024, 8, 1), D("5.00")),
                                      (date(2024, 11, 7), D("4.75")), (date(2025, 2, 6), D("4.50")),
                                      (date(2025, 5, 8), D("4.25")), (date(2025, 8, 7), D("4.00"))),
                   CHECKED),
    ]
)  # fmt: skip
TEN_THOUSAND = 1_000_000


def calc(code, due, until, **kwargs):
    kwargs.setdefault("rates", RATES)
    return statutory_interest(
        statute(code), amount_minor=kwargs.pop("amount", TEN_THOUSAND), due_on=due, until=until,
        **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("code", "percent", "interest", "compensation"),
    [
        ("EU", "11.15", 137_47, (40_00, "EUR")),
        ("DE", "11.27", 138_95, (40_00, "EUR")),
        ("FR", "13.15", 162_12, (40_00, "EUR")),
        ("NL", "11.15", 137_47, (40_00, "EUR")),
        ("FI", "11.5", 141_78, (40_00, "EUR")),
        ("UK", "12.75", 157_19, (100_00, "GBP")),
    ],
)
def test_worked_example_a_45_days_in_one_half_year(code, percent, interest, compensation):
    result = calc(code, date(2025, 3, 14), date(2025, 4, 28))
    assert result.days_late == 45
    [period] = result.periods
    assert (period.start, period.end, period.days) == (date(2025, 3, 15), date(2025, 4, 28), 45)
    assert period.percent == D(percent)
    assert result.interest_minor == interest
    assert (result.compensation_minor, result.compensation_currency) == compensation
    assert result.notes == ()


def test_the_day_count_is_a_parameter():
    due, paid = date(2025, 3, 14), date(2025, 4, 28)
    assert calc("DE", due, paid, day_count=DayCount.ACT_360).interest_minor == 140_88


@pytest.mark.parametrize(
    ("code", "percents", "interest"),
    [
        ("DE", ["11.27", "10.27"], 130_73),
        ("FR", ["13.15", "12.15"], 153_90),
        ("NL", ["11.15", "10.15"], 129_25),
        ("UK", ["12.75"], 157_19),  # fixed by the half-year in which interest started
    ],
)
def test_worked_example_b_the_rate_changes_on_1_july_except_in_the_uk(code, percents, interest):
    result = calc(code, date(2025, 6, 15), date(2025, 7, 30))
    assert [str(p.percent) for p in result.periods] == percents
    assert [p.days for p in result.periods] == ([15, 30] if len(percents) == 2 else [45])
    assert result.interest_minor == interest


def test_worked_example_c_dutch_interest_joins_the_base_after_each_full_year():
    constant = Rates.of([RateSeries(RateKind.ECB_MRO, ((date(2020, 1, 1), D("2.15")),), CHECKED)])
    due, paid = date(2025, 3, 1), date(2027, 3, 1)  # 730 days, 10.15 % all along
    dutch = calc("NL", due, paid, rates=constant)
    assert dutch.interest_minor == 2_133_02  # 1,015.00 + 11,015.00 x 10.15 % = 1,118.02
    assert dutch.periods[3].start == date(2026, 3, 2) and dutch.periods[3].base_minor == 1_101_500
    assert calc("EU", due, paid, rates=constant).interest_minor == 2_030_00  # simple


@pytest.mark.parametrize(
    ("amount", "fixed"),
    [(999_99, 40_00), (1_000_00, 70_00), (9_999_99, 70_00), (10_000_00, 100_00)],
)
def test_uk_fixed_sum_by_the_size_of_the_debt(amount, fixed):
    result = calc("UK", date(2025, 3, 14), date(2025, 4, 28), amount=amount)
    assert result.compensation_minor == fixed


def test_a_consumer_owes_no_compensation_and_only_what_the_law_says_of_consumers():
    german = calc("DE", date(2025, 3, 14), date(2025, 4, 28), consumer=True)
    assert german.periods[0].percent == D("7.27")  # base + 5 (BGB § 288(1))
    assert german.compensation_minor == 0
    french = calc("FR", date(2025, 3, 14), date(2025, 4, 28), consumer=True)
    assert (french.interest_minor, french.compensation_minor, french.periods) == (0, 0, ())
    assert french.notes == (
        "France, Code de commerce L441-10 covers debts between businesses: a consumer owes none of it",
    )


@pytest.mark.parametrize("paid", [date(2025, 3, 10), date(2025, 3, 14)])
def test_paid_by_the_due_date_nothing_is_owed(paid):
    result = calc("DE", date(2025, 3, 14), paid)
    assert (result.interest_minor, result.compensation_minor, result.periods) == (0, 0, ())


def test_a_partial_payment_lowers_the_base_from_the_next_day():
    result = calc("DE", date(2025, 3, 14), date(2025, 4, 28),
                  reductions=[Reduction(date(2025, 3, 31), 400_000)])  # fmt: skip
    assert [(p.start, p.end, p.base_minor) for p in result.periods] == [
        (date(2025, 3, 15), date(2025, 3, 31), 1_000_000),
        (date(2025, 4, 1), date(2025, 4, 28), 600_000),
    ]
    assert result.interest_minor == 104_36  # 52.4904 + 51.8729


def test_interest_stops_when_the_debt_is_paid():
    paid_off = [Reduction(date(2025, 4, 10), TEN_THOUSAND)]
    later = calc("DE", date(2025, 3, 14), date(2025, 6, 30), reductions=paid_off)
    assert later.interest_minor == calc("DE", date(2025, 3, 14), date(2025, 4, 10)).interest_minor
    credited_before_due = [Reduction(date(2025, 3, 1), TEN_THOUSAND)]
    assert calc("DE", date(2025, 3, 14), date(2025, 4, 28),
                reductions=credited_before_due).periods == ()  # fmt: skip


def test_a_day_without_a_known_rate_is_refused_and_an_unchecked_one_is_flagged():
    with pytest.raises(InterestError, match="no Basiszinssatz known on 2023-07-01: add it"):
        calc("DE", date(2023, 8, 1), date(2023, 9, 1))
    flagged = calc("DE", date(2025, 12, 15), date(2026, 1, 20))
    assert flagged.interest_minor > 0
    assert flagged.notes == (
        "Basiszinssatz on 2026-01-01 is assumed unchanged: the rates were checked through "
        "2025-11-30 (`dunwell rates add` to confirm or correct)",
    )


def test_an_unknown_jurisdiction_is_refused_naming_the_known_ones():
    with pytest.raises(InterestError, match="unknown jurisdiction 'XX': expected one of EU, DE"):
        statute("XX")


def test_act_act_counts_each_day_in_the_length_of_its_year():
    def year(day_count):
        return contractual_interest(
            annual_percent=D(10), amount_minor=3_650_000, due_on=date(2023, 12, 31),
            until=date(2024, 12, 31), day_count=day_count,
        ).interest_minor  # fmt: skip

    assert year(DayCount.ACT_ACT) == 3_650_00  # 366 days over 366
    assert year(DayCount.ACT_365F) == 3_660_00  # 366 days over 365


def test_contractual_grace_delays_the_start_and_is_not_forgiven_after():
    def owed(paid):
        return contractual_interest(
            annual_percent=D(12), amount_minor=TEN_THOUSAND, due_on=date(2025, 3, 1),
            until=paid, grace_days=10,
        )  # fmt: skip

    assert owed(date(2025, 3, 11)).interest_minor == 0
    late = owed(date(2025, 3, 31))
    assert late.periods[0].start == date(2025, 3, 12)
    assert late.interest_minor == 65_75  # 10,000 x 12 % x 20 / 365 = 65.7534
    assert late.days_late == 30


def test_partial_payments_go_to_costs_interest_principal_where_the_law_says_so():
    owed = {Part.COSTS: 40_00, Part.INTEREST: 100_00, Part.PRINCIPAL: 1_000_00}
    assert statute("DE").payment_order == LAW_ORDER
    assert apply_in_order(150_00, owed, LAW_ORDER) == (
        {Part.COSTS: 40_00, Part.INTEREST: 100_00, Part.PRINCIPAL: 10_00},
        0,
    )
    assert statute("UK").payment_order == PRINCIPAL_FIRST
    assert apply_in_order(1_200_00, owed, PRINCIPAL_FIRST) == (
        {Part.PRINCIPAL: 1_000_00, Part.INTEREST: 100_00, Part.COSTS: 40_00},
        60_00,
    )


days = st.integers(0, 900)
amounts = st.integers(1, 10**11)


@given(amount=amounts, due=st.dates(date(2024, 1, 1), date(2026, 12, 31)), late=days)
def test_with_a_constant_rate_the_statute_is_simple_interest_over_every_cut(amount, due, late):
    constant = Rates.of([RateSeries(RateKind.ECB_MRO, ((date(2020, 1, 1), D("2.15")),), CHECKED)])
    until = due + timedelta(days=late)
    by_law = calc("EU", due, until, rates=constant, amount=amount)
    by_contract = contractual_interest(
        annual_percent=D("10.15"), amount_minor=amount, due_on=due, until=until
    )
    assert by_law.interest_minor == by_contract.interest_minor
    exact = D(amount) * D("10.15") / 100 * late / 365
    assert abs(sum(p.interest_minor for p in by_law.periods) - exact) < D("1e-12")
    assert sum(p.days for p in by_law.periods) == late


@given(
    amount=amounts,
    due=st.dates(date(2024, 1, 1), date(2025, 6, 30)),
    late=days,
    more=st.integers(1, 200),
    code=st.sampled_from(["EU", "DE", "FR", "NL", "FI", "UK"]),
    paid_after=st.integers(0, 300),
    share=st.integers(1, 100),
)
def test_more_days_never_cost_less_and_a_payment_never_costs_more(
    amount, due, late, more, code, paid_after, share
):
    until = due + timedelta(days=late)
    result = calc(code, due, until, amount=amount)
    assert calc(code, due, until + timedelta(days=more), amount=amount).interest_minor >= (
        result.interest_minor
    )
    part = Reduction(due + timedelta(days=paid_after), max(1, amount * share // 100))
    assert calc(code, due, until, amount=amount, reductions=[part]).interest_minor <= (
        result.interest_minor
    )


@given(
    amount=st.integers(0, 10**9),
    owed=st.lists(st.integers(0, 10**8), min_size=3, max_size=3),
    order=st.permutations(list(Part)),
)
def test_a_payment_is_split_without_losing_a_cent(amount, owed, order):
    split, left = apply_in_order(amount, dict(zip(Part, owed, strict=True)), order)
    assert sum(split.values()) + left == amount
    assert all(0 <= split[part] <= due for part, due in zip(Part, owed, strict=True))
    assert left == 0 or all(split[part] == due for part, due in zip(Part, owed, strict=True))
