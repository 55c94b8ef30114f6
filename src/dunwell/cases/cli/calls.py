"""`dunwell case calls|task|task-done|task-cancel|note`: the call log, tasks by hand and notes.

Logging a call (`case call`) and the queue of tasks (`case tasks`) also touch dunning's call
tasks, so they are a topic of the workflows layer (`dunwell.workflows.cli.calls`), registered
into this command by the workflows app.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.cases.cli.base import Action, Context
from dunwell.cases.models import CallLog, Task, TaskKind
from dunwell.cases.services.calls import add_note
from dunwell.cases.services.tasks import cancel_task, complete_task, create_task
from dunwell.core.i18n import english
from dunwell.core.management.base import parse_iso_date


def _calls_arguments(parser: CommandParser) -> None:
    parser.add_argument("--customer", help="account number (default: every customer's)")
    parser.add_argument("--limit", type=int, default=50, help="the latest N (default 50)")


def _calls(context: Context) -> None:
    shown = CallLog.objects.filter(company=context.company)
    if context.options["customer"]:
        shown = shown.filter(customer=context.customer(context.options["customer"]))
    rows = [
        call_row(c)
        for c in shown.select_related("customer", "contact", "actor", "follow_up")[
            : max(context.options["limit"], 0)
        ]
    ]
    if context.json:
        context.command.emit_json(rows)
        return
    for row in rows:
        context.command.stdout.write(
            f"{row['id']}  {row['called_at'][:16]}  {row['customer']}  {row['outcome_label']}"
            + (f"  {row['note']}" if row["note"] else "")
        )


def call_row(call: CallLog) -> dict[str, Any]:
    return {
        "id": call.pk,
        "customer": call.customer.account_number,
        "contact": call.contact.name if call.contact else None,
        "phone": call.phone,
        "direction": call.direction,
        "outcome": call.outcome,
        "outcome_label": english(call.get_outcome_display),
        "note": call.note,
        "next_action_on": call.next_action_on.isoformat() if call.next_action_on else None,
        "follow_up_task": call.follow_up_id,
        "follow_up_on": call.follow_up.due_on.isoformat() if call.follow_up else None,
        "call_task": call.message_id,
        "dispute": call.dispute_id,
        "promise": call.promise_id,
        "called_at": call.called_at.isoformat(),
        "on": call.on.isoformat(),
        "by": call.actor.username if call.actor else None,
    }


def _task_arguments(parser: CommandParser) -> None:
    parser.add_argument("--customer", required=True, help="account number")
    parser.add_argument("--title", required=True)
    parser.add_argument("--due", required=True, type=parse_iso_date, help="YYYY-MM-DD")
    parser.add_argument("--kind", choices=TaskKind.values, default=TaskKind.CALL)
    parser.add_argument("--assignee", help="username (default: the customer's owner)")


def _task(context: Context) -> None:
    options = context.options
    task = create_task(
        company=context.company, customer=context.customer(options["customer"]),
        kind=options["kind"], title=options["title"], due_on=options["due"],
        assignee=context.user(options["assignee"]), actor=context.actor, at=context.at,
        on=context.on,
    )  # fmt: skip
    _show(context, task)


def _close_arguments(parser: CommandParser) -> None:
    parser.add_argument("task_id", type=int)
    parser.add_argument("--note", default="", help="what was done")


def found_task(context: Context) -> Task:
    task_id = context.options["task_id"]
    found = (
        Task.objects.filter(company=context.company, pk=task_id)
        .select_related("customer", "assignee")
        .first()
    )
    if found is None:
        raise CommandError(f"no task {task_id} in {context.company.code}")
    return found


def _task_done(context: Context) -> None:
    task = complete_task(task=found_task(context), note=context.options["note"],
                         actor=context.actor, on=context.on, at=context.at)  # fmt: skip
    _show(context, task)


def _task_cancel(context: Context) -> None:
    task = cancel_task(task=found_task(context), note=context.options["note"],
                       actor=context.actor, on=context.on, at=context.at)  # fmt: skip
    _show(context, task)


def _show(context: Context, task: Task) -> None:
    context.emit(task_row(task), f"task {task.pk}: {english(task.get_state_display).lower()}, due "
                 f"{task.due_on.isoformat()}: {task.title}")  # fmt: skip


def task_row(task: Task) -> dict[str, Any]:
    return {
        "type": "task",
        "id": task.pk,
        "customer": task.customer.account_number,
        "kind": task.kind,
        "title": task.title,
        "due_on": task.due_on.isoformat(),
        "assignee": task.assignee.username if task.assignee else None,
        "state": task.state,
        "source": task.source,
        "note": task.note,
    }


def _note_arguments(parser: CommandParser) -> None:
    parser.add_argument("--customer", required=True, help="account number")
    parser.add_argument("--invoice", help="the invoice number it is about")
    parser.add_argument("--text", required=True)


def _note(context: Context) -> None:
    options = context.options
    customer = context.customer(options["customer"])
    item = context.item(customer, options["invoice"]) if options["invoice"] else None
    entry = add_note(company=context.company, customer=customer, item=item,
                     text=options["text"], actor=context.actor, on=context.on,
                     at=context.at)  # fmt: skip
    context.emit(
        {"id": entry.pk, "customer": customer.account_number,
         "invoice": item.number if item else None, "summary": entry.summary,
         "on": entry.on.isoformat()},
        entry.summary,
    )  # fmt: skip


ACTIONS = {
    "calls": Action("the calls logged, latest first", _calls_arguments, _calls),
    "task": Action("a task by hand in a collector's queue", _task_arguments, _task),
    "task-done": Action("a task is done, with what was done", _close_arguments, _task_done),
    "task-cancel": Action("a task is not to be done", _close_arguments, _task_cancel),
    "note": Action("a note on the account or an invoice", _note_arguments, _note),
}
