"""`dunwell case call|tasks`: logging a call (the workflow: the call, the step's call task done,
the dispute or promise it brought) and the collector's queue of tasks, the case tasks beside the
dunning steps' call tasks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.cases.cli.base import Action, Context
from dunwell.cases.cli.calls import call_row, task_row
from dunwell.cases.cli.disputes import parse_items
from dunwell.cases.models import CallDirection, CallOutcome, DisputeReason, Task, TaskState
from dunwell.core.i18n import english
from dunwell.core.management.base import parse_iso_date
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.dunning.models import Channel, Message, MessageStatus
from dunwell.dunning.services.followups import task_name
from dunwell.ledger.models import Contact, Customer
from dunwell.workflows.calls import DisputeSpec, PromiseSpec, log_call


def _call_arguments(parser: CommandParser) -> None:
    parser.add_argument("--customer", required=True, help="account number")
    parser.add_argument("--outcome", required=True, choices=CallOutcome.values)
    parser.add_argument("--contact", help="the contact's name")
    parser.add_argument("--phone", default="", help="the number called (default: the contact's)")
    parser.add_argument("--direction", choices=CallDirection.values, default=CallDirection.OUT)
    parser.add_argument("--note", default="")
    parser.add_argument("--next", type=parse_iso_date, help="next action date, YYYY-MM-DD")
    parser.add_argument(
        "--task", type=int, help="the id of the dunning step's call task it answers"
    )
    parser.add_argument("--invoice", action="append", default=[],
                        help="dispute or promise: NUMBER, or NUMBER=AMOUNT for a part; repeat")  # fmt: skip
    parser.add_argument("--reason", choices=DisputeReason.values, help="dispute: why")
    parser.add_argument("--amount", help="promise: the amount promised, e.g. 500.00")
    parser.add_argument("--pay-by", type=parse_iso_date, help="promise: the date, YYYY-MM-DD")
    parser.add_argument("--promised-by", default="", help="promise: who promised (name)")


def _call(context: Context) -> None:
    options = context.options
    customer = context.customer(options["customer"])
    call = log_call(
        company=context.company, customer=customer, outcome=options["outcome"],
        contact=_contact(customer, options["contact"]), phone=options["phone"],
        direction=options["direction"], note=options["note"], next_action_on=options["next"],
        message_id=options["task"], promise=_promise(context, customer),
        dispute=_dispute(context, customer), actor=context.actor, on=context.on, at=context.at,
    )  # fmt: skip
    follow = f"; next action {call.follow_up.due_on.isoformat()}" if call.follow_up else ""
    context.emit(
        call_row(call), f"call {call.pk}: {english(call.get_outcome_display).lower()}{follow}"
    )


def _contact(customer: Customer, name: str | None) -> Contact | None:
    if not name:
        return None
    found = customer.contacts.filter(name__iexact=name.strip()).first()
    if found is None:
        known = ", ".join(customer.contacts.values_list("name", flat=True)) or "none"
        raise CommandError(f"--contact {name!r}: {customer.account_number} has no such contact "
                           f"(contacts: {known})")  # fmt: skip
    return found


def _dispute(context: Context, customer: Customer) -> DisputeSpec | None:
    options = context.options
    if options["outcome"] != CallOutcome.DISPUTE:
        if options["reason"]:
            raise CommandError("--reason goes with --outcome dispute")
        return None
    if not options["invoice"] or not options["reason"]:
        raise CommandError("--outcome dispute needs --invoice (one or more) and --reason")
    return DisputeSpec(items=parse_items(context, customer, options["invoice"]),
                       reason=options["reason"])  # fmt: skip


def _promise(context: Context, customer: Customer) -> PromiseSpec | None:
    options = context.options
    if options["outcome"] != CallOutcome.PROMISE:
        if options["amount"] or options["pay_by"]:
            raise CommandError("--amount and --pay-by go with --outcome promise")
        return None
    if not options["amount"] or not options["pay_by"]:
        raise CommandError("--outcome promise needs --amount and --pay-by")
    items = [item for item, _ in parse_items(context, customer, options["invoice"])]
    currency = items[0].currency if items else customer.currency
    try:
        minor = Money(parse_amount(options["amount"]), currency).minor
    except MoneyError as error:
        raise CommandError(f"--amount {options['amount']!r}: {error}") from None
    return PromiseSpec(amount_minor=minor, currency=currency, promised_on=options["pay_by"],
                       promised_by=options["promised_by"], items=tuple(items))  # fmt: skip


def _tasks_arguments(parser: CommandParser) -> None:
    whose = parser.add_mutually_exclusive_group()
    whose.add_argument("--mine", action="store_true", help="those of the --by user")
    whose.add_argument("--unassigned", action="store_true", help="those of no one")
    parser.add_argument("--all", action="store_true", help="done and cancelled ones too")


def _tasks(context: Context) -> None:
    options = context.options
    tasks = Task.objects.filter(company=context.company).select_related("customer", "assignee")
    steps = Message.objects.filter(company=context.company, channel__in=(
        Channel.CALL, Channel.TASK, Channel.AGENCY)).select_related("customer", "assignee")  # fmt: skip
    if not options["all"]:
        tasks = tasks.filter(state=TaskState.OPEN)
        steps = steps.filter(status=MessageStatus.PENDING)
    else:
        steps = steps.filter(status__in=(MessageStatus.PENDING, MessageStatus.SENT))
    if options["mine"]:
        if context.actor is None:
            raise CommandError("--mine needs --by USER")
        tasks, steps = tasks.filter(assignee=context.actor), steps.filter(assignee=context.actor)
    elif options["unassigned"]:
        tasks, steps = tasks.filter(assignee__isnull=True), steps.filter(assignee__isnull=True)
    rows = [task_row(t) for t in tasks] + [_step_row(m) for m in steps]
    rows.sort(key=lambda row: (row["due_on"], row["type"], row.get("id") or row["call_task"]))
    if context.json:
        context.command.emit_json(rows)
        return
    for row in rows:
        ref = f"task {row['id']}" if row["type"] == "task" else f"step task {row['call_task']}"
        context.command.stdout.write(f"{row['due_on']}  {ref}  {row['customer']}  "
                                     f"{row['title']}  {row['assignee'] or '-'}")  # fmt: skip


def _step_row(message: Message) -> dict[str, Any]:
    return {
        "type": "step",
        "call_task": message.pk,
        "customer": message.customer.account_number,
        "kind": message.channel,
        "title": f"{task_name(message)} (step {message.step})",
        "due_on": message.business_date.isoformat(),
        "assignee": message.assignee.username if message.assignee else None,
        "state": "open" if message.status == MessageStatus.PENDING else "done",
        "note": message.body if message.status == MessageStatus.SENT else "",
    }


ACTIONS = {
    "call": Action(
        "log a call: outcome, note, next action; answers a step's call task", _call_arguments, _call
    ),
    "tasks": Action(
        "the open tasks and step call tasks, by due date (--mine, --all)", _tasks_arguments, _tasks
    ),
}
