from datetime import date
from decimal import Decimal

import pytest

from dunwell.cash.rules.amounts import (
    CHARGES,
    DISCOUNT,
    EXACT,
    OVERPAID,
    PARTIAL,
    fit,
    fit_remitted,
    subsets,
)
from dunwell.cash.rules.values import Allocation, Document, Settings
from tests.cash.rules.make import item

SETTINGS = Settings()
# DOMAIN.md 4.5: 10,000.00 on 2/10 net 30 dated 1 Mar: 200.00 off until 11 Mar, net 31 Mar.
TWO_TEN = item(1, "INV-2000", 1_000_000, discount_minor=20_000, discount_until=date(2025, 3, 11))


def test_three_invoices_are_settled_exactly_when_the_amount_is_their_sum():
    items = [
        item(1, "INV-1001", 250_000),
        item(2, "INV-1004", 300_000),
        item(3, "INV-1007", 175_000),
    ]
    found = fit(725_000, items, date(2025, 3, 9), SETTINGS)
    assert found.kind == EXACT
    assert found.allocations == (
        Allocation(1, 250_000),
        Allocation(2, 300_000),
        Allocation(3, 175_000),
    )
    assert found.unapplied_minor == 0
    assert found.note == (
        "7,250.00 equals the open amounts of INV-1001 (2,500.00) + INV-1004 (3,000.00) + "
        "INV-1007 (1,750.00)"
    )


def test_early_payment_discount_is_granted_when_paid_inside_the_window():
    found = fit(980_000, [TWO_TEN], date(2025, 3, 9), SETTINGS)
    assert found.kind == DISCOUNT
    assert found.allocations == (Allocation(1, 980_000, discount_minor=20_000),)
    assert "less the early-payment discount of 200.00, available until 2025-03-11" in found.note


def test_discount_taken_late_leaves_the_discount_open_as_a_partial_payment():
    found = fit(980_000, [TWO_TEN], date(2025, 3, 25), SETTINGS)
    assert found.kind == PARTIAL
    assert found.allocations == (Allocation(1, 980_000),)
    assert "200.00 stays open" in found.note
    assert "discount of 200.00 was available until 2025-03-11" in found.note


def test_bank_charges_within_tolerance_are_written_off():
    found = fit(998_500, [item(1, "INV-9", 1_000_000)], date(2025, 3, 9), SETTINGS)
    assert found.kind == CHARGES
    assert found.allocations == (Allocation(1, 998_500, charges_minor=1_500),)
    assert "15.00 short" in found.note and "tolerance of 25.00" in found.note


def test_short_payment_beyond_tolerance_is_partial():
    found = fit(997_000, [item(1, "INV-9", 1_000_000)], date(2025, 3, 9), SETTINGS)
    assert found.kind == PARTIAL
    assert "30.00 stays open" in found.note


def test_charges_tolerance_is_the_smaller_of_the_absolute_and_percentage_limits():
    assert SETTINGS.charges_tolerance(1_000_000) == 2_500  # 0.5 % would be 50.00
    assert SETTINGS.charges_tolerance(200_000) == 1_000  # 0.5 % of 2,000.00 = 10.00
    only_percent = Settings(charges_tolerance_minor=None, charges_tolerance_percent=Decimal(1))
    assert only_percent.charges_tolerance(1_000_000) == 10_000
    assert (
        Settings(charges_tolerance_minor=None, charges_tolerance_percent=None).charges_tolerance(5)
        == 0
    )


def test_charges_on_top_of_a_discount_are_written_off_too():
    found = fit(979_000, [TWO_TEN], date(2025, 3, 9), SETTINGS)
    assert found.kind == CHARGES
    assert found.allocations == (
        Allocation(1, 979_000, discount_minor=20_000, charges_minor=1_000),
    )


def test_full_payment_inside_the_window_grants_no_discount():
    assert fit(1_000_000, [TWO_TEN], date(2025, 3, 9), SETTINGS).kind == EXACT


