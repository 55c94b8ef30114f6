"""Logging a call from the collector's desk: in one transaction the call joins the case history
(`cases.services.calls`), the dunning step's call task it answers is done
(`dunning.services.followups`), and what the customer said is acted on: a dispute is opened on
the invoices named, or the promise to pay is recorded (`workflows.promises.open_promise`: dunning
pauses and the reminders it made pointless are withdrawn). A refusal anywhere leaves nothing
behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cases.models import CallLog, CallOutcome
from dunwell.cases.services import calls
from dunwell.cases.services.disputes import open_dispute
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.dunning.models import Channel, Message
from dunwell.dunning.services.followups import complete_task
from dunwell.ledger.models import Contact, Customer, OpenItem
from dunwell.workflows.promises import open_promise


@dataclass(frozen=True)
class PromiseSpec:
    """What the customer promised on the phone."""

    amount_minor: int
    currency: str
    promised_on: date
    promised_by: str = ""
    items: Sequence[OpenItem] = field(default_factory=tuple)


@dataclass(frozen=True)
class DisputeSpec:
    """What the customer disputes: (invoice, amount; None for all that is open), and why."""

    items: Sequence[tuple[OpenItem, int | None]]
    reason: str


@transaction.atomic
def log_call(
    *,
    company: Company,
    customer: Customer,
    outcome: str,
    contact: Contact | None = None,
    phone: str = "",
    direction: str = "out",
    note: str = "",
    next_action_on: date | None = None,
    message_id: int | None = None,
    promise: PromiseSpec | None = None,
    dispute: DisputeSpec | None = None,
    actor: User | None,
    on: date,
    at: datetime,
) -> CallLog:
    """Log the call, close the step's call task `message_id`, open the dispute it brought up."""
    _check_details(outcome, promise, dispute)
    if message_id is not None:
        _call_task(company, customer, message_id)
    opened = None
    if dispute is not None:
        opened = open_dispute(company=company, customer=customer, items=dispute.items,
                              reason=dispute.reason, note=note, actor=actor, on=on, at=at)  # fmt: skip
    promised = None
    if promise is not None:
        who = promise.promised_by or (contact.name if contact else "") or "by phone"
        promised = open_promise(
            company=company, customer=customer, amount_minor=promise.amount_minor,
            currency=promise.currency, promised_on=promise.promised_on, promised_by=who,
            channel="phone", items=promise.items, note=note, actor=actor, on=on, at=at,
        )  # fmt: skip
    call = calls.log_call(
        company=company, customer=customer, outcome=outcome, contact=contact, phone=phone,
        direction=direction, note=note, next_action_on=next_action_on, message_id=message_id,
        dispute=opened, promise=promised, outcome_detail=_promised(promise) if promise else "", actor=actor, on=on,
        at=at,
    )  # fmt: skip
    if message_id is not None:
        done = f"call {call.pk}: {english(call.get_outcome_display).lower()}"
        complete_task(company=company, message_id=message_id,
                      note=f"{done}: {call.note}" if call.note else done, actor=actor, on=on,
                      at=at)  # fmt: skip
    return call


def _check_details(outcome: str, promise: PromiseSpec | None, dispute: DisputeSpec | None) -> None:
    if outcome == CallOutcome.PROMISE and promise is None:
        raise DunwellError(ErrorCode.INVALID, "promise outcome needs promise details "
                           "(amount, currency, date)", field="promise")  # fmt: skip
    if outcome != CallOutcome.PROMISE and promise is not None:
        raise DunwellError(ErrorCode.INVALID, f"promise details given for outcome {outcome!r}; "
                           "they go with the outcome promise", field="promise")  # fmt: skip
    if promise is not None and promise.amount_minor <= 0:
        raise DunwellError(ErrorCode.INVALID, "a promised amount is more than zero",
                           field="amount")  # fmt: skip
    if outcome == CallOutcome.DISPUTE and dispute is None:
        raise DunwellError(ErrorCode.INVALID, "dispute outcome needs the disputed invoices and "
                           "a reason", field="dispute")  # fmt: skip
    if outcome != CallOutcome.DISPUTE and dispute is not None:
        raise DunwellError(ErrorCode.INVALID, f"dispute details given for outcome {outcome!r}; "
                           "they go with the outcome dispute", field="dispute")  # fmt: skip


def _call_task(company: Company, customer: Customer, message_id: int) -> None:
    task = Message.objects.filter(company=company, pk=message_id, channel=Channel.CALL).first()
    if task is None or task.customer_id != customer.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no call task {message_id} for "
                           f"{customer.account_number} in {company.code}", field="task")  # fmt: skip


def _promised(promise: PromiseSpec) -> str:
    amount = Money.from_minor(promise.amount_minor, promise.currency)
    by = f" ({promise.promised_by})" if promise.promised_by else ""
    numbers = ", ".join(item.number for item in promise.items)
    return f"promised {amount} by {promise.promised_on.isoformat()}{by}" + (
        f" for {numbers}" if numbers else ""
    )
