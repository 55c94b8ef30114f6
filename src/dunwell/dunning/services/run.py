"""The daily dunning run of one company on one business date (issue 3 point 4).

Reads, set-based, every open item that is overdue or close to it (its open amount as of the
business date, rebuilt from allocations), the steps each has reached, the policies and their
assignment, and the pauses in force; decides per (customer billed, currency, policy) what is due
(`dunning.rules.steps`); writes a `Decision` for every group that has something due, and for a
message its outbox rows, one per channel, and the step each item has come to.

Escalations (`cases.Escalation`: a broken promise, a defaulted plan) not yet acted on are read
once per run: the items they concern get the policy's configured step (`broken_promise_step`,
`plan_default_step`; empty: the step after the highest they reached) on this run, whatever the
cadence and the minimum gap, still not while paused (a hold, a dispute); the decision names the
cause, and the escalation is marked acted on in the batch that writes it.

Nothing is sent here: messages are rendered and delivered by the outbox workers. A dry run
computes the same decisions and writes nothing.

Exactly once: the run of a (company, date) is one `Run` row, held by one process at a time through
a lease (taken over when it runs out, or at once when its process has died on this machine);
groups are written in batches of customers, each batch in one transaction that also
records how far the run got, so a run that dies is resumed by the next one after its last
committed batch; and `Message` is unique per group, step, day and channel. A run that is done
leaves nothing more to do that day.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Case, F, Max, Q, QuerySet, Sum, When
from django.db.models.functions import Mod

from dunwell.cases.models import Escalation, EscalationSource
from dunwell.core import faults
from dunwell.core.bulk import insert_rows
from dunwell.core.dates import is_business_day
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.processes import fork_workers, reconnect_database
from dunwell.credit.services.holds import place_credit_hold
from dunwell.dunning import pauses
from dunwell.dunning.models import (
    Channel,
    CustomerPolicy,
    Decision,
    ItemPolicy,
    ItemStep,
    Message,
    MessageStatus,
    Outcome,
    Policy,
    PolicyRule,
    Run,
    RunStatus,
    Step,
)
from dunwell.dunning.rules.steps import (
    NO_STATE,
    Candidate,
    ItemState,
    Ladder,
    StepRule,
    overdue,
)
from dunwell.dunning.services.charges import charge_for_message, settle_interest
from dunwell.ledger.models import (
    ActivityKind,
    Allocation,
    Contact,
    Customer,
    CustomerStatus,
    ItemKind,
    OpenItem,
)
from dunwell.ledger.services import activity
from dunwell.terms.services import holidays_for

BATCH = 2000  # customers per transaction (about a second of writing on SQLite)
LEASE = timedelta(minutes=10)
DUNNED_KINDS = (ItemKind.INVOICE, ItemKind.FEE, ItemKind.INTEREST)


class RunBusyError(DunwellError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.CONFLICT, message)


@dataclass
class GroupResult:
    customer_id: int
    account_number: str
    customer: str
    currency: str
    policy: str
    step: int
    step_name: str
    outcome: str  # queued | approval | skipped
    reason: str
    channels: list[str]
    recipients: list[dict[str, str]]
    items: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer": self.account_number,
            "name": self.customer,
            "currency": self.currency,
            "policy": self.policy,
            "step": self.step,
            "step_name": self.step_name,
            "outcome": self.outcome,
            "reason": self.reason,
            "channels": self.channels,
            "recipients": self.recipients,
            "items": self.items,
        }


@dataclass
class RunReport:
    company: str
    business_date: date
    dry_run: bool
    business_day: bool
    already_done: bool = False
    resumed_after_customer: int = 0
    parts: int = 1  # processes the customers were split over
    interest_on_settled: int = 0  # final interest charges of invoices paid since (charges.py)
    groups: list[GroupResult] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def as_dict(self, *, brief: bool = False) -> dict[str, Any]:
        """The report as JSON takes it; `brief`: the counts without the decisions."""
        return {
            "company": self.company,
            "business_date": self.business_date.isoformat(),
            "dry_run": self.dry_run,
            "business_day": self.business_day,
            "already_done": self.already_done,
            "resumed_after_customer": self.resumed_after_customer,
            "parts": self.parts,
            "interest_on_settled": self.interest_on_settled,
            "counts": dict(self.counts),
            **({} if brief else {"decisions": [g.as_dict() for g in self.groups]}),
        }


def run_dunning(
    *,
    company: Company,
    on: date,
    at: datetime,
    dry_run: bool = False,
    actor: User | None = None,
    batch: int = BATCH,
    detail: bool = True,
) -> RunReport:
    """Decide and queue the follow-ups of `company` on business date `on` (see the module).

    `detail=False` keeps only the counts in the report (a run over 100,000 customers would
    otherwise hold every decision in memory to print it)."""
    report = RunReport(company.code, on, dry_run, business_day=_business_day(company, on))
    if dry_run:
        world = _World.load(company, on)
        for group in world.groups(after_customer=0):
            if detail:
                report.groups.append(group.result)
            report.counts[group.result.outcome] += 1
        if not report.business_day:
            _not_business_day(report)
        return report
    owner = f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    run = _take(company, on, at, owner)
    if run is None:
        done = Run.objects.get(company=company, business_date=on)
        report.already_done = True
        report.counts.update(done.counts)
        return report
    report.resumed_after_customer = run.last_customer_id
    if not report.business_day:
        _not_business_day(report)
        _finish(run, report, at)
        return report
    try:
        settled = settle_interest(company=company, on=on, at=at, actor=actor)
        report.interest_on_settled = len(settled)
        if not run.progress and run.last_customer_id == 0:  # a fresh run: how to split it
            run.parts = _parts(company, on, detail)
            Run.objects.filter(pk=run.pk, owner=owner).update(parts=run.parts)
    except BaseException:
        Run.objects.filter(pk=run.pk, owner=owner).update(status=RunStatus.FAILED)
        raise
    report.parts = run.parts
    work = partial(_run_part, run, owner, parts=run.parts, report=report, at=at, actor=actor,
                   batch=batch, detail=detail)  # fmt: skip
    if run.parts == 1:
        work(0)
    else:
        _in_processes(run, owner, work)
    _finish(run, report, at)
    return report


def _parts(company: Company, on: date, detail: bool) -> int:
    """Into how many parts, each in a forked process, a run splits its customers: two on a
    machine with two cores and more than DUNNING_PARALLEL_FROM open items, when the caller does
    not want every decision back (the report of a part stays in its process); else one."""
    if detail or fork_workers(2) < 2:
        return 1
    if getattr(connection, "is_in_memory_db", lambda: False)():  # SQLite's in-memory tests:
        return 1  # a forked process could not see that database
    many = OpenItem.objects.filter(company=company, kind__in=DUNNED_KINDS, due_on__lte=on)
    threshold = settings.DUNNING_PARALLEL_FROM
    return 2 if many.filter(settled_on__isnull=True)[threshold - 1 : threshold].exists() else 1


def _in_processes(run: Run, owner: str, work: Callable[[int], None]) -> None:
    """Each part of the run in a forked process of its own, with its own connection; the
    parts' batches commit side by side (on SQLite one at a time, while the other decides)."""
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_part_process, args=(work, part), name=f"dunning-part-{part}")
               for part in range(run.parts)]  # fmt: skip
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    failed = {w.name: w.exitcode for w in workers if w.exitcode}
    if failed:
        Run.objects.filter(pk=run.pk, owner=owner).update(status=RunStatus.FAILED)
        raise DunwellError(
            ErrorCode.CONFLICT,
            f"the dunning run of {run.business_date} stopped: "
            + ", ".join(f"{name} exited with {code}" for name, code in failed.items())
            + "; run it again to resume after the last batch written",
        )


