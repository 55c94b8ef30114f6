"""Agreeing, tracking, deciding and cancelling payment plans, each one transaction with its
history entries (on the customer, and on the covered invoices where their dunning changes).

- `agree_plan`: the schedule (`cases.rules.plans`), the covered items, and the plan's interest and
  fee booked as open items of their own (PLAN-12-INTEREST, PLAN-12-FEE), covered by the plan too.
- `track_payments`: what was paid towards a plan since it was agreed (payments and credit notes
  allocated to its items, net of reversals) fills its instalments in order; all paid: completed.
- `decide_due`: an instalment not fully paid once its date plus the grace days is past is missed,
  the plan defaults (the items are dunned again), an escalation and an alert for the owner.

Automatic entries carry keys (`plan-12-...`): running a day again records nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum

from dunwell.cases.models import (
    Escalation,
    EscalationSource,
    InstalmentState,
    PaymentPlan,
    PlanInstalment,
    PlanItem,
    PlanState,
    Task,
    TaskKind,
)
from dunwell.cases.rules import plans as rules
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.ledger.lock_objects import lock
from dunwell.ledger.models import (
    ActivityKind,
    Allocation,
    AllocationKind,
    Customer,
    ItemKind,
    OpenItem,
)
from dunwell.ledger.services import activity
from dunwell.ledger.services.allocations import void_item
from dunwell.ledger.services.documents import ItemInput, issue_item, payment_reference_for

PLANNABLE = (ItemKind.INVOICE, ItemKind.FEE, ItemKind.INTEREST)
# What the customer paid towards the plan: money and credit notes, not write-offs or voids.
PAID_KINDS = (AllocationKind.PAYMENT, AllocationKind.CREDIT)


def _money(minor: int, currency: str) -> Money:
    return Money.from_minor(minor, currency)


def plan_reference(plan: PaymentPlan) -> str:
    """The RF creditor reference the customer quotes with every instalment."""
    return payment_reference_for(f"PLAN{plan.pk}")


@transaction.atomic
def agree_plan(
    *,
    company: Company,
    customer: Customer,
    items: Sequence[OpenItem],
    instalments: int | None = None,
    every_months: int = 0,
    every_days: int = 0,
    first_due_on: date | None = None,
    schedule: Sequence[tuple[date, int | None]] | None = None,
    interest_percent: Decimal | None = None,
    fee_minor: int = 0,
    grace_days: int = 5,
    agreed_by: str = "",
    note: str = "",
    actor: User | None,
    on: date,
    at: datetime,
) -> PaymentPlan:
    """A plan for all that is open on `items`: `instalments` equal ones from `first_due_on`
    every N months (1 when neither interval is given) or days, or the `schedule` given."""
    covered = _coverable(company, customer, items)
    currency = covered[0].currency
    principal = sum(item.open_minor for item in covered)
    planned = _schedule(principal, instalments, every_months, every_days, first_due_on, schedule,
                        interest_percent, fee_minor, on, currency)  # fmt: skip
    if not 0 <= grace_days <= 90:
        raise DunwellError(ErrorCode.INVALID, f"grace {grace_days} days: expected 0 to 90",
                           field="grace")  # fmt: skip
    plan = PaymentPlan.objects.create(
        company=company, customer=customer, currency=currency, state=PlanState.ACTIVE,
        principal_minor=principal, interest_percent=interest_percent,
        interest_minor=planned.interest_minor, fee_minor=planned.fee_minor,
        total_minor=planned.total_minor, grace_days=grace_days, agreed_on=on,
        agreed_by=agreed_by.strip()[:120], note=note, created_at=at,
        created_by=activity.stored_actor(actor),
    )  # fmt: skip
    last_due = planned.instalments[-1].due_on
    charges = [
        _charge(plan, covered[0], kind, amount, last_due, actor, at)
        for kind, amount in (
            (ItemKind.INTEREST, planned.interest_minor),
            (ItemKind.FEE, planned.fee_minor),
        )
        if amount
    ]
    PlanItem.objects.bulk_create(
        PlanItem(plan=plan, item=item, amount_minor=item.open_minor) for item in covered + charges
    )
    PlanInstalment.objects.bulk_create(
        PlanInstalment(plan=plan, sequence=k, due_on=i.due_on, amount_minor=i.amount_minor)
        for k, i in enumerate(planned.instalments, start=1)
    )
    first = planned.instalments[0]
    extras = "".join(f", {label} {_money(a, currency)}" for label, a in
                     (("interest", planned.interest_minor), ("fee", planned.fee_minor)) if a)  # fmt: skip
    summary = (
        f"payment plan {plan.pk} agreed{f' with {plan.agreed_by}' if plan.agreed_by else ''}: "
        f"{_money(planned.total_minor, currency)} in {len(planned.instalments)} instalments "
        f"from {first.due_on.isoformat()} (first {_money(first.amount_minor, currency)}) for "
        f"{', '.join(item.number for item in covered)}{extras}"
    )
    _record(plan, ActivityKind.PLAN_AGREED, on, at, actor, summary, on_items=True)
    return plan


def _coverable(company: Company, customer: Customer, items: Sequence[OpenItem]) -> list[OpenItem]:
    if not items:
        raise DunwellError(ErrorCode.INVALID, "a plan covers at least one invoice", field="items")
    if customer.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no customer {customer.account_number} here")
    locked = lock(OpenItem, [item.pk for item in items])
    covered = [locked[item.pk] for item in dict.fromkeys(items)]
    for item in covered:
        if item.company_id != company.pk or item.customer_id != customer.pk:
            raise DunwellError(ErrorCode.NOT_FOUND, f"{item} is not {customer.account_number}'s",
                               field="items")  # fmt: skip
        if item.kind not in PLANNABLE or item.open_minor <= 0 or item.voided_on:
            raise DunwellError(ErrorCode.INVALID, f"{item} has nothing open to plan",
                               field="items")  # fmt: skip
    currencies = sorted({item.currency for item in covered})
    if len(currencies) > 1:
        raise DunwellError(ErrorCode.CURRENCY_MISMATCH, "a plan is in one currency: the invoices "
                           f"are in {' and '.join(currencies)}", field="items")  # fmt: skip
    taken = PlanItem.objects.filter(item__in=covered, plan__state=PlanState.ACTIVE).select_related(
        "item"
    )
    for planned in taken:
        raise DunwellError(ErrorCode.CONFLICT, f"{planned.item} is already in payment plan "
                           f"{planned.plan_id}", field="items")  # fmt: skip
    return sorted(covered, key=lambda item: (item.due_on, item.number))


def _schedule(
    principal: int, count: int | None, every_months: int, every_days: int, first: date | None,
    rows: Sequence[tuple[date, int | None]] | None, percent: Decimal | None, fee: int, on: date,
    currency: str,
) -> rules.Schedule:  # fmt: skip
    try:
        if rows is not None:
            if count is not None:
                raise rules.PlanError("give a number of instalments or a schedule, not both",
                                      "schedule")  # fmt: skip
            return rules.custom_schedule(principal, rows, agreed_on=on, yearly_percent=percent,
                                         fee_minor=fee)  # fmt: skip
        if count is None or first is None:
            raise rules.PlanError("give a number of instalments and the first due date, or a "
                                  "schedule", "instalments")  # fmt: skip
        months = every_months or (0 if every_days else 1)
        return rules.equal_schedule(principal, count, first, agreed_on=on, every_months=months,
                                    every_days=every_days, yearly_percent=percent,
                                    fee_minor=fee)  # fmt: skip
    except rules.ScheduleTotalError as error:
        raise DunwellError(
            ErrorCode.INVALID, _short_of(error, currency), field=error.field
        ) from None
    except rules.PlanError as error:
        raise DunwellError(
            ErrorCode.INVALID, str(error), field=error.field, row=error.row
        ) from None


def _short_of(error: rules.ScheduleTotalError, currency: str) -> str:
    """What a custom schedule's amounts add up to, and the total they must, in money."""
    needed = error.needed
    return (f"the instalments add up to {_money(error.given_minor, currency)}; the plan's total "
            f"is {_money(needed.total_minor, currency)} (principal "
            f"{_money(needed.principal_minor, currency)} + interest "
            f"{_money(needed.interest_minor, currency)} + fee {_money(needed.fee_minor, currency)})")  # fmt: skip


