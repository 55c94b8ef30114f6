"""Holding back reminders not yet sent when what they demand is no longer to be demanded (a
payment plan was agreed for it): the outbox's pending emails and letters are cancelled, with the
reason, before a delivery picks them up. Only messages all of whose dunned items are named are
held back: a reminder that also demands something else still goes."""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction

from dunwell.core.models import Company
from dunwell.dunning.models import Channel, Message, MessageStatus
from dunwell.ledger.models import Customer

HELD_BACK_CHANNELS = (Channel.EMAIL, Channel.LETTER)


@transaction.atomic
def hold_back_messages(
    *, company: Company, customer: Customer, item_ids: Collection[int], reason: str
) -> list[int]:
    """Cancel the customer's pending emails and letters that demand only `item_ids`; their ids."""
    wanted = set(item_ids)
    pending = Message.objects.select_for_update().filter(
        company=company, customer=customer, status=MessageStatus.PENDING,
        channel__in=HELD_BACK_CHANNELS,
    ).select_related("decision")  # fmt: skip
    held = [
        message.pk
        for message in pending
        if (dunned := {row["id"] for row in message.decision.items if not row.get("paused")})
        and dunned <= wanted
    ]
    Message.objects.filter(pk__in=held, status=MessageStatus.PENDING).update(
        status=MessageStatus.CANCELLED, error=f"held back: {reason}"[:500]
    )
    return held
