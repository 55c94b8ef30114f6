"""Which step of a policy an open item has come to on a business date, and what one message to a
customer carries (issue 3 point 2).

A policy is an ordered list of steps. A step is due for an item from its trigger date on: the
due date + `offset_days` (negative: a courtesy reminder before it), or, for a step that follows
the previous one, the day that step was reached + `after_previous_days`. Eligibility is "trigger
on or before the business date", so a run that was missed is caught up by the next one, which
sends only the highest step now due: an item 40 days late that was never reminded gets the
30-day step, not the 7-day one and then the 30-day one.

Example, steps at -3, +7, +30 days, an invoice due 1 March reached nothing yet: on 25 February
nothing; on 26 February step 1; on 15 March (step 1 reached on 26 February) step 2; if the runs
of March were all missed, on 2 April step 3 directly.

One message goes to each (customer, currency, policy) with at least one item whose step is due.
It lists every overdue item of that group with its age, and takes the tone, channels and
recipients of the highest step among the items' due steps. Each item then records the step it
came to (its own, not the message's).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from operator import attrgetter
from typing import Any, NamedTuple


@dataclass(frozen=True)
class StepRule:
    sequence: int  # 1, 2, 3 ... in the policy's order
    offset_days: int  # from the due date (ignored when `after_previous_days` is set)
    after_previous_days: int | None = None


@dataclass(frozen=True)
class ItemState:
    reached: int = 0  # the sequence of the last step reached; 0: none
    reached_on: date | None = None


class StepError(ValueError):
    """A policy whose steps cannot be followed (no step, sequences out of order)."""


def check_steps(steps: Sequence[StepRule]) -> None:
    if not steps:
        raise StepError("a policy needs at least one step")
    sequences = [s.sequence for s in steps]
    if sequences != list(range(1, len(steps) + 1)):
        raise StepError(f"steps must be numbered 1, 2, 3 ... in order, got {sequences}")
    if steps[0].after_previous_days is not None:
        raise StepError("the first step has no previous step to follow")
    for step in steps:
        if step.after_previous_days is not None and step.after_previous_days < 1:
            raise StepError(
                f"step {step.sequence}: a step follows the previous one by 1 day or more"
            )


def trigger_on(step: StepRule, due_on: date, state: ItemState) -> date | None:
    """The first day `step` may be sent for an item, or None while that cannot be known."""
    if step.after_previous_days is None:
        return due_on + timedelta(days=step.offset_days)
    if state.reached == step.sequence - 1 and state.reached_on is not None:
        return state.reached_on + timedelta(days=step.after_previous_days)
    return None


def due_step(steps: Sequence[StepRule], due_on: date, state: ItemState, on: date) -> int:
    """The highest step now due for the item, or 0 when none is.

    Steps at or below the one reached are done. A step that follows the previous one can only
    come right after the step reached (its trigger depends on the day that one was reached).
    """
    found = 0
    for step in steps:
        if step.sequence <= state.reached:
            continue
        trigger = trigger_on(step, due_on, state)
        if step.after_previous_days is not None and step.sequence != state.reached + 1:
            break  # it waits for the step before it to be reached
        if trigger is None or trigger > on:
            if step.after_previous_days is not None:
                break
            continue
        found = step.sequence
    return found


class Ladder:
    """`due_step` for many items of one policy: a ladder of steps relative to the due date (the
    usual kind) is answered by one binary search on the days late."""

    def __init__(self, steps: Sequence[StepRule]) -> None:
        self.steps = tuple(steps)
        offsets = [s.offset_days for s in self.steps]
        plain = all(s.after_previous_days is None for s in self.steps)
        self.offsets = offsets if plain and offsets == sorted(offsets) else None

    def due(self, due_on: date, state: ItemState, on: date) -> int:
        if self.offsets is None:
            return due_step(self.steps, due_on, state, on)
        reached = bisect_right(self.offsets, (on - due_on).days)  # steps whose trigger has come
        return reached if reached > state.reached else 0


NO_STATE = ItemState()


class Candidate(NamedTuple):
    """An open item of a group as the run sees it on its business date."""

    item_id: int
    number: str
    due_on: date
    open_minor: int
    due_step: int  # 0: listed (overdue) but no new step is due for it


def message_step(candidates: Sequence[Candidate]) -> int:
    """The step a group's message takes: the highest due step among its items (0: no message)."""
    return max((c.due_step for c in candidates), default=0)


_OLDEST_FIRST = attrgetter("due_on", "number")


def overdue(candidates: Sequence[Candidate], on: date) -> list[Candidate]:
    """The items a message lists: those past their due date, oldest first."""
    return sorted((c for c in candidates if c.due_on < on), key=_OLDEST_FIRST)


def listed(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a decision its message is about: a paused item is only mentioned."""
    return [row for row in rows if not row.get("paused")]