def _charge(plan: PaymentPlan, oldest: OpenItem, kind: ItemKind, amount: int, due_on: date,
            actor: User | None, at: datetime) -> OpenItem:  # fmt: skip
    label = "interest" if kind is ItemKind.INTEREST else "fee"
    spec = ItemInput(
        customer=plan.customer, number=f"PLAN-{plan.pk}-{label.upper()}", issued_on=plan.agreed_on,
        currency=plan.currency, gross_minor=amount, kind=kind, due_on=due_on, related=oldest,
        description=f"payment plan {plan.pk}: {label}", source=f"payment plan {plan.pk}",
    )  # fmt: skip
    return issue_item(company=plan.company, spec=spec, actor=actor, at=at)


@transaction.atomic
def cancel_plan(*, plan: PaymentPlan, reason: str, actor: User | None, on: date,
                at: datetime) -> PaymentPlan:  # fmt: skip
    """End an active plan by hand: its items are dunned again; its own interest and fee
    charges, when nothing was paid on them, are voided."""
    if not reason.strip():
        raise DunwellError(ErrorCode.INVALID, "a cancellation needs a reason", field="reason")
    if not PaymentPlan.objects.filter(pk=plan.pk, state=PlanState.ACTIVE).update(
        state=PlanState.CANCELLED, ended_on=on
    ):
        current = PaymentPlan.objects.get(pk=plan.pk)
        raise DunwellError(
            ErrorCode.CONFLICT, f"{plan} is {english(current.get_state_display).lower()}"
        )
    plan.refresh_from_db()
    charges = OpenItem.objects.filter(pk__in=plan.covered.values("item_id"),
                                      source=f"payment plan {plan.pk}", voided_on__isnull=True)  # fmt: skip
    for charge in charges:
        if charge.open_minor == charge.amount_minor and on >= charge.issued_on:
            void_item(company=plan.company, item=charge, on=on, actor=actor, at=at,
                      reason=f"payment plan {plan.pk} cancelled")  # fmt: skip
    _record(plan, ActivityKind.PLAN_CANCELLED, on, at, actor,
            f"payment plan {plan.pk} cancelled: {reason.strip()}", on_items=True)  # fmt: skip
    return plan