def _part_process(work: Callable[[int], None], part: int) -> None:
    reconnect_database()
    work(part)


def _run_part(
    run: Run,
    owner: str,
    part: int,
    *,
    parts: int,
    report: RunReport,
    at: datetime,
    actor: User | None,
    batch: int,
    detail: bool,
) -> None:
    """Decide and write one part of the run's customers, after the last one it had written."""
    try:
        world = _World.load(run.company, run.business_date, part=part, parts=parts)
    except BaseException:
        Run.objects.filter(pk=run.pk, owner=owner).update(status=RunStatus.FAILED)
        raise
    after = int(run.progress.get(str(part), run.last_customer_id if parts == 1 else 0))
    pending: list[_Group] = []
    customers = 0
    commit = partial(_commit, run, owner, part, world=world, report=report, at=at, actor=actor,
                     detail=detail)  # fmt: skip
    for group in world.groups(after_customer=after):
        new_customer = not pending or group.customer_id != pending[-1].customer_id
        if new_customer and customers >= batch:  # a batch never splits a customer's groups:
            commit(pending)  # a resumed run starts after it
            pending, customers = [], 0
        customers += new_customer
        pending.append(group)
    if pending:
        commit(pending)
    _close_moot(world)


def _business_day(company: Company, on: date) -> bool:
    return is_business_day(on, holidays_for(company, range(on.year, on.year + 1)))


