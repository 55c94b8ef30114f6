"""Payment plans: the instalment schedule, its interest, and each instalment's state on a day.

A plan pays a principal (the covered debt), plus optional interest and an optional fee, in
instalments. The schedule has n equal instalments every N months (month ends clamp:
`dunwell.core.dates.add_months` from the first due date, so 31 Jan, 28 Feb, 31 Mar) or every N
days, or custom dates and amounts. Amounts are integer minor units; the instalments always add up
to the plan's total exactly (`dunwell.core.money.split_minor`).

Interest (simple, a yearly percent, on the declining principal). Instalment k repays a share p_k
of the principal: equal shares for n equal instalments, shares in proportion to the amounts of a
custom schedule. Period k runs from the previous due date (the agreement date for the first) to
due date k, d_k days, on the principal still owed during it, P_k = principal - p_1 - ... - p_(k-1):

    interest_k = round_half_up(P_k x rate / 100 x d_k / 365)        interest = sum of interest_k

Worked example: EUR 3,000.00 agreed on 2026-12-01, 3 monthly instalments from 2027-01-01, 6 %.
Shares 1,000.00 each; periods of 31, 31 and 28 days on 3,000, 2,000 and 1,000:
3,000 x 6 % x 31/365 = 15.29 (15.287...), 2,000 x 6 % x 31/365 = 10.19 (10.191...),
1,000 x 6 % x 28/365 = 4.60 (4.602...): interest EUR 30.08. With a fee of EUR 25.00 the total is
EUR 3,055.08, paid as 3 x 1,018.36 (a total that does not divide evenly gives its remainder
cents to the first instalments: 100.00 in 3 is 33.34 + 33.33 + 33.33).

A custom schedule's amounts are what the customer pays: they must add up to the total,
principal + interest + fee (its interest computed as above from the shares its amounts imply).
With interest the total depends on the amounts, so the last amount may be left out: it is then
the rest, found by recomputing the interest with it until it no longer moves (the interest
changes by far less than the amount that changes it; two or three rounds).

Tracking: what was paid towards the plan is applied to the instalments in order; on a day each
is paid, partly paid, due, or missed (not fully paid once its date plus the grace days is past).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from dunwell.core.dates import add_months
from dunwell.core.money import round_half_up_integer, split_minor

DAYS_A_YEAR = 365
MAX_INSTALMENTS = 120


class PlanError(ValueError):
    """A schedule that cannot be agreed; `field` names the input at fault, and `row` the
    instalment (1 for the first) when one is."""

    def __init__(self, message: str, field: str, row: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.row = row


@dataclass(frozen=True, slots=True)
class Instalment:
    due_on: date
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Schedule:
    principal_minor: int
    interest_minor: int
    fee_minor: int
    instalments: tuple[Instalment, ...]

    @property
    def total_minor(self) -> int:
        return self.principal_minor + self.interest_minor + self.fee_minor


class ScheduleTotalError(PlanError):
    """A custom schedule whose amounts add up to `given_minor`, not to the total `needed` (its
    principal, interest and fee), so that a caller can state them in the plan's currency."""

    def __init__(self, message: str, given_minor: int, needed: Schedule) -> None:
        super().__init__(message, "schedule")
        self.given_minor = given_minor
        self.needed = needed


def due_dates(first: date, count: int, *, every_months: int = 0, every_days: int = 0) -> list[date]:
    """`count` due dates from `first`, every N months (counted from `first`) or every N days."""
    if not 1 <= count <= MAX_INSTALMENTS:
        raise PlanError(f"instalments {count}: expected 1 to {MAX_INSTALMENTS}", "instalments")
    if (every_months > 0) == (every_days > 0) or every_months < 0 or every_days < 0:
        raise PlanError("give the interval as a positive number of months or of days", "every")
    if every_months:
        return [add_months(first, k * every_months) for k in range(count)]
    return [first + timedelta(days=k * every_days) for k in range(count)]


def interest(
    principal_minor: int,
    shares: Sequence[int],
    dates: Sequence[date],
    agreed_on: date,
    yearly_percent: Decimal | None,
) -> int:
    """Simple interest on the declining principal, period by period (see the module)."""
    if yearly_percent is None or yearly_percent == 0:
        return 0
    owed, since, result = principal_minor, agreed_on, 0
    for share, due_on in zip(shares, dates, strict=True):
        days = (due_on - since).days
        result += round_half_up_integer(Decimal(owed) * yearly_percent * days / (100 * DAYS_A_YEAR))
        owed, since = owed - share, due_on
    return result


def _check_common(principal_minor: int, fee_minor: int, yearly_percent: Decimal | None) -> None:
    if principal_minor <= 0:
        raise PlanError("a plan is for a debt of more than zero", "items")
    if fee_minor < 0:
        raise PlanError("a fee cannot be negative", "fee")
    if yearly_percent is not None and not Decimal(0) <= yearly_percent <= Decimal(100):
        raise PlanError(f"interest {yearly_percent} %: expected 0 to 100", "interest")


def _check_dates(dates: Sequence[date], agreed_on: date) -> None:
    if dates[0] < agreed_on:
        raise PlanError(
            f"the first instalment {dates[0].isoformat()} is before the agreement "
            f"{agreed_on.isoformat()}",
            "first",
            row=1,
        )
    for row, (before, after) in enumerate(pairwise(dates), start=2):
        if after <= before:
            raise PlanError(
                f"instalment dates must increase: {after.isoformat()} after {before.isoformat()}",
                "due_on",
                row=row,
            )


