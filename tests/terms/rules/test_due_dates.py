from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.core.dates import Adjustment, holiday_calendar, is_business_day
from dunwell.terms.rules.due_dates import (
    Basis,
    Discount,
    DiscountOffer,
    DuePart,
    DueRule,
    TermLine,
    Terms,
    TermsError,
    annual_cost_of_skipping,
    discount_earned,
    discount_offer,
    due_on,
    schedule,
)

DE = holiday_calendar("DE", None, range(2019, 2032))
JAN_31 = date(2025, 1, 31)
APR_30 = date(2025, 4, 30)


def single(rule: DueRule, adjustment: Adjustment = Adjustment.NONE) -> Terms:
    return Terms((TermLine(rule),), adjustment=adjustment)


def instalments(*lines: tuple[str | None, int]) -> Terms:
    return Terms(
        tuple(
            TermLine(DueRule(Basis.AFTER_INVOICE, days=days), None if s is None else Decimal(s))
            for s, days in lines
        )
    )


# DOMAIN.md 2.2, both invoice dates; the ERPNext row follows Dunwell's definition (31 May).
DOMAIN_2_2 = [
    ("net_30", DueRule(Basis.AFTER_INVOICE, days=30), date(2025, 3, 2), date(2025, 5, 30)),
    ("eom", DueRule(Basis.AFTER_END_OF_MONTH), JAN_31, APR_30),
    (
        "30_days_after_eom_erp",
        DueRule(Basis.AFTER_END_OF_MONTH, days=30),
        date(2025, 3, 2),
        date(2025, 5, 30),
    ),
    (
        "end_of_next_month_odoo",
        DueRule(Basis.END_OF_MONTH_AFTER_MONTHS, months=1),
        date(2025, 2, 28),
        date(2025, 5, 31),
    ),
    (
        "one_month_after_end_of_month_dunwell_not_erpnext",
        DueRule(Basis.END_OF_MONTH_AFTER_MONTHS, months=1),
        date(2025, 2, 28),
        date(2025, 5, 31),
    ),
    (
        "odoo_30_days_end_of_month_on_the_10th",
        DueRule(Basis.DAY_OF_MONTH, days=30, months=1, day_of_month=10),
        date(2025, 4, 10),
        date(2025, 6, 10),
    ),
    (
        "21_mfi",
        DueRule(Basis.DAY_OF_MONTH, months=1, day_of_month=21),
        date(2025, 2, 21),
        date(2025, 5, 21),
    ),
]


@pytest.mark.parametrize(
    ("_case", "rule", "from_jan_31", "from_apr_30"), DOMAIN_2_2, ids=[c[0] for c in DOMAIN_2_2]
)
def test_due_date_matches_domain_table_when_invoiced_on_31_jan_or_30_apr(
    _case, rule, from_jan_31, from_apr_30
):
    assert due_on(single(rule), JAN_31) == from_jan_31
    assert due_on(single(rule), APR_30) == from_apr_30


def test_two_ten_net_thirty_offers_200_until_10_feb_when_invoiced_31_jan_for_10000():
    terms = Terms(
        (TermLine(DueRule(Basis.AFTER_INVOICE, days=30)),), discount=Discount(Decimal(2), 10)
    )
    assert discount_offer(terms, JAN_31, 1_000_000) == DiscountOffer(date(2025, 2, 10), 20_000)
    assert schedule(terms, JAN_31, 1_000_000) == (DuePart(date(2025, 3, 2), 1_000_000),)
    assert discount_offer(terms, APR_30, 1_000_000) == DiscountOffer(date(2025, 5, 10), 20_000)
    assert due_on(terms, APR_30) == date(2025, 5, 30)


def test_discount_rounds_half_up_to_the_cent_when_the_percentage_leaves_a_fraction():
    terms = Terms((TermLine(DueRule(Basis.AFTER_INVOICE, 30)),), discount=Discount(Decimal(2), 10))
    assert discount_offer(terms, JAN_31, 10_025).amount_minor == 201  # 200.5 -> 201
    assert discount_offer(terms, JAN_31, 10_024).amount_minor == 200


