"""The KPI formulas against DOMAIN.md 3's worked dataset, their limits, and the oracle's months."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dunwell.reports.rules.kpi import (
    Balances,
    Cei,
    CeiVariant,
    Document,
    MonthInputs,
    Reduction,
    annualised,
    ar_turnover,
    average_days_delinquent,
    balances_on,
    best_possible_dso,
    cei,
    cei_crf,
    days_beyond_terms,
    dso,
    dso_average_ar,
    dso_countback,
    kpis,
    ledger_months,
    percent_current,
    percent_over_90,
    rounded,
)

pytestmark = pytest.mark.pure

# DOMAIN.md 3: Q1 2025, 90 days; amounts in whole units (the formulas have no unit).
SALES = {"jan": 100_000, "feb": 120_000, "mar": 150_000}
QUARTER_SALES = 370_000
AR_DEC, AR_FEB, AR_MAR = 190_000, 200_000, 210_000
CURRENT_MAR, OVER_90_MAR = 140_000, 7_000
AR_JAN = 195_000  # not in the dataset: only the average of monthly CEIs reads it
NEWEST_FIRST = [(150_000, 31), (120_000, 28), (100_000, 31)]


def two(value: Decimal | None) -> Decimal | None:
    return rounded(value)


def test_dso_standard_is_51_08_days():
    assert two(dso(AR_MAR, QUARTER_SALES, 90)) == Decimal("51.08")


def test_dso_on_average_ar_is_48_65_days():
    assert two(dso_average_ar(AR_DEC, AR_MAR, QUARTER_SALES, 90)) == Decimal("48.65")


def test_countback_takes_march_whole_and_half_of_february():
    assert dso_countback(AR_MAR, NEWEST_FIRST) == Decimal("45.0")


def test_best_possible_dso_is_34_05_and_add_17_03():
    assert two(best_possible_dso(CURRENT_MAR, QUARTER_SALES, 90)) == Decimal("34.05")
    assert two(average_days_delinquent(AR_MAR, CURRENT_MAR, QUARTER_SALES, 90)) == Decimal("17.03")


def test_cei_one_month_total_sales_and_crf_variants():
    assert two(cei(AR_FEB, SALES["mar"], AR_MAR, CURRENT_MAR)) == Decimal("66.67")
    assert two(cei(AR_DEC, QUARTER_SALES, AR_MAR, CURRENT_MAR)) == Decimal("83.33")
    assert two(cei_crf(AR_DEC, QUARTER_SALES, 3, AR_MAR, CURRENT_MAR)) == Decimal("59.62")


def test_percent_current_and_over_90_days():
    assert two(percent_current(CURRENT_MAR, AR_MAR)) == Decimal("66.67")
    assert two(percent_over_90(OVER_90_MAR, AR_MAR)) == Decimal("3.33")


def test_turnover_is_1_85_a_quarter_7_50_a_year_and_48_65_days():
    turnover = ar_turnover(QUARTER_SALES, AR_DEC, AR_MAR)
    assert turnover == Decimal("1.85")
    assert two(annualised(turnover, 90)) == Decimal("7.50")
    assert two(Decimal(90) / turnover) == Decimal("48.65")


def test_days_beyond_terms_weighs_by_amount_and_counts_early_payment_negative():
    # DOMAIN.md 6.3: 10,000 paid 5 days late, 5,000 20 days late, 2,000 3 days early
    assert two(days_beyond_terms([(10_000, 5), (5_000, 20), (2_000, -3)])) == Decimal("8.47")
    assert days_beyond_terms([(2_000, -3)]) == Decimal(-3)


def quarter() -> list[MonthInputs]:
    end_mar = Balances(AR_MAR, CURRENT_MAR, OVER_90_MAR)
    return [
        MonthInputs(date(2025, 1, 1), SALES["jan"], Balances(AR_DEC), Balances(AR_JAN)),
        MonthInputs(date(2025, 2, 1), SALES["feb"], Balances(AR_JAN), Balances(AR_FEB)),
        MonthInputs(date(2025, 3, 1), SALES["mar"], Balances(AR_FEB), end_mar),
    ]


def test_the_quarter_reports_every_kpi_and_names_its_cei_variants():
    q = kpis(quarter())
    assert (q.first, q.last, q.days, q.credit_sales) == (date(2025, 1, 1), date(2025, 3, 1), 90,
                                                          QUARTER_SALES)  # fmt: skip
    assert [two(v) for v in (q.dso, q.dso_average_ar, q.dso_countback, q.best_possible_dso,
                             q.add, q.percent_current, q.percent_over_90, q.turnover,
                             q.turnover_annualised)] == [
        Decimal(v) for v in ("51.08", "48.65", "45.00", "34.05", "17.03", "66.67", "3.33",
                             "1.85", "7.50")
    ]  # fmt: skip
    assert q.cei.variant is CeiVariant.TOTAL_SALES
    months = [cei(AR_DEC, 100_000, AR_JAN, 0), cei(AR_JAN, 120_000, AR_FEB, 0),
              cei(AR_FEB, 150_000, AR_MAR, CURRENT_MAR)]  # fmt: skip
    assert [(c.variant, two(c.percent)) for c in q.cei_variants] == [
        (CeiVariant.TOTAL_SALES, Decimal("83.33")),
        (CeiVariant.AVERAGE_OF_MONTHS, two(sum(months, Decimal(0)) / 3)),
        (CeiVariant.CRF, Decimal("59.62")),
    ]
    assert q.dbt is None  # no payments given


def test_a_single_month_names_its_cei_one_month():
    march = kpis(quarter()[2:], earlier=[(date(2025, 1, 1), 100_000), (date(2025, 2, 1), 120_000)])
    assert march.cei_variants == (Cei(CeiVariant.ONE_MONTH, march.cei.percent),)
    assert two(march.cei.percent) == Decimal("66.67")
    assert march.dso_countback == Decimal("45.0")  # February comes from `earlier`
    assert two(march.dso) == Decimal("43.40")  # 210/150 x 31


def test_without_sales_or_ar_the_ratios_are_not_defined():
    assert dso(5_000, 0, 31) is None
    assert dso(5_000, -100, 31) is None  # more credit notes than invoices
    assert best_possible_dso(0, 0, 31) is None
    assert percent_current(0, 0) is None
    assert percent_over_90(0, 0) is None
    assert ar_turnover(1_000, 0, 0) is None
    assert cei(0, 0, 0, 0) is None
    assert days_beyond_terms([]) is None
    empty = kpis([MonthInputs(date(2025, 1, 1), 0, Balances(), Balances())])
    assert (empty.dso, empty.cei.percent, empty.percent_current, empty.dbt) == (None,) * 4
    assert empty.dso_countback == Decimal(0)  # nothing owed: no days of sales outstanding


def test_countback_is_not_defined_when_the_months_run_out():
    assert dso_countback(400_000, NEWEST_FIRST) is None
    assert dso_countback(370_000, NEWEST_FIRST) == Decimal(90)  # exactly the three months
    assert dso_countback(-1, NEWEST_FIRST) is None
    assert dso_countback(10, [(0, 31), (20, 30)]) == Decimal(46)  # an empty month counts whole


def test_kpis_of_no_months_is_refused():
    with pytest.raises(ValueError, match="no months"):
        kpis([])


amounts = st.integers(0, 10**12)


@given(total=amounts, current=amounts, sales=st.integers(1, 10**12), days=st.integers(1, 366))
def test_best_possible_dso_never_exceeds_dso(total, current, sales, days):
    assume(current <= total)
    assert best_possible_dso(current, sales, days) <= dso(total, sales, days)
    assert average_days_delinquent(total, current, sales, days) >= 0


@given(opening=amounts, sales=amounts, ending=amounts, current=amounts)
def test_cei_is_at_most_100_when_the_ending_ar_covers_its_current_part(
    opening, sales, ending, current
):
    assume(current <= ending)
    value = cei(opening, sales, ending, current)
    assert value is None or value <= 100
    assert (value is None) == (opening + sales - current <= 0)


@given(sales=st.integers(1, 10**9), whole=st.integers(0, 24), days=st.sampled_from([28, 30, 31]))
def test_countback_equals_standard_dso_for_flat_sales_and_whole_months(sales, whole, days):
    ar = sales * whole
    history = [(sales, days)] * 30
    assert dso_countback(ar, history) == dso(ar, sales, days) == whole * days


def test_the_oracle_reconstructs_balances_sales_cash_and_days_beyond_terms():
    invoice = Document(date(2025, 1, 10), date(2025, 2, 9), 1_000, reductions=(
        Reduction(date(2025, 2, 20), date(2025, 2, 9), 400),
        Reduction(date(2025, 3, 5), date(2025, 2, 9), 600),
    ))  # fmt: skip
    credit = Document(date(2025, 2, 1), date(2025, 2, 1), -100, reductions=(
        Reduction(date(2025, 3, 1), date(2025, 2, 1), -100, is_payment=False),
    ))  # fmt: skip
    refund = Document(date(2025, 3, 3), date(2025, 3, 3), 50, is_sale=False, reductions=(
        Reduction(date(2025, 3, 3), date(2025, 3, 3), 50, is_payment=False),
    ))  # fmt: skip
    result = ledger_months([invoice, credit, refund], date(2025, 1, 1), date(2025, 3, 1), 1)
    jan, feb, mar = result.months
    assert result.earlier == [(date(2024, 12, 1), 0)]
    assert (jan.credit_sales, feb.credit_sales, mar.credit_sales) == (1_000, -100, 0)
    assert (jan.opening, jan.ending) == (Balances(), Balances(1_000, 1_000, 0))
    assert feb.ending == Balances(600 - 100, 0, 0)
    assert mar.ending == Balances()
    assert (feb.cash_collected, mar.cash_collected) == (400, 600)
    assert (feb.paid_days, mar.paid_days) == (400 * 11, 600 * 24)


def test_instalments_age_by_their_own_due_dates_and_reversals_are_no_payment():
    doc = Document(date(2025, 1, 1), date(2025, 6, 30), 900,
                   parts=((date(2025, 1, 31), 300), (date(2025, 6, 30), 600)),
                   reductions=(
                       Reduction(date(2025, 1, 20), date(2025, 1, 31), 300, reversed=True),
                       Reduction(date(2025, 2, 3), date(2025, 1, 31), -300, reversed=True),
                   ))  # fmt: skip
    assert balances_on([doc], date(2025, 1, 31)) == Balances(600, 600, 0)
    assert balances_on([doc], date(2025, 5, 31)) == Balances(900, 600, 300)  # 120 days past due
    jan, feb = ledger_months([doc], date(2025, 1, 1), date(2025, 2, 1)).months
    assert (jan.cash_collected, jan.paid, feb.cash_collected, feb.paid) == (300, 0, -300, 0)
