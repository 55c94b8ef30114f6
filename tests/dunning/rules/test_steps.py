"""Which step an item has come to: the module docstring's example, catch-up, follow-up steps."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.dunning.rules.steps import (
    Candidate,
    ItemState,
    Ladder,
    StepError,
    StepRule,
    check_steps,
    due_step,
    message_step,
    overdue,
)

LADDER = (StepRule(1, -3), StepRule(2, 7), StepRule(3, 30))
DUE = date(2025, 3, 1)


@pytest.mark.parametrize(
    ("state", "on", "step"),
    [
        (ItemState(), date(2025, 2, 25), 0),
        (ItemState(), date(2025, 2, 26), 1),
        (ItemState(1, date(2025, 2, 26)), date(2025, 3, 7), 0),
        (ItemState(1, date(2025, 2, 26)), date(2025, 3, 8), 2),
        (ItemState(), date(2025, 4, 2), 3),  # missed runs: only the highest step now due
        (ItemState(1, date(2025, 2, 26)), date(2025, 4, 2), 3),
        (ItemState(3, date(2025, 4, 2)), date(2025, 12, 31), 0),  # the ladder is done
    ],
)
def test_the_highest_step_whose_trigger_has_come(state, on, step):
    assert due_step(LADDER, DUE, state, on) == step


def test_a_follow_up_step_counts_from_the_day_the_previous_one_was_reached():
    steps = (StepRule(1, 7), StepRule(2, 0, after_previous_days=14), StepRule(3, 60))
    assert due_step(steps, DUE, ItemState(1, date(2025, 3, 10)), date(2025, 3, 23)) == 0
    assert due_step(steps, DUE, ItemState(1, date(2025, 3, 10)), date(2025, 3, 24)) == 2
    # never reminded, 70 days late: step 1 now; the follow-up waits for it (it is not skipped)
    assert due_step(steps, DUE, ItemState(), date(2025, 5, 10)) == 1


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ((), "at least one step"),
        ((StepRule(2, 7),), "numbered 1, 2, 3"),
        ((StepRule(1, 0, after_previous_days=3),), "no previous step"),
        ((StepRule(1, 7), StepRule(2, 0, after_previous_days=0)), "1 day or more"),
    ],
)
def test_a_ladder_that_cannot_be_followed_is_refused(steps, message):
    with pytest.raises(StepError, match=message):
        check_steps(steps)


def test_one_message_takes_the_highest_step_and_lists_the_overdue_items_oldest_first():
    on = date(2025, 4, 2)
    items = [
        Candidate(1, "INV-3", date(2025, 4, 4), 100, 1),  # not yet due: courtesy only
        Candidate(2, "INV-2", date(2025, 3, 20), 200, 2),
        Candidate(3, "INV-1", date(2025, 3, 1), 300, 3),
        Candidate(4, "INV-0", date(2025, 2, 1), 400, 0),  # overdue, its step already sent
    ]
    assert message_step(items) == 3
    assert [c.number for c in overdue(items, on)] == ["INV-0", "INV-1", "INV-2"]


offsets = st.lists(st.integers(-10, 90), min_size=1, max_size=6).map(sorted)


@given(
    offsets=offsets, late=st.integers(-20, 200), more=st.integers(0, 60), reached=st.integers(0, 6)
)
def test_a_later_day_never_owes_a_lower_step_and_a_reached_step_is_never_due_again(
    offsets, late, more, reached
):
    steps = [StepRule(i, offset) for i, offset in enumerate(offsets, start=1)]
    reached = min(reached, len(steps))
    state = ItemState(reached, DUE if reached else None)
    on = DUE + timedelta(days=late)
    step = due_step(steps, DUE, state, on)
    assert step == 0 or step > reached
    later = due_step(steps, DUE, state, on + timedelta(days=more))
    assert later >= step


@given(
    offsets=st.lists(st.integers(-10, 90), min_size=1, max_size=6),
    follow=st.lists(st.booleans(), min_size=6, max_size=6),
    late=st.integers(-20, 200),
    reached=st.integers(0, 6),
    reached_ago=st.integers(0, 60),
)
def test_the_ladder_answers_as_the_rule_for_any_steps(offsets, follow, late, reached, reached_ago):
    steps = [
        StepRule(i, offset, after_previous_days=7 if follow[i - 1] and i > 1 else None)
        for i, offset in enumerate(offsets, start=1)
    ]
    reached = min(reached, len(steps))
    on = DUE + timedelta(days=late)
    state = ItemState(reached, on - timedelta(days=reached_ago) if reached else None)
    assert Ladder(steps).due(DUE, state, on) == due_step(steps, DUE, state, on)
