"""Suggested limits: DOMAIN.md §6.1's example (blend 113,333; needs-based 53,333)."""

from dunwell.credit.rules.limits import Financials, suggest


def test_the_worked_example() -> None:
    found = suggest(Financials(net_worth_minor=2_000_000_00, working_capital_minor=800_000_00,
                               annual_sales_minor=12 * 600_000_00,
                               monthly_purchases_minor=40_000_00, terms_days=30,
                               expected_delay_days=10))  # fmt: skip
    assert found.by_method == {"net_worth": 200_000_00, "working_capital": 80_000_00,
                               "sales": 60_000_00}  # fmt: skip
    assert found.blend_minor == 113_333_33
    assert found.needs_minor == 53_333_33


def test_trade_references_take_the_median_and_an_external_limit_counts_as_given() -> None:
    found = suggest(Financials(reference_limits_minor=[10_000_00, 50_000_00, 20_000_00, 30_000_00],
                               external_limit_minor=40_000_00))  # fmt: skip
    assert found.by_method == {"trade_references": 25_000_00, "external": 40_000_00}
    assert found.blend_minor == 32_500_00
    assert found.needs_minor is None


def test_nothing_stated_suggests_nothing() -> None:
    found = suggest(Financials(net_worth_minor=-5_00))  # a negative net worth gives no figure
    assert found.by_method == {} and found.blend_minor is None
