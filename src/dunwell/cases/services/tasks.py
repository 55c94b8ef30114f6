"""Tasks for people (by hand, follow-ups of calls, alerts, reviews): created in the queue of the
customer's owner collector unless another is named, done once with a note, or cancelled; each
step one transaction with its history entry.

Automatic tasks (an alert for a broken promise, the follow-up of a call) pass a `key`: creating
the same key again returns the first task and records nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from dunwell.cases.models import Task, TaskKind, TaskState
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.ledger.models import ActivityKind, Customer
from dunwell.ledger.services import activity
from dunwell.ledger.services.activity import stored_actor


@transaction.atomic
def create_task(
    *,
    company: Company,
    customer: Customer,
    kind: str,
    title: str,
    due_on: date,
    assignee: User | None = None,
    source: str = "",
    key: str | None = None,
    actor: User | None,
    at: datetime,
    on: date,
) -> Task:
    """A task due on `due_on` in `assignee`'s queue (default: the customer's owner)."""
    if kind not in TaskKind.values:
        raise DunwellError(ErrorCode.INVALID, f"kind {kind!r}: expected one of "
                           f"{', '.join(TaskKind.values)}", field="kind")  # fmt: skip
    title = title.strip()
    if not title:
        raise DunwellError(ErrorCode.INVALID, "a task needs a title", field="title")
    if customer.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"{customer.account_number} is not "
                           f"{company.code}'s")  # fmt: skip
    if key is not None:
        existing = Task.objects.filter(company=company, key=key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():  # a concurrent creator of the same key wins; we return its task
            task = Task.objects.create(
                company=company, customer=customer, kind=kind, title=title[:200], due_on=due_on,
                assignee=assignee if assignee is not None else customer.owner,
                source=source[:40] or ("by hand" if key is None else ""), created_at=at,
                created_by=stored_actor(actor), key=key,
            )  # fmt: skip
    except IntegrityError:
        if key is None:
            raise
        return Task.objects.get(company=company, key=key)
    whose = task.assignee.get_username() if task.assignee else "unassigned"
    _record(task, ActivityKind.TASK_CREATED, on, at, actor,
            f"{english(task.get_kind_display).lower()} task due {due_on.isoformat()} ({whose}): {title}")  # fmt: skip
    return task


@transaction.atomic
def complete_task(*, task: Task, note: str, actor: User | None, on: date, at: datetime) -> Task:
    """Done, once, with what was done."""
    return _close(task, TaskState.DONE, note, actor, on, at)


@transaction.atomic
def cancel_task(*, task: Task, note: str = "", actor: User | None, on: date, at: datetime) -> Task:
    """Not to be done (the customer paid, the call is no longer needed)."""
    return _close(task, TaskState.CANCELLED, note, actor, on, at)


def _close(task: Task, state: str, note: str, actor: User | None, on: date,
           at: datetime) -> Task:  # fmt: skip
    note = note.strip()
    closed = Task.objects.filter(pk=task.pk, state=TaskState.OPEN).update(
        state=state, note=note, done_at=at
    )
    task.refresh_from_db()
    if not closed:
        raise DunwellError(ErrorCode.CONFLICT,
                           f"task {task.pk} is {english(task.get_state_display).lower()}, not open")  # fmt: skip
    verb = "done" if state == TaskState.DONE else "cancelled"
    _record(task, ActivityKind.TASK_CLOSED, on, at, actor,
            f"task {verb}: {task.title}" + (f": {note}" if note else ""))  # fmt: skip
    return task


def _record(task: Task, kind: ActivityKind, on: date, at: datetime, actor: User | None,
            summary: str) -> None:  # fmt: skip
    activity.record(company=task.company, kind=kind, on=on, at=at, actor=actor,
                    customer=task.customer, summary=summary[:300],
                    data={"task": task.pk, "state": task.state})  # fmt: skip