def equal_schedule(
    principal_minor: int,
    count: int,
    first_due_on: date,
    *,
    agreed_on: date,
    every_months: int = 0,
    every_days: int = 0,
    yearly_percent: Decimal | None = None,
    fee_minor: int = 0,
) -> Schedule:
    """`count` equal instalments (to the cent; the remainder cents go first)."""
    _check_common(principal_minor, fee_minor, yearly_percent)
    dates = due_dates(first_due_on, count, every_months=every_months, every_days=every_days)
    _check_dates(dates, agreed_on)
    shares = split_minor(principal_minor, [1] * count)
    if min(shares) <= 0:
        raise PlanError(f"{count} instalments of a debt this small leave some at zero",
                        "instalments")  # fmt: skip
    charged = interest(principal_minor, shares, dates, agreed_on, yearly_percent)
    amounts = split_minor(principal_minor + charged + fee_minor, [1] * count)
    return Schedule(principal_minor, charged, fee_minor,
                    tuple(Instalment(d, a) for d, a in zip(dates, amounts, strict=True)))  # fmt: skip


def custom_schedule(
    principal_minor: int,
    rows: Sequence[tuple[date, int | None]],
    *,
    agreed_on: date,
    yearly_percent: Decimal | None = None,
    fee_minor: int = 0,
) -> Schedule:
    """The given (date, amount) instalments, checked: increasing dates, positive amounts that add
    up to principal + interest + fee. The last amount may be None: the rest (see the module)."""
    _check_common(principal_minor, fee_minor, yearly_percent)
    if not rows:
        raise PlanError("a schedule needs at least one instalment", "schedule")
    if len(rows) > MAX_INSTALMENTS:
        raise PlanError(f"at most {MAX_INSTALMENTS} instalments", "schedule")
    dates = [d for d, _ in rows]
    given = [a for _, a in rows]
    for row, amount in enumerate(given, start=1):
        if amount is None and row < len(given):
            raise PlanError("only the last instalment's amount may be left out", "amount", row=row)
        if amount is not None and amount <= 0:
            raise PlanError("every instalment must be more than zero", "amount", row=row)
    _check_dates(dates, agreed_on)
    amounts = [a for a in given if a is not None]
    if given[-1] is None:
        amounts.append(_rest(principal_minor, amounts, dates, agreed_on, yearly_percent, fee_minor))
    shares = split_minor(principal_minor, amounts)
    charged = interest(principal_minor, shares, dates, agreed_on, yearly_percent)
    schedule = Schedule(principal_minor, charged, fee_minor,
                        tuple(Instalment(d, a) for d, a in zip(dates, amounts, strict=True)))  # fmt: skip
    if sum(amounts) != schedule.total_minor:
        raise ScheduleTotalError(
            f"the instalments add up to {sum(amounts)} minor units; the plan's total is "
            f"{schedule.total_minor} (principal {principal_minor} + interest {charged} + fee "
            f"{fee_minor})",
            sum(amounts),
            schedule,
        )
    return schedule


def _rest(
    principal_minor: int, amounts: list[int], dates: list[date], agreed_on: date,
    yearly_percent: Decimal | None, fee_minor: int,
) -> int:  # fmt: skip
    """The last instalment that makes the amounts add up to the total their shares imply."""
    rest = principal_minor + fee_minor - sum(amounts)
    for _ in range(10):
        if rest <= 0:
            raise PlanError(
                "the instalments given already cover the plan's total: nothing is left for the "
                "last", "amount", row=len(dates),
            )  # fmt: skip
        shares = split_minor(principal_minor, [*amounts, rest])
        charged = interest(principal_minor, shares, dates, agreed_on, yearly_percent)
        needed = principal_minor + charged + fee_minor - sum(amounts)
        if needed == rest:
            return rest
        rest = needed
    return rest  # no amount is its own rest (a cent flipping): the total check below says so


class State(StrEnum):
    DUE = "due"
    PAID = "paid"
    PARTLY_PAID = "partly_paid"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Standing:
    """An instalment on a day: how much of it is paid, its state, and when it was paid in full."""

    paid_minor: int
    state: State
    settled_on: date | None


def missed_after(due_on: date, grace_days: int) -> date:
    """The last day an instalment may be paid: from the day after, unpaid, it is missed."""
    return due_on + timedelta(days=grace_days)


def standings(
    instalments: Sequence[Instalment],
    payments: Sequence[tuple[date, int]],
    *,
    on: date,
    grace_days: int,
) -> list[Standing]:
    """Each instalment's standing on `on`, the payments (effective date, signed amount: a
    reversal is negative) up to `on` applied to the instalments in order."""
    events = sorted((d, a) for d, a in payments if d <= on)
    thresholds, running = [], 0
    for instalment in instalments:
        running += instalment.amount_minor
        thresholds.append(running)
    settled: list[date | None] = [None] * len(instalments)
    paid = 0
    for day, amount in events:
        paid += amount
        for k, threshold in enumerate(thresholds):
            if paid >= threshold and settled[k] is None:
                settled[k] = day
            elif paid < threshold:
                settled[k] = None
    result, before = [], 0
    for k, instalment in enumerate(instalments):
        part = max(0, min(instalment.amount_minor, paid - before))
        before += instalment.amount_minor
        if part == instalment.amount_minor:
            state = State.PAID
        elif on > missed_after(instalment.due_on, grace_days):
            state = State.MISSED
        else:
            state = State.PARTLY_PAID if part else State.DUE
        result.append(Standing(part, state, settled[k] if state is State.PAID else None))
    return result
