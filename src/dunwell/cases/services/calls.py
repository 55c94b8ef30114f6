"""Logging a call and adding a note: the call with its outcome joins the history, and the next
action becomes a follow-up task in the collector's queue (one transaction each).

Without a next action date, no answer and a voicemail mean trying again in two business days (the
company's holiday calendar); the other outcomes set no task unless a date is given. A call to the
wrong contact flags that contact: the flag is the call itself (see `cases.models.calls`), shown
wherever the contact is offered for a call, until a later call to it gets through.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cases.models import (
    CallDirection,
    CallLog,
    CallOutcome,
    Dispute,
    PromiseToPay,
    TaskKind,
)
from dunwell.cases.services.tasks import create_task
from dunwell.core.dates import add_business_days
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.ledger.models import Activity, ActivityKind, Contact, Customer, OpenItem
from dunwell.ledger.services import activity
from dunwell.ledger.services.activity import stored_actor
from dunwell.terms.services import holidays_for

RETRY_BUSINESS_DAYS = 2
RETRIED = (CallOutcome.NO_ANSWER, CallOutcome.VOICEMAIL)


@transaction.atomic
def log_call(
    *,
    company: Company,
    customer: Customer,
    outcome: str,
    contact: Contact | None = None,
    phone: str = "",
    direction: str = CallDirection.OUT,
    note: str = "",
    next_action_on: date | None = None,
    message_id: int | None = None,
    promise: PromiseToPay | None = None,
    dispute: Dispute | None = None,
    outcome_detail: str = "",
    actor: User | None,
    on: date,
    at: datetime,
) -> CallLog:
    """Record a call to (or from) `customer`; `message_id` names the step's call task it answers,
    `outcome_detail` what was agreed, for the history ("promised EUR 500.00 by 2026-12-04")."""
    _check(company, customer, outcome, direction, contact, next_action_on, on)
    if message_id is not None:
        earlier = CallLog.objects.filter(company=company, message_id=message_id).first()
        if earlier is not None:
            raise DunwellError(ErrorCode.CONFLICT, f"call task {message_id} was already logged: "
                               f"call {earlier.pk} on {earlier.on.isoformat()}",
                               field="task")  # fmt: skip
    note = note.strip()
    call = CallLog.objects.create(
        company=company, customer=customer, contact=contact,
        phone=(phone.strip() or (contact.phone if contact else ""))[:40], direction=direction,
        outcome=outcome, note=note, next_action_on=next_action_on, message_id=message_id,
        promise=promise, dispute=dispute, called_at=at, on=on, actor=stored_actor(actor),
    )  # fmt: skip
    due = next_action_on or _retry_on(company, outcome, on)
    if due is not None:
        call.follow_up = create_task(
            company=company, customer=customer, kind=TaskKind.FOLLOW_UP,
            title=_follow_up_title(call), due_on=due, source=f"call {call.pk}",
            key=f"call:{call.pk}:follow-up", actor=actor, at=at, on=on,
        )  # fmt: skip
        call.save(update_fields=["follow_up"])
    activity.record(company=company, kind=ActivityKind.CALL_LOGGED, on=on, at=at, actor=actor,
                    customer=customer, summary=call_summary(call, outcome_detail.strip()),
                    data={"call": call.pk, "outcome": outcome, "note": note,
                          "message": message_id, "next_action_on": due.isoformat() if due else None})  # fmt: skip
    return call


def call_summary(call: CallLog, detail: str = "") -> str:
    """`call to Anna Weber (+49 30 1234): spoke: promise to pay: pays Friday; next action ...`"""
    towards = "call from" if call.direction == CallDirection.IN else "call to"
    who = call.contact.name if call.contact else call.customer.legal_name
    summary = f"{towards} {who}" + (f" ({call.phone})" if call.phone else "")
    summary += f": {english(call.get_outcome_display).lower()}"
    if call.outcome == CallOutcome.WRONG_CONTACT and call.contact:
        summary += f" ({call.contact.name} flagged)"
    if call.dispute is not None:
        summary += f" (dispute {call.dispute.pk} opened)"
    if detail:
        summary += f" ({detail})"
    if call.note:
        summary += f": {call.note}"
    if call.follow_up is not None:
        summary += f"; next action {call.follow_up.due_on.isoformat()}"
    return summary[:300]


@transaction.atomic
def add_note(
    *,
    company: Company,
    customer: Customer,
    item: OpenItem | None = None,
    text: str,
    actor: User | None,
    on: date,
    at: datetime,
) -> Activity:
    """A note on the account (or on one of its invoices) in the history."""
    text = text.strip()
    if not text:
        raise DunwellError(ErrorCode.INVALID, "a note needs a text", field="text")
    if customer.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"{customer.account_number} is not "
                           f"{company.code}'s")  # fmt: skip
    if item is not None and (item.company_id != company.pk or item.customer_id != customer.pk):
        raise DunwellError(ErrorCode.NOT_FOUND, f"{item} is not {customer.account_number}'s",
                           field="item")  # fmt: skip
    summary = f"note on {item.number}: {text}" if item is not None else f"note: {text}"
    return activity.record(company=company, kind=ActivityKind.NOTE_ADDED, on=on, at=at,
                           actor=actor, customer=customer, item=item, summary=summary[:300],
                           data={"note": text})  # fmt: skip


def flagged_contacts(customer_ids: Iterable[int]) -> set[int]:
    """The contacts whose latest logged call found them the wrong contact."""
    latest: dict[int, str] = {}
    rows = (
        CallLog.objects.filter(customer_id__in=list(customer_ids), contact__isnull=False)
        .order_by("contact_id", "-called_at", "-pk")
        .values_list("contact_id", "outcome")
    )
    for contact_id, outcome in rows:
        latest.setdefault(contact_id, outcome)
    return {c for c, outcome in latest.items() if outcome == CallOutcome.WRONG_CONTACT}


def _check(company: Company, customer: Customer, outcome: str, direction: str,
           contact: Contact | None, next_action_on: date | None, on: date) -> None:  # fmt: skip
    if outcome not in CallOutcome.values:
        raise DunwellError(ErrorCode.INVALID, f"outcome {outcome!r}: expected one of "
                           f"{', '.join(CallOutcome.values)}", field="outcome")  # fmt: skip
    if direction not in CallDirection.values:
        raise DunwellError(ErrorCode.INVALID, f"direction {direction!r}: expected one of "
                           f"{', '.join(CallDirection.values)}", field="direction")  # fmt: skip
    if customer.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"{customer.account_number} is not "
                           f"{company.code}'s")  # fmt: skip
    if contact is not None and contact.customer_id != customer.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"{contact.name} is not a contact of "
                           f"{customer.account_number}", field="contact")  # fmt: skip
    if next_action_on is not None and next_action_on < on:
        raise DunwellError(ErrorCode.INVALID, f"next action date {next_action_on.isoformat()} "
                           f"is before today ({on.isoformat()})", field="next_action_on")  # fmt: skip


def _retry_on(company: Company, outcome: str, on: date) -> date | None:
    if outcome not in RETRIED:
        return None
    holidays = holidays_for(company, range(on.year, on.year + 2))
    return add_business_days(on, RETRY_BUSINESS_DAYS, holidays)


def _follow_up_title(call: CallLog) -> str:
    who = call.contact.name if call.contact else call.customer.legal_name
    if call.outcome in RETRIED:
        return f"Call {who} again ({english(call.get_outcome_display).lower()})"
    return f"Follow up the call with {who}" + (f": {call.note}" if call.note else "")
