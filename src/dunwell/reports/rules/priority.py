"""The collector's priority score of an account, why it is there, and the next best action.

A collector cannot call 5,000 customers a day; the worklist puts first the accounts where a call
today is worth the most. The score is a sum of seven documented components, each a number of
points with its own weight (the most points it can give) and cap (the value at which it gives them
all), so that the total is always between 0 and 100 and a reader can redo it by hand:

=====================  ======  ============================================  ===================
component              weight  points                                        cap
=====================  ======  ============================================  ===================
overdue amount          30     30 x log10(1 + overdue) / log10(1 + cap)      100,000.00 (base)
oldest item's age       20     20 x days past due of the oldest / cap        120 days
amount-weighted age      5     5 x weighted days past due / cap              90 days
promises not kept       15     8 a broken, 4 a partly kept one (12 months)   15 points
open disputes           10     10 x log10(1 + disputed) / log10(1 + cap)     10,000.00 (base)
tasks due               10     5 a task due today or before                  10 points
expected loss            5     5 x log10(1 + loss) / log10(1 + cap)          10,000.00 (base)
predicted lateness       5     5 x predicted days late / cap                 60 days
=====================  ======  ============================================  ===================

Each component is rounded half-up to a whole point, the score is their sum. Amounts count in the
company's base currency (the caller converts each currency at the day's stored rate) and in major
units (euros, not cents), on a logarithmic scale: the step from 1,000 to 10,000 overdue matters as
much as the step from 10,000 to 100,000, so a large account does not drown every other signal.

Expected loss and predicted lateness (issue 7) replaced the stand-in "risk" of decision 0016 (the
share of the overdue more than 60 days past due), and took five points of the weighted age, which
the predicted lateness reads better: the **expected loss** is what the company's loss rates (the
bad-debt reserve's matrix, `reports.reserve`, per segment) expect to lose of the account's open
items by bucket of days past due; the **predicted lateness** is the amount-weighted days beyond
the due date at which the payment-date model (`credit.prediction`) expects the open invoices to
be paid (0 without predictions, and never below 0).

Worked example, as of 2026-12-01, base currency EUR: EUR 12,400.00 overdue, the oldest item 67 days
past due, weighted by amount 40 days; one promise broken on 2026-11-20; no dispute; 2 tasks due;
an expected loss of EUR 465.00; payment predicted 45 days late.

- overdue amount: 30 x log10(12,401) / log10(100,001) = 30 x 4.0935 / 5.0000 = 24.56 -> 25
- oldest age: 20 x 67 / 120 = 11.17 -> 11
- weighted age: 5 x 40 / 90 = 2.22 -> 2
- promises: one broken = 8
- disputes: 0
- tasks: 2 x 5 = 10
- expected loss: 5 x log10(466) / log10(10,001) = 5 x 2.6684 / 4.0000 = 3.34 -> 3
- predicted lateness: 5 x 45 / 60 = 3.75 -> 4

Score 25 + 11 + 2 + 8 + 0 + 10 + 3 + 4 = 63. The explanation names the largest components in words,
"EUR 12,400.00 overdue, oldest 67 days; promise broken on 2026-11-20; 2 tasks due", and the next
best action, the first that applies of: nothing while dunning is paused (a hold, a current payment
plan: "paused until ..."), follow up an open promise, resolve an open dispute, call now (a
promise was broken, or tasks are due), escalate to an agency (the last dunning step reached and
the debt older than 90 days), propose a plan (old, large debt), send a statement (overdue, none of
the above), nothing (nothing overdue).

The worklist's order is `rank`: accounts dunning is not paused for come first, by score, then by
the overdue amount (the larger first); an account that is paused keeps its score, shown, but
sorts after every one a collector can act on today.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum

from dunwell.core.money import Money, exponent

AMOUNT_WEIGHT, AMOUNT_CAP = 30, Decimal(100_000)
OLDEST_WEIGHT, OLDEST_CAP_DAYS = 20, 120
WEIGHTED_WEIGHT, WEIGHTED_CAP_DAYS = 5, 90
PROMISE_WEIGHT, BROKEN_POINTS, PARTLY_KEPT_POINTS = 15, 8, 4
DISPUTE_WEIGHT, DISPUTE_CAP = 10, Decimal(10_000)
TASK_WEIGHT, TASK_POINTS = 10, 5
LOSS_WEIGHT, LOSS_CAP = 5, Decimal(10_000)
LATENESS_WEIGHT, LATENESS_CAP_DAYS = 5, 60
PROMISE_LOOKBACK = timedelta(days=365)
ESCALATE_AFTER_DAYS = 90
PLAN_AFTER_DAYS = 60
PLAN_FROM = Decimal(5_000)  # base currency, major units
ONE = Decimal(1)


@dataclass(frozen=True)
class Account:
    """What the score reads about one account, as plain values.

    Amounts are minor units of `base_currency`; ages are days past due as of `on`; `over_60_minor`
    is the part of `overdue_minor` more than 60 days past due. `broken_on` is the latest day a
    promise was found broken (within 12 months), `promise_due_on` the date of the open promise
    that comes due first, `dispute_id` the oldest open dispute, `paused_until` the end of a hold
    (dunning or credit) or of the current payment plan (`paused_by` says which)."""

    on: date
    base_currency: str
    overdue_minor: int = 0
    oldest_days: int = 0
    weighted_days: int = 0
    over_60_minor: int = 0
    broken_promises: int = 0
    partly_kept_promises: int = 0
    broken_on: date | None = None
    promise_due_on: date | None = None
    disputed_minor: int = 0
    open_disputes: int = 0
    dispute_id: int | None = None
    tasks_due: int = 0
    step_reached: int = 0
    at_last_step: bool = False
    paused_until: date | None = None
    paused_by: str = ""
    expected_loss_minor: int = 0
    predicted_lateness_days: int = 0


class Action(Enum):
    NOTHING = "nothing"
    PAUSED = "paused"
    FOLLOW_UP_PROMISE = "follow_up_promise"
    RESOLVE_DISPUTE = "resolve_dispute"
    CALL = "call"
    ESCALATE = "escalate"
    PROPOSE_PLAN = "propose_plan"
    SEND_STATEMENT = "send_statement"


@dataclass(frozen=True)
class Component:
    name: str
    points: int
    weight: int


@dataclass(frozen=True)
class Priority:
    score: int
    components: tuple[Component, ...]
    explanation: str
    action: Action
    action_text: str


def _half_up(value: Decimal) -> int:
    return int(value.quantize(ONE, rounding=ROUND_HALF_UP))


def _major(minor: int, currency: str) -> Decimal:
    return Decimal(max(minor, 0)).scaleb(-exponent(currency))


def log_points(amount: Decimal, weight: int, cap: Decimal) -> int:
    """round_half_up(weight x log10(1 + amount) / log10(1 + cap)), at most `weight`: the
    definition, as the module docstring states it (the reference for `_log_points`)."""
    if amount <= 0:
        return 0
    return _half_up(weight * min(ONE, (ONE + amount).log10() / (ONE + cap).log10()))


def _thresholds(weight: int, cap: Decimal) -> tuple[Decimal, ...]:
    """The least amount that earns each point from 1 to `weight` (where the formula reaches
    p - 0.5): a score looks its points up among them instead of taking a logarithm per account
    (a refresh scores 100,000 accounts; `Decimal.log10` costs ~100 us)."""
    scale = (ONE + cap).log10() / weight
    return tuple(Decimal(10) ** ((p - Decimal("0.5")) * scale) - ONE for p in range(1, weight + 1))


_STEPS = {(AMOUNT_WEIGHT, AMOUNT_CAP): _thresholds(AMOUNT_WEIGHT, AMOUNT_CAP),
          (DISPUTE_WEIGHT, DISPUTE_CAP): _thresholds(DISPUTE_WEIGHT, DISPUTE_CAP),
          (LOSS_WEIGHT, LOSS_CAP): _thresholds(LOSS_WEIGHT, LOSS_CAP)}  # fmt: skip


def _log_points(amount: Decimal, weight: int, cap: Decimal) -> int:
    return bisect_right(_STEPS[(weight, cap)], amount) if amount > 0 else 0


def _linear(value: int, cap: int) -> Decimal:
    return min(ONE, Decimal(max(value, 0)) / Decimal(cap))


def components(account: Account) -> tuple[Component, ...]:
    a, cur = account, account.base_currency
    overdue = _major(a.overdue_minor, cur)
    promises = BROKEN_POINTS * a.broken_promises + PARTLY_KEPT_POINTS * a.partly_kept_promises
    return (
        Component("overdue", _log_points(overdue, AMOUNT_WEIGHT, AMOUNT_CAP), AMOUNT_WEIGHT),
        Component("oldest", _half_up(OLDEST_WEIGHT * _linear(a.oldest_days, OLDEST_CAP_DAYS)),
                  OLDEST_WEIGHT),
        Component("weighted_age",
                  _half_up(WEIGHTED_WEIGHT * _linear(a.weighted_days, WEIGHTED_CAP_DAYS)),
                  WEIGHTED_WEIGHT),
        Component("promises", min(PROMISE_WEIGHT, max(promises, 0)), PROMISE_WEIGHT),
        Component("disputes",
                  _log_points(_major(a.disputed_minor, cur), DISPUTE_WEIGHT, DISPUTE_CAP),
                  DISPUTE_WEIGHT),
        Component("tasks", min(TASK_WEIGHT, TASK_POINTS * max(a.tasks_due, 0)), TASK_WEIGHT),
        Component("expected_loss",
                  _log_points(_major(a.expected_loss_minor, cur), LOSS_WEIGHT, LOSS_CAP),
                  LOSS_WEIGHT),
        Component("lateness",
                  _half_up(LATENESS_WEIGHT * _linear(a.predicted_lateness_days,
                                                     LATENESS_CAP_DAYS)), LATENESS_WEIGHT),
    )  # fmt: skip


def _money(minor: int, currency: str) -> str:
    return f"{currency} {Money.from_minor(minor, currency).amount:,}"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def explanation(account: Account) -> str:
    """The reasons in words, most important first, each part only when it applies."""
    a, parts = account, []
    if a.overdue_minor > 0:
        parts.append(
            f"{_money(a.overdue_minor, a.base_currency)} overdue, oldest {a.oldest_days} days"
        )
    if a.broken_promises and a.broken_on is not None:
        text = f"promise broken on {a.broken_on.isoformat()}"
        if a.broken_promises > 1:
            text = f"{a.broken_promises} promises broken, the last on {a.broken_on.isoformat()}"
        parts.append(text)
    if a.partly_kept_promises:
        parts.append(_plural(a.partly_kept_promises, "promise partly kept", "promises partly kept"))
    if a.open_disputes:
        disputes = _plural(a.open_disputes, "dispute", "disputes")
        parts.append(f"{disputes} open ({_money(a.disputed_minor, a.base_currency)})")
    if a.tasks_due:
        parts.append(_plural(a.tasks_due, "task due", "tasks due"))
    if a.step_reached:
        parts.append(f"dunning step {a.step_reached}" + (" (the last)" if a.at_last_step else ""))
    if a.paused_until is not None:
        parts.append(f"paused by {a.paused_by or 'a hold'} until {a.paused_until.isoformat()}")
    return "; ".join(parts) if parts else "nothing overdue"


def _when(day: date, on: date) -> str:
    delta = (day - on).days
    names = {-1: "yesterday", 0: "today", 1: "tomorrow"}
    if delta in names:
        return names[delta]
    return f"on {day.isoformat()}"


def next_action(account: Account) -> tuple[Action, str]:  # noqa: PLR0911 - one return a rule, in order
    """The next best action and its words (the first rule that applies, as the module says)."""
    a = account
    if a.paused_until is not None and a.paused_until >= a.on:
        return Action.PAUSED, f"nothing: paused until {a.paused_until.isoformat()}"
    if a.overdue_minor <= 0 and not a.open_disputes and not a.tasks_due:
        return Action.NOTHING, "nothing: no overdue debt"
    if a.promise_due_on is not None:
        return (
            Action.FOLLOW_UP_PROMISE,
            f"follow up the promise due {_when(a.promise_due_on, a.on)}",
        )
    if a.dispute_id is not None:
        return Action.RESOLVE_DISPUTE, f"resolve dispute {a.dispute_id}"
    if a.broken_promises or a.tasks_due:
        return Action.CALL, "call now"
    if a.at_last_step and a.oldest_days > ESCALATE_AFTER_DAYS:
        return Action.ESCALATE, "escalate to agency"
    if a.oldest_days > PLAN_AFTER_DAYS and _major(a.overdue_minor, a.base_currency) >= PLAN_FROM:
        return Action.PROPOSE_PLAN, "propose a plan"
    if a.overdue_minor > 0:
        return Action.SEND_STATEMENT, "send statement"
    return Action.NOTHING, "nothing: no overdue debt"


def priority(account: Account) -> Priority:
    parts = components(account)
    action, text = next_action(account)
    return Priority(
        score=sum(c.points for c in parts),
        components=parts,
        explanation=explanation(account),
        action=action,
        action_text=text,
    )


RANK_SCALE = 10**15  # overdue minor units below this break ties of the score
ACTIVE = 101 * RANK_SCALE  # above any score's band: active accounts before paused ones


def rank(result: Priority, overdue_minor: int) -> int:
    """One integer that orders the worklist (descending), as the module docstring says."""
    active = 0 if result.action == Action.PAUSED else ACTIVE
    return active + result.score * RANK_SCALE + min(max(overdue_minor, 0), RANK_SCALE - 1)


def promise_counts_from(on: date) -> date:
    """The first day of the 12 months whose broken and partly kept promises count."""
    return on - PROMISE_LOOKBACK