def _not_business_day(report: RunReport) -> None:
    report.groups = []
    report.counts.clear()
    report.counts["not_business_day"] = 1


def _take(company: Company, on: date, at: datetime, owner: str) -> Run | None:
    """This process's hold on the day's run, or None when the run is done; `RunBusyError` while
    another process holds a lease that has not run out."""
    run, _ = Run.objects.get_or_create(
        company=company,
        business_date=on,
        defaults={"status": RunStatus.FAILED, "lease_until": at, "owner": "", "started_at": at},
    )
    if run.status == RunStatus.DONE:
        return None
    free = Q(status=RunStatus.FAILED) | Q(lease_until__lt=at)
    if run.status == RunStatus.RUNNING and not _alive(run.owner):
        free |= Q(owner=run.owner)  # its process died on this machine: no need to wait
    taken = (
        Run.objects.filter(pk=run.pk)
        .exclude(status=RunStatus.DONE)
        .filter(free)
        .update(status=RunStatus.RUNNING, owner=owner, lease_until=at + LEASE, error="")
    )
    if not taken:
        run.refresh_from_db()
        if run.status == RunStatus.DONE:
            return None
        raise RunBusyError(
            f"the dunning run of {company.code} for {on.isoformat()} is in progress (started "
            f"{run.started_at:%Y-%m-%d %H:%M} UTC); try again after "
            f"{run.lease_until:%H:%M} UTC"
        )
    run.refresh_from_db()
    return run


def _alive(owner: str) -> bool:
    """Whether the process that holds a lease may still be running: False only when it ran on
    this machine and its process is gone (elsewhere, the lease has to run out)."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:20] or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _commit(
    run: Run,
    owner: str,
    part: int,
    groups: list[_Group],
    *,
    world: _World,
    report: RunReport,
    at: datetime,
    actor: User | None,
    detail: bool,
) -> None:
    """One batch of customers in one transaction, with the point its part has reached. The
    run's row comes last: its lock is then held only to the commit, so parts write side by
    side."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Not waiting for the disk at each batch's commit: a batch lost in a crash is lost
            # whole, progress included, and the resumed run writes it again. None of its
            # messages can have gone out: delivery claims a message with a commit that waits,
            # and the write-ahead log reaches the disk in order, this batch's commit first.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        _write(run, groups, world, at, actor)
        # NO KEY: the batch's rows already hold KEY SHARE locks on the run's row (their
        # foreign key), so do the other part's; FOR UPDATE would wait on those: a deadlock.
        mine = (
            Run.objects.select_for_update(no_key=True)
            .filter(pk=run.pk, owner=owner, status=RunStatus.RUNNING)
            .first()
        )
        if mine is None:
            raise RunBusyError(
                f"the dunning run of {run.business_date} was taken over by another run"
            )
        counts = dict(mine.counts)
        for group in groups:
            if detail:
                report.groups.append(group.result)
            counts[group.result.outcome] = counts.get(group.result.outcome, 0) + 1
        progress = {**mine.progress, str(part): max(g.customer_id for g in groups)}
        Run.objects.filter(pk=run.pk).update(
            counts=counts, progress=progress, last_customer_id=max(progress.values()),
            lease_until=at + LEASE,
        )  # fmt: skip
    faults.point("dunning.after_batch")


def _finish(run: Run, report: RunReport, at: datetime) -> None:
    """Done: the counts are those of every batch, this run's and a crashed one's before it."""
    totals = dict(Run.objects.get(pk=run.pk).counts)
    if report.counts.get("not_business_day"):  # a day without business has no batch
        totals["not_business_day"] = 1
    Run.objects.filter(pk=run.pk).update(status=RunStatus.DONE, finished_at=at, counts=totals)
    report.counts.clear()
    report.counts.update(totals)