def test_no_discount_is_offered_when_terms_have_none_or_the_gross_is_not_positive():
    assert discount_offer(Terms.net(30), JAN_31, 1_000_000) is None
    with_discount = Terms(
        (TermLine(DueRule(Basis.AFTER_INVOICE, 30)),), discount=Discount(Decimal(2), 10)
    )
    assert discount_offer(with_discount, JAN_31, 0) is None


@pytest.mark.parametrize(
    ("_case", "rule", "expected"),
    [
        ("a_end_of_month_plus_45", DueRule(Basis.AFTER_END_OF_MONTH, days=45), date(2025, 3, 17)),
        (
            "b_plus_45_then_end_of_month",
            DueRule(Basis.AFTER_INVOICE_THEN_END_OF_MONTH, days=45),
            date(2025, 2, 28),
        ),
    ],
)
def test_45_jours_fin_de_mois_gives_both_french_modes_when_invoiced_2_jan(_case, rule, expected):
    assert due_on(single(rule), date(2025, 1, 2)) == expected


def test_45_jours_fin_de_mois_b_lands_on_29_feb_when_the_year_is_a_leap_year():
    rule = DueRule(Basis.AFTER_INVOICE_THEN_END_OF_MONTH, days=45)
    assert due_on(single(rule), date(2024, 1, 2)) == date(2024, 2, 29)


def test_issue_date_is_day_zero_when_counting_60_days_from_15_apr():
    assert due_on(Terms.net(60), date(2025, 4, 15)) == date(2025, 6, 14)


def test_end_of_next_month_adds_days_when_the_odoo_rule_has_some():
    rule = DueRule(Basis.END_OF_MONTH_AFTER_MONTHS, days=10, months=1)
    assert due_on(single(rule), JAN_31) == date(2025, 3, 10)


def test_instalments_add_up_to_the_cent_when_splitting_1000_01_as_30_30_40():
    terms = instalments(("30", 30), ("30", 60), ("40", 90))
    assert schedule(terms, JAN_31, 100_001) == (
        DuePart(date(2025, 3, 2), 30_000),
        DuePart(date(2025, 4, 1), 30_000),
        DuePart(date(2025, 5, 1), 40_001),
    )


def test_balance_line_takes_the_rest_when_one_line_has_no_share():
    terms = instalments((None, 60), ("33.33", 30))
    assert schedule(terms, JAN_31, 100_000) == (
        DuePart(date(2025, 3, 2), 33_330),
        DuePart(date(2025, 4, 1), 66_670),
    )
    assert due_on(terms, JAN_31) == date(2025, 4, 1)


@pytest.mark.parametrize(
    ("_case", "lines", "message"),
    [
        ("shares_over_100", (("60", 30), ("50", 60)), "110"),
        ("two_balance_lines", ((None, 30), (None, 60)), "balance"),
        ("shares_under_100_without_balance", (("50", 30), ("40", 60)), "90"),
        ("zero_share", (("0", 30), (None, 60)), "more than 0"),
    ],
)
def test_terms_are_refused_when_shares_do_not_make_the_whole(_case, lines, message):
    with pytest.raises(TermsError, match=message):
        instalments(*lines)


def test_terms_are_refused_when_there_is_no_line_or_a_discount_on_instalments():
    with pytest.raises(TermsError, match="at least one line"):
        Terms(())
    with pytest.raises(TermsError, match="single due date"):
        Terms(instalments(("50", 30), ("50", 60)).lines, discount=Discount(Decimal(2), 10))


