"""The priority score: the module docstring's worked example, its bounds, the words and the action."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.core.money import exponent
from dunwell.reports.rules.priority import (
    AMOUNT_CAP,
    AMOUNT_WEIGHT,
    DISPUTE_CAP,
    DISPUTE_WEIGHT,
    RANK_SCALE,
    Account,
    Action,
    _log_points,
    explanation,
    log_points,
    next_action,
    priority,
    rank,
)

ON = date(2026, 12, 1)
EXAMPLE = Account(
    on=ON, base_currency="EUR", overdue_minor=1_240_000, oldest_days=67, weighted_days=40,
    over_60_minor=310_000, broken_promises=1, broken_on=date(2026, 11, 20), tasks_due=2,
    expected_loss_minor=46_500, predicted_lateness_days=45,
)  # fmt: skip


def test_the_docstring_example_scores_63_with_its_components():
    result = priority(EXAMPLE)
    assert {c.name: c.points for c in result.components} == {
        "overdue": 25, "oldest": 11, "weighted_age": 2, "promises": 8, "disputes": 0,
        "tasks": 10, "expected_loss": 3, "lateness": 4,
    }  # fmt: skip
    assert result.score == 63
    assert sum(c.weight for c in result.components) == 100


def test_the_explanation_names_the_reasons_in_words():
    assert explanation(EXAMPLE) == (
        "EUR 12,400.00 overdue, oldest 67 days; promise broken on 2026-11-20; 2 tasks due"
    )


def test_an_account_with_nothing_overdue_scores_zero_and_needs_nothing():
    result = priority(Account(on=ON, base_currency="EUR"))
    assert (result.score, result.explanation, result.action) == (
        0,
        "nothing overdue",
        Action.NOTHING,
    )


def test_everything_at_its_cap_scores_100():
    account = Account(
        on=ON, base_currency="EUR", overdue_minor=10**12, oldest_days=400, weighted_days=400,
        over_60_minor=10**12, broken_promises=5, disputed_minor=10**10, open_disputes=1,
        dispute_id=3, tasks_due=9, expected_loss_minor=10**12, predicted_lateness_days=400,
    )  # fmt: skip
    assert priority(account).score == 100


@pytest.mark.parametrize(
    ("changes", "action", "text"),
    [
        ({"paused_until": date(2026, 12, 15), "paused_by": "a dunning hold"}, Action.PAUSED,
         "nothing: paused until 2026-12-15"),
        ({"promise_due_on": ON + timedelta(days=1)}, Action.FOLLOW_UP_PROMISE,
         "follow up the promise due tomorrow"),
        ({"promise_due_on": date(2026, 12, 9)}, Action.FOLLOW_UP_PROMISE,
         "follow up the promise due on 2026-12-09"),
        ({"dispute_id": 12, "open_disputes": 1}, Action.RESOLVE_DISPUTE, "resolve dispute 12"),
        ({"tasks_due": 1}, Action.CALL, "call now"),
        ({"oldest_days": 120, "at_last_step": True}, Action.ESCALATE, "escalate to agency"),
        ({"oldest_days": 75}, Action.PROPOSE_PLAN, "propose a plan"),
        ({}, Action.SEND_STATEMENT, "send statement"),
        ({"overdue_minor": 0}, Action.NOTHING, "nothing: no overdue debt"),
    ],
)  # fmt: skip
def test_the_next_action_is_the_first_rule_that_applies(changes, action, text):
    base = {"on": ON, "base_currency": "EUR", "overdue_minor": 900_000, "oldest_days": 20}
    assert next_action(Account(**(base | changes))) == (action, text)


accounts = st.builds(
    Account,
    on=st.just(ON),
    base_currency=st.sampled_from(["EUR", "JPY", "KWD"]),
    overdue_minor=st.integers(0, 10**13),
    oldest_days=st.integers(0, 5000),
    weighted_days=st.integers(0, 5000),
    over_60_minor=st.integers(0, 10**13),
    broken_promises=st.integers(0, 20),
    partly_kept_promises=st.integers(0, 20),
    disputed_minor=st.integers(0, 10**12),
    tasks_due=st.integers(0, 50),
)


@given(accounts)
def test_the_score_is_the_sum_of_capped_components_between_0_and_100(account):
    result = priority(account)
    assert all(0 <= c.points <= c.weight for c in result.components)
    assert sum(c.weight for c in result.components) == 100
    assert result.score == sum(c.points for c in result.components)
    assert 0 <= result.score <= 100


@given(accounts, st.integers(1, 10**9))
def test_more_overdue_never_lowers_the_score(account, more):
    bigger = Account(**(account.__dict__ | {"overdue_minor": account.overdue_minor + more,
                                            "over_60_minor": account.over_60_minor}))  # fmt: skip
    components = {c.name: c.points for c in priority(bigger).components}
    before = {c.name: c.points for c in priority(account).components}
    assert components["overdue"] >= before["overdue"]


@given(accounts, accounts)
def test_a_paused_account_ranks_after_any_account_that_is_not(active, paused):
    held = Account(**(paused.__dict__ | {"paused_until": ON, "paused_by": "a dunning hold"}))
    assert rank(priority(active), active.overdue_minor) > rank(priority(held), held.overdue_minor)


@given(accounts)
def test_a_higher_score_ranks_first_whatever_the_amounts(account):
    result = priority(account)
    assert rank(result, account.overdue_minor) // RANK_SCALE % 101 == result.score


@given(st.integers(0, 10**12), st.sampled_from(["EUR", "JPY", "KWD"]))
def test_the_looked_up_points_are_the_formulas(minor, currency):
    amount = Decimal(minor).scaleb(-exponent(currency))
    for weight, cap in ((AMOUNT_WEIGHT, AMOUNT_CAP), (DISPUTE_WEIGHT, DISPUTE_CAP)):
        assert _log_points(amount, weight, cap) == log_points(amount, weight, cap)