def _write(run: Run, groups: list[_Group], world: _World, at: datetime, actor: User | None) -> None:
    """A batch's decisions, messages and items' steps, written in bulk (`core.bulk`): a few
    statements whatever the batch's size, no model instance per item."""
    insert_rows(
        Decision,
        DECISION_COLUMNS,
        (
            (run.company_id, run.pk, g.customer_id, g.result.currency, g.policy.pk, g.result.step,
             g.result.outcome, g.result.reason[:300], g.result.items, None, None)
            for g in groups
        ),
    )  # fmt: skip
    decision_ids = _decision_ids(run, groups)
    messages: list[tuple[Any, ...]] = []
    advance: dict[int, tuple[int, int]] = {}  # item -> policy, step reached
    for group in groups:
        if group.result.outcome == Outcome.SKIPPED:
            continue
        key = (group.customer_id, group.result.currency, group.policy.pk)
        messages += _messages(run, group, decision_ids[key], world, at, actor)
        if group.result.outcome == Outcome.SENT:  # an approved step is charged when approved
            charge_for_message(company=world.company, customer_id=group.customer_id,
                               step=group.step, currency=group.result.currency,
                               items=group.result.items, on=run.business_date, at=at,
                               actor=actor)  # fmt: skip
        advance.update((item_id, (group.policy.pk, reached)) for item_id, reached in group.advance)
    insert_rows(Message, MESSAGE_COLUMNS, messages)
    _acted_on(run, groups, world, at, actor)
    known = [item_id for item_id in advance if item_id in world.states]
    for start in range(0, len(known), LOOKUP):
        ItemStep.objects.filter(item_id__in=known[start : start + LOOKUP]).delete()
    insert_rows(
        ItemStep,
        ("company_id", "item_id", "policy_id", "reached", "reached_on"),
        (  # in item order: the unique index on the item then grows in runs, not at random
            (run.company_id, item_id, policy_id, reached, run.business_date)
            for item_id, (policy_id, reached) in sorted(advance.items())
        ),
    )
    for item_id, (policy_id, reached) in advance.items():  # what a resumed batch would read
        world.states[item_id] = (policy_id, reached, run.business_date)


def _acted_on(run: Run, groups: list[_Group], world: _World, at: datetime,
              actor: User | None) -> None:  # fmt: skip
    """The escalations the batch's messages act on: marked, with an entry in the history."""
    acted = [(g, e) for g in groups if g.result.outcome != Outcome.SKIPPED for e in g.escalations]
    if not acted:
        return
    Escalation.objects.filter(pk__in=[e.id for _, e in acted], acted_on__isnull=True).update(
        acted_on=run.business_date
    )
    for group, escalation in acted:
        escalation.acted = True
        activity.record(
            company=world.company, kind=ActivityKind.ESCALATED, on=run.business_date, at=at,
            actor=actor, customer=world.customer_row(escalation.customer_id),
            summary=f"{escalation.reason}: step {group.step.sequence} ({group.step.name}) "
            f"{'queued' if group.result.outcome == Outcome.SENT else 'awaiting approval'}",
            data={"escalation": escalation.id, "step": group.step.sequence},
            key=f"escalation-{escalation.id}",
        )  # fmt: skip


def _close_moot(world: _World) -> None:
    """Escalations with nothing open left to dun (paid, credited, voided meanwhile): done."""
    if not world.escalations:
        return  # the usual day: no pass over the items
    concerned = {e.customer_id for found in world.escalations.values() for e in found}
    open_items: set[int] = set()
    by_customer: dict[int, bool] = defaultdict(bool)
    for item in world.items:
        if item.customer_id in concerned:
            open_items.add(item.id)
            by_customer[item.customer_id] = True
    moot = [
        e.id
        for found in world.escalations.values()
        for e in found
        if not e.acted
        and not (open_items & e.item_ids if e.item_ids else by_customer[e.customer_id])
    ]
    if moot:
        Escalation.objects.filter(pk__in=moot, acted_on__isnull=True).update(acted_on=world.on)


DECISION_COLUMNS = (
    "company_id", "run_id", "customer_id", "currency", "policy_id", "step", "outcome", "reason",
    "items", "decided_by_id", "decided_at",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "company_id", "decision_id", "customer_id", "currency", "policy_id", "step", "business_date",
    "channel", "template", "language", "recipients", "cc", "status", "created_at", "subject",
    "body", "message_id", "attempts", "error", "claimed_by", "assignee_id",
)  # fmt: skip
LOOKUP = 900  # ids per IN (...)
TASK_CHANNELS = (Channel.CALL, Channel.TASK, Channel.AGENCY)  # for a person: the owner collector


def _decision_ids(run: Run, groups: list[_Group]) -> dict[tuple[int, str, int], int]:
    customers = sorted({g.customer_id for g in groups})
    found: dict[tuple[int, str, int], int] = {}
    for start in range(0, len(customers), LOOKUP):
        rows = Decision.objects.filter(
            run=run, customer_id__in=customers[start : start + LOOKUP]
        ).values_list("customer_id", "currency", "policy_id", "pk")
        found.update(((c, cur, p), pk) for c, cur, p, pk in rows)
    return found