# -- following the money -------------------------------------------------------------------------


def track_payments(
    *, company: Company, customer_ids: Sequence[int], on: date, at: datetime, actor: User | None
) -> None:
    """Allocations to these customers' items were written in this transaction. The plans are
    locked first: a payment applied at the same moment to another covered item waits, then
    counts this one too (on PostgreSQL each statement sees what committed before it)."""
    active = PaymentPlan.objects.filter(
        company=company, customer_id__in=customer_ids, state=PlanState.ACTIVE
    )
    locked = active.select_for_update(of=("self",)).select_related("customer", "company")
    _track(list(locked.order_by("pk")), on, at, actor)


def _paid(plans: Sequence[PaymentPlan]) -> dict[int, list[tuple[date, int]]]:
    """Per plan: (effective date, amount) of what was paid towards it since it was agreed."""
    by_item = dict(PlanItem.objects.filter(plan__in=plans).values_list("item_id", "plan_id"))
    agreed = {plan.pk: plan.agreed_on for plan in plans}
    rows = (
        Allocation.objects.filter(target_id__in=by_item, kind__in=PAID_KINDS)
        .order_by()
        .values_list("target_id", "effective_on", "reversal_of__effective_on")
        .annotate(total=Sum("amount_minor"))
    )
    paid: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for item_id, effective_on, original_on, amount in rows:
        plan_id = by_item[item_id]
        if (original_on or effective_on) >= agreed[plan_id]:
            paid[plan_id].append((effective_on, amount))
    return paid