def test_partial_payment_goes_to_the_oldest_due_item_first():
    older = item(1, "A", 80_000, due=date(2025, 2, 28))
    oldest = item(2, "B", 50_000, due=date(2025, 1, 31))
    newest = item(3, "C", 40_000, due=date(2025, 3, 31))
    found = fit(150_000, [older, oldest, newest], date(2025, 4, 1), SETTINGS)
    assert found.kind == PARTIAL
    assert found.allocations == (
        Allocation(2, 50_000),
        Allocation(1, 80_000),
        Allocation(3, 20_000),
    )
    assert (
        "partial payment: 1,500.00 of 1,700.00 owed, oldest due first; 200.00 stays open"
        in found.note
    )


def test_overpayment_settles_everything_and_leaves_the_rest_unapplied():
    found = fit(150_000, [item(1, "INV-17", 125_000)], date(2025, 3, 9), SETTINGS)
    assert found.kind == OVERPAID
    assert found.allocations == (Allocation(1, 125_000),)
    assert found.unapplied_minor == 25_000
    assert "250.00 left unapplied" in found.note


def test_an_open_credit_note_is_netted_against_the_invoice():
    found = fit(
        800_000,
        [item(1, "INV-5", 1_000_000), item(2, "CN-2", -200_000)],
        date(2025, 3, 9),
        SETTINGS,
    )
    assert found.kind == EXACT
    assert found.allocations == (Allocation(1, 1_000_000), Allocation(2, -200_000))
    assert "INV-5 (10,000.00) less credit note CN-2 (2,000.00)" in found.note


def test_partial_payment_uses_the_credit_note_up_first():
    found = fit(
        300_000,
        [item(1, "INV-5", 1_000_000), item(2, "CN-2", -200_000)],
        date(2025, 3, 9),
        SETTINGS,
    )
    assert found.kind == PARTIAL
    assert sorted(found.allocations) == [Allocation(1, 500_000), Allocation(2, -200_000)]


def test_nothing_fits_items_that_owe_nothing():
    assert fit(100, [item(1, "CN-1", -5_000)], date(2025, 3, 9), SETTINGS) is None


def test_remittance_amounts_are_applied_document_by_document():
    a, b = item(1, "INV-1", 100_000), item(2, "INV-2", 50_000)
    found = fit_remitted(
        120_000, [(a, Document("INV-1", 70_000)), (b, Document("INV-2", 50_000))], date(2025, 3, 9)
    )
    assert found.kind == PARTIAL
    assert found.allocations == (Allocation(1, 70_000), Allocation(2, 50_000))
    assert found.note == "1,200.00 applied as the remittance says, 300.00 stays open"


def test_remittance_that_names_more_than_was_paid_is_not_followed():
    a = item(1, "INV-1", 100_000)
    assert fit_remitted(50_000, [(a, Document("INV-1", 100_000))], date(2025, 3, 9)) is None
    assert fit_remitted(50_000, [(a, Document("INV-1"))], date(2025, 3, 9)) is None


def test_remittance_discount_is_granted_only_inside_the_window():
    pair = [(TWO_TEN, Document("INV-2000", 980_000, 20_000))]
    assert fit_remitted(980_000, pair, date(2025, 3, 9)).allocations == (
        Allocation(1, 980_000, 20_000),
    )
    late = fit_remitted(980_000, pair, date(2025, 3, 25))
    assert late.allocations == (Allocation(1, 980_000),) and late.kind == PARTIAL


def test_subset_search_finds_the_combinations_that_add_up():
    found, exhaustive = subsets([2_500, 3_000, 1_750, 900], 4_250, 4_250, max_size=5)
    assert (found, exhaustive) == ([(0, 2)], True)


def test_subset_search_reports_ties_and_respects_the_size_bound():
    found, exhaustive = subsets([100, 200, 300, 400], 500, 500, max_size=2)
    assert sorted(found) == [(0, 3), (1, 2)] and exhaustive
    assert subsets([100] * 6, 600, 600, max_size=5) == ([], True)


def test_subset_search_stops_at_its_limit_and_says_it_is_not_exhaustive():
    found, exhaustive = subsets([100] * 10, 200, 200, max_size=2, limit=3)
    assert len(found) == 3 and not exhaustive


@pytest.mark.parametrize("size", [1, 5])
def test_subset_search_over_thirty_items_stays_bounded(size):
    amounts = [1_000 + 7 * k for k in range(30)]
    found, _ = subsets(amounts, 10**9, 10**9, max_size=size)
    assert found == []
