"""A statement of account sent now, on a person's request (the collector's worklist).

`send_statement` queues one email with the "statement" template to the customer's contacts who
receive statements (the accounts-payable clerk first); the normal delivery pass sends it with the
day's statement PDF attached. One a customer and day: asking again returns the message already
queued. The outbox row needs a decision of a run, as every message does: it is filed under the
day's run (created as the run itself would create it, so the run still runs), with no policy
of its own and step 0, which no policy step has, so it never meets a step's message.
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.dunning.models import (
    Channel,
    Decision,
    Message,
    MessageStatus,
    Outcome,
    Policy,
    Run,
    RunStatus,
)
from dunwell.ledger.models import Contact, ContactRole, Customer, OpenItem
from dunwell.ledger.services.activity import actor_label

STATEMENT_TEMPLATE = "statement"
STATEMENT_STEP = 0


def statement_recipients(customer: Customer) -> list[dict[str, str]]:
    contacts = Contact.objects.filter(
        customer=customer, receives_statements=True, email_bounced_on__isnull=True
    ).exclude(email="")
    rows = sorted(contacts, key=lambda c: (c.role != ContactRole.AP_CLERK, c.pk))
    return [{"name": c.name, "email": c.email, "role": c.role} for c in rows]


def _items(customer: Customer, on: date) -> list[dict[str, object]]:
    rows = (
        OpenItem.objects.filter(customer=customer, currency=customer.currency,
                                settled_on__isnull=True, voided_on__isnull=True, issued_on__lte=on)
        .exclude(open_minor=0)
        .order_by("due_on", "pk")
        .values_list("pk", "number", "due_on", "open_minor")
    )  # fmt: skip
    return [
        {"id": pk, "number": number, "due_on": due_on.isoformat(),
         "days_overdue": max(0, (on - due_on).days), "open_minor": open_minor, "step": 0}
        for pk, number, due_on, open_minor in rows
    ]  # fmt: skip


@transaction.atomic
def send_statement(
    *, company: Company, customer: Customer, on: date, at: datetime, actor: User | None
) -> tuple[Message, bool]:
    """The statement email of the customer for `on`, queued; (message, True when queued now)."""
    if customer.company_id != company.pk:
        raise DunwellError(ErrorCode.INVALID, "the customer belongs to another company")
    existing = Message.objects.filter(
        customer=customer, business_date=on, channel=Channel.EMAIL, template=STATEMENT_TEMPLATE
    ).first()
    if existing is not None:
        return existing, False
    recipients = statement_recipients(customer)
    if not recipients:
        raise DunwellError(
            ErrorCode.INVALID,
            f"{customer.account_number}: no contact with an email address receives statements",
            field="customer",
        )
    policy = Policy.objects.filter(company=company).order_by("-is_default", "pk").first()
    if policy is None:
        raise DunwellError(ErrorCode.INVALID, f"{company.code} has no dunning policy yet")
    run, _ = Run.objects.get_or_create(  # as the run's own `_take` would create it
        company=company, business_date=on,
        defaults={"status": RunStatus.FAILED, "lease_until": at, "owner": "", "started_at": at},
    )  # fmt: skip
    decision = Decision.objects.create(
        company=company, run=run, customer=customer, currency=customer.currency, policy=None,
        step=STATEMENT_STEP, outcome=Outcome.SENT,
        reason=f"statement of account sent on request by {actor_label(actor)}",
        items=_items(customer, on),
    )  # fmt: skip
    message = Message.objects.create(
        company=company, decision=decision, customer=customer, currency=customer.currency,
        policy=policy, step=STATEMENT_STEP, business_date=on, channel=Channel.EMAIL,
        template=STATEMENT_TEMPLATE, language=customer.language, recipients=recipients, cc=[],
        status=MessageStatus.PENDING, created_at=at,
    )  # fmt: skip
    return message, True