def _track(plans: Sequence[PaymentPlan], on: date, at: datetime, actor: User | None) -> None:
    if not plans:
        return
    paid = _paid(plans)
    by_plan: dict[int, list[PlanInstalment]] = defaultdict(list)
    for row in PlanInstalment.objects.filter(plan__in=plans).order_by("plan_id", "sequence"):
        by_plan[row.plan_id].append(row)
    changed: list[PlanInstalment] = []
    for plan in plans:
        rows = by_plan[plan.pk]
        schedule = [rules.Instalment(r.due_on, r.amount_minor) for r in rows]
        for row, standing in zip(rows, rules.standings(schedule, paid.get(plan.pk, []), on=on,
                                 grace_days=plan.grace_days), strict=True):  # fmt: skip
            # Missing an instalment is the daily decision's (`decide_due`), with its escalation.
            state = InstalmentState(standing.state.value)
            if state == InstalmentState.MISSED:
                state = InstalmentState.PARTLY_PAID if standing.paid_minor else InstalmentState.DUE
            if (row.paid_minor, row.state, row.settled_on) != (standing.paid_minor, state,
                                                                standing.settled_on):  # fmt: skip
                row.paid_minor, row.state, row.settled_on = (standing.paid_minor, state,
                                                             standing.settled_on)  # fmt: skip
                changed.append(row)
            if state == InstalmentState.PAID:
                _instalment_paid(plan, row, on, at, actor)
        if all(r.state == InstalmentState.PAID for r in rows):
            _complete(plan, on, at, actor)
    PlanInstalment.objects.bulk_update(changed, ["paid_minor", "state", "settled_on"])


def _instalment_paid(plan: PaymentPlan, row: PlanInstalment, on: date, at: datetime,
                     actor: User | None) -> None:  # fmt: skip
    amount = _money(row.amount_minor, plan.currency)
    activity.record(company=plan.company, kind=ActivityKind.INSTALMENT_PAID,
                    on=row.settled_on or on, at=at, actor=actor, customer=plan.customer,
                    amount_minor=row.amount_minor, currency=plan.currency,
                    summary=f"payment plan {plan.pk}: instalment {row.sequence} of {amount} due "
                    f"{row.due_on.isoformat()} paid", data={"plan": plan.pk},
                    key=f"plan-{plan.pk}-instalment-{row.sequence}-paid")  # fmt: skip


def _complete(plan: PaymentPlan, on: date, at: datetime, actor: User | None) -> None:
    if PaymentPlan.objects.filter(pk=plan.pk, state=PlanState.ACTIVE).update(
        state=PlanState.COMPLETED, ended_on=on
    ):
        plan.state, plan.ended_on = PlanState.COMPLETED, on
        _record(plan, ActivityKind.PLAN_COMPLETED, on, at, actor,
                f"payment plan {plan.pk} completed: "
                f"{_money(plan.total_minor, plan.currency)} paid", key="completed")  # fmt: skip


# -- the daily decision --------------------------------------------------------------------------


def decide_due(*, company: Company, on: date, at: datetime) -> list[PaymentPlan]:
    """The business date `on` has come: instalments past their date plus grace and not paid
    are missed, and their plans default. Returns the plans that defaulted today."""
    overdue = PlanInstalment.objects.filter(
        plan__company=company, plan__state=PlanState.ACTIVE, plan__agreed_on__lte=on,
        due_on__lt=on,
    ).exclude(state=InstalmentState.PAID)  # fmt: skip
    candidates = lock(PaymentPlan, overdue.values_list("plan_id", flat=True).distinct())
    plans = [p for p in candidates.values() if p.state == PlanState.ACTIVE]
    if not plans:
        return []
    for plan in plans:
        plan.company = company
    customers = Customer.objects.in_bulk({plan.customer_id for plan in plans})
    for plan in plans:
        plan.customer = customers[plan.customer_id]
    _track(plans, on, at, None)  # allocations that came in by any path count first
    missed = [
        row
        for row in PlanInstalment.objects.filter(plan__in=plans, plan__state=PlanState.ACTIVE)
        .exclude(state=InstalmentState.PAID).select_related("plan")
        if on > rules.missed_after(row.due_on, row.plan.grace_days)
    ]  # fmt: skip
    by_plan: dict[int, list[PlanInstalment]] = defaultdict(list)
    for row in missed:
        by_plan[row.plan_id].append(row)
    defaulted = [plan for plan in plans if plan.pk in by_plan]
    for plan in defaulted:
        _default(plan, by_plan[plan.pk], on, at)
    return defaulted


