"""The risk score: DOMAIN.md §6.3's worked example (73.2, DBT 8.47 days), the anchors, the
deductions and their caps, the trend, too little history, and properties."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.credit.rules.score import (
    ANCHORS,
    Band,
    Behaviour,
    Experience,
    band_of,
    days_beyond_terms,
    months_before,
    payment_index,
    points,
    score,
)

AS_OF = date(2026, 6, 30)
DUE = date(2026, 5, 1)
# DOMAIN.md: 10,000 paid 5 days late, 5,000 20 days late, 2,000 3 days early
EXAMPLE = [
    Experience(10_000_00, DUE, DUE + timedelta(days=5)),
    Experience(5_000_00, DUE, DUE + timedelta(days=20)),
    Experience(2_000_00, DUE, DUE - timedelta(days=3)),
]


def test_the_worked_example_scores_73_2_with_a_dbt_of_8_47_days() -> None:
    assert round(points(5), 2) == Decimal("76.67")
    assert round(points(20), 2) == Decimal("62.86")
    assert round(points(-3), 2) == Decimal("81.50")
    assert round(payment_index(EXAMPLE, AS_OF), 1) == Decimal("73.2")  # type: ignore[arg-type]
    assert round(days_beyond_terms(EXAMPLE, AS_OF), 2) == Decimal("8.47")  # type: ignore[arg-type]
    found = score(Behaviour(AS_OF, EXAMPLE))
    assert (found.value, found.band) == (73, Band.MEDIUM)
    assert found.explanation == (
        "73 (medium risk): payment index 73.2 over 3 invoice(s) (DBT 8.5 days)"
    )


@pytest.mark.parametrize(("days", "expected"), [*ANCHORS, (-45, 100), (400, 1), (45, 45)])
def test_the_anchors_and_between_them_straight_lines(days: int, expected: int) -> None:
    assert points(days) == expected


def test_an_open_overdue_invoice_counts_at_its_days_so_far_and_one_not_due_not_at_all() -> None:
    paid_on_time = [Experience(1_000_00, DUE, DUE) for _ in range(3)]
    late_open = Experience(3_000_00, AS_OF - timedelta(days=60))  # 60 days past due: 40 points
    not_due = Experience(50_000_00, AS_OF + timedelta(days=10))
    found = score(Behaviour(AS_OF, [*paid_on_time, late_open, not_due]))
    assert found.experiences == 4
    assert found.index == Decimal(80 * 3_000_00 + 40 * 3_000_00) / 6_000_00  # 60


def test_broken_promises_disputes_and_a_worsening_trend_take_points_off_up_to_their_caps() -> None:
    prior = [Experience(1_000_00, d, d) for d in (date(2026, 1, 10), date(2026, 2, 10))]  # 80
    recent = [Experience(1_000_00, d, d + timedelta(days=30))  # 50 points each
              for d in (date(2026, 4, 10), date(2026, 5, 10))]  # fmt: skip
    found = score(Behaviour(AS_OF, [*prior, *recent], broken_promises=4, disputes=1))
    # index 65; trend 80 -> 50 is 30 worse: 25 beyond the slack, capped at 10
    assert found.components == {"payment_index": 65, "broken_promises": -15, "disputes": -2,
                                "trend": -10}  # fmt: skip
    assert found.value == 38 and found.band == Band.HIGH
    assert "-15 for 4 broken promise(s)" in found.explanation
    assert "-10 for a worsening trend (80.0 -> 50.0)" in found.explanation


def test_fewer_than_three_experiences_in_24_months_give_no_score() -> None:
    old = Experience(1_000_00, date(2023, 1, 1), date(2023, 1, 1))  # paid over 24 months ago
    found = score(Behaviour(AS_OF, [old, *EXAMPLE[:2]]))
    assert found.value is None and found.band is None
    assert found.explanation == "no score: 2 payment experience(s) in 24 months, 3 needed"


def test_months_before_keeps_the_day_or_takes_the_months_last() -> None:
    assert months_before(date(2026, 6, 30), 24) == date(2024, 6, 30)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert months_before(date(2026, 1, 15), 3) == date(2025, 10, 15)


def test_bands() -> None:
    assert [band_of(v) for v in (100, 80, 79, 50, 49, 0)] == [
        Band.LOW, Band.LOW, Band.MEDIUM, Band.MEDIUM, Band.HIGH, Band.HIGH]  # fmt: skip


lateness = st.integers(min_value=-60, max_value=400)


@given(a=lateness, b=lateness)
def test_paying_later_never_scores_more(a: int, b: int) -> None:
    early, late = min(a, b), max(a, b)
    assert 1 <= points(late) <= points(early) <= 100


@given(days=st.lists(lateness, min_size=3, max_size=20),
       broken=st.integers(0, 10), disputes=st.integers(0, 10))  # fmt: skip
def test_the_score_stays_within_0_and_100(days: list[int], broken: int, disputes: int) -> None:
    experiences = [Experience(1_00 + n, DUE, DUE + timedelta(days=d)) for n, d in enumerate(days)]
    found = score(Behaviour(AS_OF, experiences, broken, disputes))
    assert found.value is not None and 0 <= found.value <= 100
