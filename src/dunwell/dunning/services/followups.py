"""Calls and tasks for people: the steps' call tasks, internal tasks and agency proposals, each in
the queue of the customer's owner collector (unassigned when the customer has none), done by
hand with a note. Logging a call's outcome (promise, dispute, no answer) is the cases issue's.
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.dunning.models import Channel, Message, MessageStatus
from dunwell.dunning.services.run import TASK_CHANNELS
from dunwell.ledger.models import ActivityKind
from dunwell.ledger.services import activity

NAMES = {Channel.CALL: "Call", Channel.TASK: "Task", Channel.AGENCY: "Agency proposal"}


def task_name(message: Message) -> str:
    return NAMES.get(Channel(message.channel), english(message.get_channel_display))


@transaction.atomic
def complete_task(
    *, company: Company, message_id: int, note: str, actor: User | None, on: date, at: datetime
) -> Message:
    """Mark a pending call or task done, once, with what was done; it joins the history."""
    task = Message.objects.filter(company=company, pk=message_id).select_related("customer").first()
    if task is None or task.channel not in TASK_CHANNELS:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no call or task {message_id} in {company.code}")
    note = note.strip()
    done = Message.objects.filter(pk=task.pk, status=MessageStatus.PENDING).update(
        status=MessageStatus.SENT, body=note, sent_at=at, error=""
    )
    if not done:
        raise DunwellError(
            ErrorCode.CONFLICT,
            f"{task_name(task)} {task.pk} is {english(task.get_status_display).lower()}, not pending",
        )
    summary = f"{task_name(task)} (step {task.step}) done"
    activity.record(
        company=company,
        kind=ActivityKind.TASK_DONE,
        on=on,
        at=at,
        actor=actor,
        customer=task.customer,
        summary=(f"{summary}: {note}" if note else summary)[:300],
        data={"message": task.pk, "channel": task.channel, "note": note},
    )
    task.refresh_from_db()
    return task