def _default(plan: PaymentPlan, missed: Iterable[PlanInstalment], on: date, at: datetime) -> None:
    rows = list(missed)
    PlanInstalment.objects.filter(pk__in=[r.pk for r in rows]).update(state=InstalmentState.MISSED)
    PaymentPlan.objects.filter(pk=plan.pk).update(state=PlanState.DEFAULTED, ended_on=on)
    plan.state, plan.ended_on = PlanState.DEFAULTED, on
    for row in rows:
        short = _money(row.amount_minor - row.paid_minor, plan.currency)
        activity.record(company=plan.company, kind=ActivityKind.INSTALMENT_MISSED, on=on, at=at,
                        actor=None, customer=plan.customer,
                        amount_minor=row.amount_minor - row.paid_minor, currency=plan.currency,
                        summary=f"payment plan {plan.pk}: instalment {row.sequence} due "
                        f"{row.due_on.isoformat()} missed ({short} unpaid after "
                        f"{plan.grace_days} days' grace)", data={"plan": plan.pk},
                        key=f"plan-{plan.pk}-instalment-{row.sequence}-missed")  # fmt: skip
    first = rows[0]
    reason = (f"payment plan {plan.pk} defaulted: instalment {first.sequence} due "
              f"{first.due_on.isoformat()} missed")  # fmt: skip
    _record(plan, ActivityKind.PLAN_DEFAULTED, on, at, None,
            f"{reason}; the invoices are dunned again", on_items=True, key="defaulted")  # fmt: skip
    item_ids = sorted(plan.covered.values_list("item_id", flat=True))
    Escalation.objects.bulk_create(
        [Escalation(company=plan.company, customer=plan.customer,
                    source=EscalationSource.PLAN_DEFAULT, reason=reason[:200], item_ids=item_ids,
                    raised_on=on, created_at=at, key=f"plan-{plan.pk}")],
        ignore_conflicts=True,
    )  # fmt: skip
    Task.objects.bulk_create(
        [Task(company=plan.company, customer=plan.customer, kind=TaskKind.ALERT,
              title=f"{plan.customer.legal_name}: {reason}"[:200], due_on=on,
              assignee_id=plan.customer.owner_id, source=f"plan {plan.pk}", created_at=at,
              key=f"plan-{plan.pk}-defaulted")],
        ignore_conflicts=True,
    )  # fmt: skip


def _record(plan: PaymentPlan, kind: ActivityKind, on: date, at: datetime, actor: User | None,
            summary: str, *, on_items: bool = False, key: str | None = None) -> None:  # fmt: skip
    activity.record(company=plan.company, kind=kind, on=on, at=at, actor=actor,
                    customer=plan.customer, amount_minor=plan.total_minor, currency=plan.currency,
                    summary=summary[:300], data={"plan": plan.pk},
                    key=f"plan-{plan.pk}-{key}" if key else None)  # fmt: skip
    if not on_items:
        return
    for covered in plan.covered.select_related("item", "item__company", "item__customer"):
        activity.record(company=plan.company, kind=kind, on=on, at=at, actor=actor,
                        customer=plan.customer, item=covered.item,
                        amount_minor=covered.amount_minor, currency=plan.currency,
                        summary=f"{summary} [plan {plan.pk}]"[:300],
                        key=f"plan-{plan.pk}-{key}-item-{covered.item_id}" if key else None)  # fmt: skip
