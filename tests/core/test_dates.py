from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.core.dates import (
    Adjustment,
    add_business_days,
    add_months,
    adjust,
    day_of_month,
    end_of_month,
    holiday_calendar,
    is_business_day,
)

DE_2025 = holiday_calendar("DE", None, [2025])
DE_YEARS = holiday_calendar("DE", None, range(2019, 2032))
days_2020s = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 1, 15), date(2025, 1, 31)),
        (date(2025, 2, 1), date(2025, 2, 28)),
        (date(2024, 2, 10), date(2024, 2, 29)),
        (date(2025, 4, 30), date(2025, 4, 30)),
        (date(2025, 12, 31), date(2025, 12, 31)),
    ],
)
def test_end_of_month_is_the_months_last_day_when_given_any_day(day, expected):
    assert end_of_month(day) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 1, 15), 1, date(2025, 2, 15)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 1, 31), -2, date(2024, 11, 30)),
        (date(2025, 1, 31), 0, date(2025, 1, 31)),
    ],
)
def test_add_months_clamps_to_the_months_end_when_the_day_does_not_exist(day, months, expected):
    assert add_months(day, months) == expected


def test_day_of_month_clamps_when_the_month_is_shorter():
    assert day_of_month(2025, 4, 31) == date(2025, 4, 30)
    assert day_of_month(2025, 2, 30) == date(2025, 2, 28)
    assert day_of_month(2025, 5, 21) == date(2025, 5, 21)


def test_german_calendar_holds_easter_monday_and_unity_day_when_built_for_2025():
    assert {date(2025, 4, 18), date(2025, 4, 21), date(2025, 10, 3)} <= DE_2025
    assert not is_business_day(date(2025, 4, 21), DE_2025)
    assert is_business_day(date(2025, 4, 22), DE_2025)


def test_unknown_country_is_refused_when_building_a_calendar():
    with pytest.raises(ValueError, match="'XX'"):
        holiday_calendar("XX", None, [2025])


@pytest.mark.parametrize(
    ("day", "rule", "expected"),
    [
        # Good Friday 18 Apr 2025, then the weekend, then Easter Monday 21 Apr.
        (date(2025, 4, 18), Adjustment.FOLLOWING, date(2025, 4, 22)),
        (date(2025, 4, 21), Adjustment.PRECEDING, date(2025, 4, 17)),
        (date(2025, 4, 19), Adjustment.MODIFIED_FOLLOWING, date(2025, 4, 22)),
        # Unity Day, Friday 3 Oct 2025.
        (date(2025, 10, 3), Adjustment.FOLLOWING, date(2025, 10, 6)),
        (date(2025, 10, 3), Adjustment.PRECEDING, date(2025, 10, 2)),
        # Saturday 31 May 2025: following leaves May, so modified following goes back.
        (date(2025, 5, 31), Adjustment.FOLLOWING, date(2025, 6, 2)),
        (date(2025, 5, 31), Adjustment.MODIFIED_FOLLOWING, date(2025, 5, 30)),
        (date(2025, 5, 31), Adjustment.NONE, date(2025, 5, 31)),
        # A business day never moves.
        (date(2025, 4, 17), Adjustment.FOLLOWING, date(2025, 4, 17)),
        (date(2025, 4, 17), Adjustment.PRECEDING, date(2025, 4, 17)),
    ],
)
def test_adjust_moves_off_weekends_and_german_holidays_when_the_day_is_not_a_business_day(
    day, rule, expected
):
    assert adjust(day, DE_2025, rule) == expected


@pytest.mark.parametrize(
    ("day", "count", "expected"),
    [
        (date(2025, 4, 17), 1, date(2025, 4, 22)),  # over Easter
        (date(2025, 4, 30), 1, date(2025, 5, 2)),  # over 1 May
        (date(2025, 4, 22), -1, date(2025, 4, 17)),
        (date(2025, 10, 1), 3, date(2025, 10, 7)),  # over Unity Day and a weekend
        (date(2025, 4, 17), 0, date(2025, 4, 17)),
    ],
)
def test_add_business_days_skips_weekends_and_holidays_when_counting(day, count, expected):
    assert add_business_days(day, count, DE_2025) == expected


@given(day=days_2020s, rule=st.sampled_from(list(Adjustment)))
def test_adjusted_date_is_a_business_day_when_a_rule_applies(day, rule):
    moved = adjust(day, DE_YEARS, rule)
    assert is_business_day(moved, DE_YEARS) or rule is Adjustment.NONE


@given(day=days_2020s)
def test_following_never_moves_backwards_when_adjusting_any_day(day):
    moved = adjust(day, DE_YEARS, Adjustment.FOLLOWING)
    assert day <= moved < day + timedelta(days=7)


@given(day=days_2020s)
def test_preceding_never_moves_forwards_when_adjusting_any_day(day):
    assert adjust(day, DE_YEARS, Adjustment.PRECEDING) <= day


@given(day=days_2020s)
def test_modified_following_stays_in_the_month_when_adjusting_any_day(day):
    moved = adjust(day, DE_YEARS, Adjustment.MODIFIED_FOLLOWING)
    assert (moved.year, moved.month) == (day.year, day.month)


@given(day=days_2020s, count=st.integers(min_value=-60, max_value=60))
def test_add_business_days_lands_on_a_business_day_when_count_is_not_zero(day, count):
    moved = add_business_days(day, count, DE_YEARS)
    if count:
        assert is_business_day(moved, DE_YEARS)
        assert (moved > day) == (count > 0)


@given(day=days_2020s, months=st.integers(min_value=-120, max_value=120))
def test_add_months_keeps_the_day_or_clamps_to_the_months_end_when_stepping(day, months):
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == day.day or moved == end_of_month(moved)


def test_date_in_turns_a_moment_into_the_date_of_a_time_zone() -> None:
    from datetime import UTC, datetime

    from dunwell.core.dates import date_in

    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert date_in("Europe/Berlin", late) == date(2026, 11, 24)  # already Tuesday there
    assert date_in("America/New_York", late) == date(2026, 11, 23)
    assert date_in("", late) == date_in("Not/AZone", late) == date(2026, 11, 23)  # UTC
