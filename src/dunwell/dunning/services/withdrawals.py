"""Withdrawing what dunning prepared for a customer and has not sent: the messages awaiting
approval or delivery (emails, letters, call tasks) are cancelled, with why, and decisions that
awaited approval are rejected (their items go back to the step they had reached). Sent, being
delivered and uncertain messages are left alone (sending is at-most-once, invariant 4)."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.core.models import Company
from dunwell.dunning.models import Decision, Message, MessageStatus, Outcome
from dunwell.dunning.services.approvals import reject
from dunwell.ledger.models import Customer

UNSENT = (MessageStatus.AWAITING_APPROVAL, MessageStatus.PENDING)


@transaction.atomic
def withdraw_unsent(
    *, company: Company, customer: Customer, reason: str, actor: User | None, on: date,
    at: datetime,
) -> int:  # fmt: skip
    """Cancel the customer's unsent messages; returns how many."""
    withdrawn = Message.objects.filter(
        company=company, customer=customer, status__in=UNSENT
    ).update(status=MessageStatus.CANCELLED, error=f"withdrawn: {reason}"[:500])
    for decision in Decision.objects.filter(
        company=company, customer=customer, outcome=Outcome.APPROVAL
    ).order_by("pk"):
        reject(decision=decision, actor=actor, on=on, at=at, reason=f"withdrawn: {reason}")
    return withdrawn