def _messages(
    run: Run, group: _Group, decision_id: int, world: _World, at: datetime, actor: User | None
) -> list[tuple[Any, ...]]:
    """The outbox rows of a group, in `MESSAGE_COLUMNS` order; a hold step places the hold."""
    result, step = group.result, group.step
    status = MessageStatus.AWAITING_APPROVAL if step.needs_approval else MessageStatus.PENDING
    customer = world.customers[group.customer_id]
    rows = []
    for channel in result.channels:
        if channel == Channel.HOLD:
            if not step.needs_approval:  # an approved letter before action places it later
                place_credit_hold(
                    company=world.company,
                    customer=Customer.objects.get(pk=group.customer_id),
                    on=run.business_date,
                    at=at,
                    reason=f"dunning step {step.sequence} ({step.name})",
                    source="dunning",
                    actor=actor,
                )
            continue
        email = channel == Channel.EMAIL
        assignee = customer.owner_id if channel in TASK_CHANNELS else None
        rows.append(
            (run.company_id, decision_id, group.customer_id, result.currency, group.policy.pk,
             step.sequence, run.business_date, channel, step.template, customer.language,
             result.recipients if email else group.postal, group.cc if email else [], status, at,
             "", "", "", 0, "", "", assignee)
        )  # fmt: skip
    return rows


# -- what the run reads ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Customer:
    id: int
    account_number: str
    name: str
    parent_id: int | None
    billed_to_parent: bool
    status: str
    language: str
    segment: str
    tags: tuple[str, ...]
    country: str
    owner_id: int | None


@dataclass
class _Item:
    id: int
    customer_id: int
    number: str
    currency: str
    due_on: date
    open_minor: int


def _part_customers(company: Company, part: int, parts: int) -> QuerySet[Any, Any] | None:
    """The ids of the customers whose billed customer (the parent of a branch billed to it,
    else itself) falls in `part` of `parts`; None for the whole company."""
    if parts == 1:
        return None
    branch = Q(billed_to_parent=True, parent__isnull=False)
    billed = Case(When(branch, then=F("parent_id")), default=F("id"))
    return (
        Customer.objects.filter(company=company)
        .annotate(part=Mod(billed, parts))
        .filter(part=part)
        .values("id")
    )


def _rows_of(query: QuerySet[Any, Any]) -> list[_Item]:
    """The query's rows without Django's per-row conversions (a million of them is seconds):
    the database's own values, dates read once per distinct text on SQLite."""
    sql, params = query.query.sql_with_params()
    days: dict[Any, date] = {}
    found = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(10_000):
            for item_id, customer_id, number, currency, due_text, open_minor in chunk:
                due = due_text
                if not isinstance(due, date):
                    due = days.get(due_text) or days.setdefault(
                        due_text, date.fromisoformat(due_text)
                    )
                found.append(_Item(item_id, customer_id, number, currency, due, open_minor))
    return found


@dataclass
class _Group:
    customer_id: int
    policy: Policy
    step: Step
    result: GroupResult
    advance: list[tuple[int, int]]  # item id, step reached
    cc: list[dict[str, str]]
    postal: list[dict[str, str]]
    escalations: list[_Escalation] = field(default_factory=list)


@dataclass
class _Escalation:
    id: int
    customer_id: int
    source: str
    reason: str
    item_ids: frozenset[int]  # empty: every item of the customer
    acted: bool = False

    def concerns(self, item: _Item) -> bool:
        return item.id in self.item_ids if self.item_ids else item.customer_id == self.customer_id