def test_rules_are_refused_when_day_of_month_or_days_are_out_of_range():
    with pytest.raises(TermsError, match="1 to 31"):
        DueRule(Basis.DAY_OF_MONTH, months=1, day_of_month=0)
    with pytest.raises(TermsError, match="negative"):
        DueRule(Basis.AFTER_INVOICE, days=-1)
    with pytest.raises(TermsError, match="between 0 and 100"):
        Discount(Decimal(100), 10)


def test_cost_of_skipping_two_ten_net_thirty_is_37_24_simple_and_44_6_compound():
    simple, compound = annual_cost_of_skipping(Discount(Decimal(2), 10), 30)
    assert simple.quantize(Decimal("0.0001")) == Decimal("0.3724")
    assert compound.quantize(Decimal("0.001")) == Decimal("0.446")


def test_cost_of_skipping_is_refused_when_the_net_period_is_not_longer_than_the_discount():
    with pytest.raises(TermsError, match="longer"):
        annual_cost_of_skipping(Discount(Decimal(2), 10), 10)


def test_due_date_moves_to_monday_when_it_falls_on_a_saturday_and_terms_follow():
    # 30 Jan 2025 + 30 = Saturday 1 Mar 2025.
    assert due_on(Terms.net(30), date(2025, 1, 30), DE) == date(2025, 3, 1)
    assert due_on(Terms.net(30, Adjustment.FOLLOWING), date(2025, 1, 30), DE) == date(2025, 3, 3)
    assert schedule(Terms.net(30, Adjustment.FOLLOWING), date(2025, 1, 30), 500, DE) == (
        DuePart(date(2025, 3, 3), 500),
    )


def test_due_date_moves_back_to_friday_when_modified_following_would_leave_the_month():
    # 1 May 2025 + 30 = Saturday 31 May 2025.
    terms = Terms.net(30, Adjustment.MODIFIED_FOLLOWING)
    assert due_on(terms, date(2025, 5, 1), DE) == date(2025, 5, 30)


def test_due_date_moves_forward_when_an_adjustment_would_put_it_before_the_issue_date():
    # EOM on an invoice of Saturday 31 May 2025 is due that day; going back would be 30 May.
    eom = DueRule(Basis.AFTER_END_OF_MONTH)
    for rule in (Adjustment.MODIFIED_FOLLOWING, Adjustment.PRECEDING):
        assert due_on(single(eom, rule), date(2025, 5, 31), DE) == date(2025, 6, 2)


def test_due_date_is_the_issue_date_when_a_day_of_month_rule_has_already_passed():
    tenth_of_this_month = DueRule(Basis.DAY_OF_MONTH, months=0, day_of_month=10)
    assert due_on(single(tenth_of_this_month), date(2025, 1, 20)) == date(2025, 1, 20)
    assert due_on(single(tenth_of_this_month), date(2025, 1, 5)) == date(2025, 1, 10)


# -- properties -----------------------------------------------------------------------------------

rules = st.one_of(
    st.builds(
        DueRule,
        basis=st.sampled_from(
            [
                Basis.AFTER_INVOICE,
                Basis.AFTER_END_OF_MONTH,
                Basis.END_OF_MONTH_AFTER_MONTHS,
                Basis.AFTER_INVOICE_THEN_END_OF_MONTH,
            ]
        ),
        days=st.integers(min_value=0, max_value=180),
        months=st.integers(min_value=0, max_value=6),
    ),
    st.builds(
        DueRule,
        basis=st.just(Basis.DAY_OF_MONTH),
        days=st.integers(min_value=0, max_value=180),
        months=st.integers(min_value=0, max_value=6),
        day_of_month=st.integers(min_value=1, max_value=31),
    ),
)


@st.composite
def instalment_terms(draw: st.DrawFn) -> Terms:
    count = draw(st.integers(min_value=1, max_value=6))
    basis_points = draw(
        st.lists(
            st.integers(min_value=1, max_value=10_000 // count), min_size=count, max_size=count
        )
    )
    lines = [TermLine(draw(rules), Decimal(bp) / 100) for bp in basis_points]
    if sum(basis_points) < 10_000 or draw(st.booleans()):
        position = draw(st.integers(min_value=0, max_value=len(lines)))
        lines.insert(position, TermLine(draw(rules), None))
    return Terms(tuple(lines), adjustment=draw(st.sampled_from(list(Adjustment))))


issue_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2028, 12, 31))