@dataclass
class _World:
    company: Company
    on: date
    customers: dict[int, _Customer]
    items: list[_Item]
    states: dict[int, tuple[int, int, date]]  # item -> policy, reached, reached on
    policies: dict[int, Policy]
    steps: dict[int, list[Step]]
    rules: list[PolicyRule]
    by_customer: dict[int, int]  # customer -> policy
    by_item: dict[int, int]  # item -> policy
    default: Policy
    paused_accounts: dict[int, str]
    paused_items: dict[int, str]
    held_amounts: dict[int, tuple[int, str]]  # item -> part of it paused (a dispute), why
    last_message: dict[int, date]  # customer -> business date of its last message before `on`
    contacts: dict[int, list[dict[str, Any]]]
    escalations: dict[int, list[_Escalation]]  # customer billed -> pending, oldest first
    ladders: dict[int, Ladder] = field(default_factory=dict)

    @classmethod
    def load(cls, company: Company, on: date, *, part: int = 0, parts: int = 1) -> _World:
        """What a run decides from; with `parts`, only the items (and their steps) of the
        customers billed whose id modulo `parts` is `part`."""
        policies = {p.pk: p for p in Policy.objects.filter(company=company)}
        default = next((p for p in policies.values() if p.is_default), None)
        if default is None:
            raise DunwellError(
                ErrorCode.INVALID,
                f"{company.code} has no default dunning policy: create one with "
                "`dunwell dunning standard` (or in the admin)",
            )
        steps: dict[int, list[Step]] = defaultdict(list)
        for step in Step.objects.filter(policy__company=company).order_by("policy", "sequence"):
            steps[step.policy_id].append(step)
        earliest = min((s.offset_days for ss in steps.values() for s in ss), default=0)
        horizon = on + timedelta(days=max(0, -earliest))
        customers = {
            row[0]: _Customer(*row[:8], tuple(row[8] or ()), row[9], row[10])
            for row in Customer.objects.filter(company=company).values_list(
                "id", "account_number", "legal_name", "parent_id", "billed_to_parent", "status",
                "language", "segment", "tags", "country", "owner_id",
            )
        }  # fmt: skip
        mine = _part_customers(company, part, parts)
        open_items = (
            OpenItem.objects.filter(
                company=company, kind__in=DUNNED_KINDS, issued_on__lte=on, due_on__lte=horizon
            )
            .filter(**({"customer_id__in": mine} if mine is not None else {}))
            .filter(Q(settled_on__isnull=True) | Q(settled_on__gt=on))
            .filter(Q(voided_on__isnull=True) | Q(voided_on__gt=on))
        )
        items = _rows_of(
            open_items.values_list(
                "id", "customer_id", "number", "currency", "due_on", "open_minor"
            )
        )
        later = dict(
            Allocation.objects.filter(company=company, effective_on__gt=on)
            .values("target_id")
            .annotate(total=Sum("amount_minor"))
            .values_list("target_id", "total")
        )
        for item in items:
            item.open_minor += later.get(item.id, 0)  # open as of `on`
        items = [item for item in items if item.open_minor > 0]
        states = {
            item_id: (policy_id, reached, reached_on)
            for item_id, policy_id, reached, reached_on in ItemStep.objects.filter(
                company=company, **({"item__customer_id__in": mine} if mine is not None else {})
            ).values_list("item_id", "policy_id", "reached", "reached_on")
        }
        accounts, paused, held = pauses.in_force(company, on)
        last_message: dict[int, date] = dict(
            Message.objects.filter(company=company, business_date__lt=on)
            .exclude(status__in=(MessageStatus.CANCELLED, MessageStatus.WITHDRAWN))
            .values("customer_id")
            .annotate(day=Max("business_date"))
            .values_list("customer_id", "day")
        )
        contacts: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in Contact.objects.filter(company=company).values(
            "customer_id", "name", "role", "email", "receives_reminders", "email_bounced_on"
        ):
            contacts[row["customer_id"]].append(dict(row))
        escalations: dict[int, list[_Escalation]] = defaultdict(list)
        for pk, customer_id, source, reason, item_ids in (
            Escalation.objects.filter(company=company, acted_on__isnull=True, raised_on__lte=on)
            .filter(**({"customer_id__in": mine} if mine is not None else {}))
            .order_by("raised_on", "pk")
            .values_list("pk", "customer_id", "source", "reason", "item_ids")
        ):
            customer = customers[customer_id]
            billed = (
                customer.parent_id
                if customer.billed_to_parent and customer.parent_id
                else customer_id
            )
            escalations[billed].append(
                _Escalation(pk, customer_id, source, reason, frozenset(item_ids or ()))
            )
        return cls(
            company=company,
            on=on,
            customers=customers,
            items=items,
            states=states,
            policies=policies,
            steps=dict(steps),
            rules=list(PolicyRule.objects.filter(company=company)),
            by_customer=dict(
                CustomerPolicy.objects.filter(customer__company=company).values_list(
                    "customer_id", "policy_id"
                )
            ),
            by_item=dict(
                ItemPolicy.objects.filter(item__company=company).values_list("item_id", "policy_id")
            ),
            default=default,
            paused_accounts=accounts,
            paused_items=paused,
            held_amounts=held,
            last_message=last_message,
            contacts=contacts,
            escalations=dict(escalations),
        )

    def customer_row(self, customer_id: int) -> Customer:
        """An unsaved stand-in for a history entry's customer (only its id is written)."""
        return Customer(pk=customer_id, company_id=self.company.pk)

    def billed(self, customer_id: int) -> int:
        customer = self.customers[customer_id]
        if customer.billed_to_parent and customer.parent_id is not None:
            return customer.parent_id
        return customer_id

    def policy_of(self, item: _Item, balances: dict[tuple[int, str], int]) -> Policy:
        """Invoice > customer > the first matching rule > the company default."""
        chosen = self.by_item.get(item.id) or self.by_customer.get(item.customer_id)
        if chosen is not None:
            return self.policies[chosen]
        customer = self.customers[item.customer_id]
        for rule in self.rules:
            if rule.segment and rule.segment != customer.segment:
                continue
            if rule.tag and rule.tag not in customer.tags:
                continue
            if rule.country and rule.country != customer.country:
                continue
            balance = balances.get((item.customer_id, item.currency), 0)
            if rule.min_open_minor is not None and balance < rule.min_open_minor:
                continue
            return self.policies[rule.policy_id]
        return self.default

    def groups(self, *, after_customer: int) -> Iterator[_Group]:
        """The groups with something due, in order of the customer billed."""
        balances: dict[tuple[int, str], int] = defaultdict(int)
        for item in self.items:
            balances[(item.customer_id, item.currency)] += item.open_minor
        grouped: dict[tuple[int, str, int], list[_Item]] = defaultdict(list)
        by_account: dict[tuple[int, str], int] = {}  # the same for every item not set alone
        for item in self.items:
            if item.id in self.by_item:
                policy_id = self.by_item[item.id]
            else:
                account = (item.customer_id, item.currency)
                policy_id = by_account.get(account) or by_account.setdefault(
                    account, self.policy_of(item, balances).pk
                )
            grouped[(self.billed(item.customer_id), item.currency, policy_id)].append(item)
        for key in sorted(grouped):
            if key[0] > after_customer:
                group = self._decide(*key, grouped[key])
                if group is not None:
                    yield group

    def _decide(
        self, customer_id: int, currency: str, policy_id: int, items: list[_Item]
    ) -> _Group | None:
        policy = self.policies[policy_id]
        steps = self.steps.get(policy_id, [])
        if not steps:
            return None
        ladder = self._ladder(policy_id, steps)
        candidates: list[Candidate] = []
        before: dict[int, ItemState] = {}  # item -> the step it had reached, and when
        paused: list[tuple[_Item, str]] = []
        for item in items:
            if item.id in self.paused_items:
                paused.append((item, self.paused_items[item.id]))
                continue
            demanded = item.open_minor
            if item.id in self.held_amounts:  # only the undisputed rest is demanded
                held, reason = self.held_amounts[item.id]
                if held >= item.open_minor:
                    paused.append((item, reason))
                    continue
                demanded -= held
            state = self._state(item.id, policy_id)
            before[item.id] = state
            due = ladder.due(item.due_on, state, self.on)
            candidates.append(Candidate(item.id, item.number, item.due_on, demanded, due))
        top = max((c.due_step for c in candidates), default=0)
        acting, top = self._escalate(customer_id, policy, steps, items, candidates, before, top)
        if top == 0:
            return None  # nothing new is due: no decision to record
        chosen = steps[top - 1]
        listed = overdue(candidates, self.on) or [c for c in candidates if c.due_step]
        customer = self.customers[customer_id]
        rows = [self._row(c, before[c.item_id]) for c in listed]
        for row in rows:  # a part in dispute: what is held back, and why
            if row["id"] in self.held_amounts:
                row["held_minor"], row["held"] = self.held_amounts[row["id"]]
        rows += [self._row(Candidate(i.id, i.number, i.due_on, i.open_minor, 0), None, reason)
                 for i, reason in paused]  # fmt: skip
        total = sum(c.open_minor for c in listed)
        reason, outcome = self._skip_reason(customer, policy, chosen, total, bool(acting))
        recipients, cc, channels, note = self._recipients(customer_id, chosen)
        if outcome is None:
            outcome = Outcome.APPROVAL if chosen.needs_approval else Outcome.SENT
            why = (
                "; ".join(e.reason for e in acting) + f": step {chosen.sequence} ({chosen.name})"
                if acting
                else f"step {chosen.sequence} ({chosen.name}) due for "
                + ", ".join(c.number for c in candidates if c.due_step == top)
            )
            reason = (
                why
                + (note and f"; {note}")
                + ("; awaiting approval" if chosen.needs_approval else "")
            )
        result = GroupResult(
            customer_id=customer_id,
            account_number=customer.account_number,
            customer=customer.name,
            currency=currency,
            policy=policy.name,
            step=chosen.sequence,
            step_name=chosen.name,
            outcome=outcome,
            reason=reason,
            channels=channels if outcome != Outcome.SKIPPED else [],
            recipients=recipients if outcome != Outcome.SKIPPED else [],
            items=rows,
        )
        advance = (
            [(c.item_id, c.due_step) for c in candidates if c.due_step]
            if outcome != Outcome.SKIPPED
            else []
        )
        postal = [{"name": customer.name, "account": customer.account_number}]
        return _Group(customer_id, policy, chosen, result, advance, cc, postal, acting)

    def _escalate(
        self,
        customer_id: int,
        policy: Policy,
        steps: list[Step],
        items: list[_Item],
        candidates: list[Candidate],
        before: dict[int, ItemState],
        top: int,
    ) -> tuple[list[_Escalation], int]:
        """The pending escalations that concern this group's unpaused items, and the step the
        message then takes: each brings its items to the policy's configured step (else the one
        after the highest they reached), never back below a step they reached."""
        pending = [e for e in self.escalations.get(customer_id, ()) if not e.acted]
        if not pending:
            return [], top
        by_id = {item.id: item for item in items}
        acting = []
        for escalation in pending:
            concerned = [k for k, c in enumerate(candidates)
                         if escalation.concerns(by_id[c.item_id])]  # fmt: skip
            if not concerned:
                continue  # paused (a hold, a dispute) or paid: it waits, or is closed at the end
            configured = (
                policy.broken_promise_step
                if escalation.source == EscalationSource.BROKEN_PROMISE
                else policy.plan_default_step
            )
            reached = max(before[candidates[k].item_id].reached for k in concerned)
            target = min(configured or reached + 1, len(steps))
            for k in concerned:
                c = candidates[k]
                if target > max(c.due_step, before[c.item_id].reached):
                    candidates[k] = c._replace(due_step=target)
            top = max(top, target)
            acting.append(escalation)
        return acting, top

    def _ladder(self, policy_id: int, steps: list[Step]) -> Ladder:
        found = self.ladders.get(policy_id)
        if found is None:
            rules = [StepRule(s.sequence, s.offset_days, s.after_previous_days) for s in steps]
            found = self.ladders[policy_id] = Ladder(rules)
        return found

    def _state(self, item_id: int, policy_id: int) -> ItemState:
        found = self.states.get(item_id)
        if found is None or found[0] != policy_id:
            return NO_STATE  # never dunned, or under another policy: it starts again
        return ItemState(found[1], found[2])

    def _row(self, c: Candidate, before: ItemState | None, paused: str = "") -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": c.item_id,
            "number": c.number,
            "due_on": c.due_on.isoformat(),
            "days_overdue": max(0, (self.on - c.due_on).days),
            "open_minor": c.open_minor,
            "step": c.due_step,
        }
        if before is not None and before.reached_on is not None:
            row["from_step"] = before.reached
            row["from_on"] = before.reached_on.isoformat()
        if paused:
            row["paused"] = paused
        return row

    def _skip_reason(
        self, customer: _Customer, policy: Policy, step: Step, total: int, escalated: bool = False
    ) -> tuple[str, Outcome | None]:
        if customer.id in self.paused_accounts:
            return self.paused_accounts[customer.id], Outcome.SKIPPED
        if customer.status != CustomerStatus.ACTIVE:
            label = english(CustomerStatus(customer.status).label).lower()
            return f"customer {label}", Outcome.SKIPPED
        if total < step.min_overdue_minor:
            return (
                f"below the minimum of step {step.sequence}: {total} < {step.min_overdue_minor} "
                "(minor units overdue)",
                Outcome.SKIPPED,
            )
        last = self.last_message.get(customer.id)
        if not escalated and last is not None and (self.on - last).days < policy.min_gap_days:
            return (
                f"last message on {last.isoformat()}: the policy waits {policy.min_gap_days} "
                "days between two messages",
                Outcome.SKIPPED,
            )
        return "", None

    def _recipients(
        self, customer_id: int, step: Step
    ) -> tuple[list[dict[str, str]], list[dict[str, str]], list[str], str]:
        contacts = self.contacts.get(customer_id, [])

        def with_roles(roles: list[str]) -> list[dict[str, str]]:
            return [
                {"name": c["name"], "email": c["email"], "role": c["role"]}
                for c in contacts
                if c["role"] in roles
                and c["email"]
                and c["receives_reminders"]
                and not c["email_bounced_on"]  # refused by the mail server: a letter instead
            ]

        recipients = with_roles(step.recipient_roles)
        cc = [c for c in with_roles(step.cc_roles) if c not in recipients]
        channels = list(step.channels)
        note = ""
        if Channel.EMAIL in channels and not recipients:
            channels.remove(Channel.EMAIL)
            if Channel.LETTER not in channels:
                channels.append(Channel.LETTER)
            note = "no contact with an email address for " + ", ".join(step.recipient_roles)
            note += ": a letter instead"
        return recipients, cc, channels, note