@given(
    terms=instalment_terms(),
    issued_on=issue_dates,
    gross=st.integers(min_value=-(10**12), max_value=10**12),
)
def test_schedule_parts_add_up_to_the_gross_when_shares_and_gross_are_random(
    terms, issued_on, gross
):
    parts = schedule(terms, issued_on, gross, DE)
    assert sum(part.amount_minor for part in parts) == gross


@given(terms=instalment_terms(), issued_on=issue_dates, gross=st.integers(1, 10**12))
def test_due_dates_are_sorted_and_never_before_issue_when_any_terms_apply(terms, issued_on, gross):
    parts = schedule(terms, issued_on, gross, DE)
    dates = [part.due_on for part in parts]
    assert dates == sorted(dates)
    assert all(d >= issued_on for d in dates)
    assert due_on(terms, issued_on, DE) >= max(dates)


@given(
    terms=instalment_terms(),
    issued_on=issue_dates,
    gross=st.integers(1, 10**12),
)
def test_adjusted_due_dates_are_business_days_when_terms_adjust(terms, issued_on, gross):
    for part in schedule(terms, issued_on, gross, DE):
        assert terms.adjustment is Adjustment.NONE or is_business_day(part.due_on, DE)


# -- the discount a payment earns (DOMAIN.md 4.5 worked example) --------------------------------

OFFER = DiscountOffer(date(2025, 3, 11), 200_00)  # 2/10 net 30 on 10,000.00 issued 1 Mar


def test_paying_the_discounted_amount_in_time_earns_the_discount_and_late_earns_nothing():
    assert discount_earned(OFFER, paid_on=date(2025, 3, 9), open_after_minor=200_00) == 200_00
    assert discount_earned(OFFER, paid_on=date(2025, 3, 11), open_after_minor=200_00) == 200_00
    assert discount_earned(OFFER, paid_on=date(2025, 3, 25), open_after_minor=200_00) == 0
    assert discount_earned(None, paid_on=date(2025, 3, 9), open_after_minor=200_00) == 0


def test_paying_too_little_in_time_earns_nothing_and_paying_in_parts_earns_it_with_the_last():
    assert discount_earned(OFFER, paid_on=date(2025, 3, 9), open_after_minor=200_01) == 0
    assert discount_earned(OFFER, paid_on=date(2025, 3, 5), open_after_minor=5_100_00) == 0
    assert discount_earned(OFFER, paid_on=date(2025, 3, 9), open_after_minor=150_00) == 150_00
    assert discount_earned(OFFER, paid_on=date(2025, 3, 9), open_after_minor=0) == 0
    # granted once: a second payment cannot earn it again
    assert discount_earned(OFFER, paid_on=date(2025, 3, 9), open_after_minor=100_00,
                           granted_minor=200_00) == 0  # fmt: skip


@given(
    offer_minor=st.integers(0, 10**9),
    open_after=st.integers(-(10**9), 10**9),
    granted=st.integers(0, 10**9),
    late=st.integers(-30, 30),
)
def test_a_discount_never_exceeds_what_is_left_of_it_nor_comes_late(
    offer_minor, open_after, granted, late
):
    offer = DiscountOffer(date(2025, 3, 11), offer_minor)
    paid_on = date(2025, 3, 11) + timedelta(days=late)
    earned = discount_earned(offer, paid_on=paid_on, open_after_minor=open_after,
                             granted_minor=granted)  # fmt: skip
    assert earned in (0, open_after)  # all of the rest or nothing: the item is settled or not
    assert earned == 0 or (late <= 0 and 0 < earned <= offer_minor - granted)
