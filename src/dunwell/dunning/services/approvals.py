"""Steps a person must confirm (a final demand, a letter before action): approve or reject.

Approving releases the decision's messages to the outbox and, for a step with the hold channel,
places the credit hold. Rejecting cancels them and puts each item back on the step it had
reached, so the next run decides again (with the reason in the decision).
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.credit.services.holds import place_credit_hold
from dunwell.dunning.models import Channel, Decision, ItemStep, MessageStatus, Outcome, Step
from dunwell.dunning.services.charges import charge_for_message
from dunwell.ledger.services import activity


def _awaiting(decision: Decision) -> Decision:
    locked = Decision.objects.select_for_update().get(pk=decision.pk)
    if locked.outcome != Outcome.APPROVAL:
        raise DunwellError(
            ErrorCode.CONFLICT,
            f"decision {decision.pk} does not await approval (it is {english(locked.get_outcome_display)})",
        )
    return locked


@transaction.atomic
def approve(*, decision: Decision, actor: User | None, on: date, at: datetime) -> int:
    """Release the messages of `decision`; returns how many."""
    decision = _awaiting(decision)
    released = decision.messages.filter(status=MessageStatus.AWAITING_APPROVAL).update(
        status=MessageStatus.PENDING
    )
    step = Step.objects.get(policy=decision.policy, sequence=decision.step)
    charge_for_message(company=decision.company, customer_id=decision.customer_id, step=step,
                       currency=decision.currency, items=decision.items,
                       on=decision.run.business_date, at=at, actor=actor)  # fmt: skip
    if Channel.HOLD in step.channels:
        place_credit_hold(company=decision.company, customer=decision.customer, on=on, at=at,
                          reason=f"dunning step {step.sequence} ({step.name})", source="dunning",
                          actor=actor)  # fmt: skip
    who = activity.actor_label(actor)
    decision.outcome = Outcome.SENT
    decision.reason = f"{decision.reason}; approved by {who} on {on.isoformat()}"[:300]
    decision.decided_by, decision.decided_at = activity.stored_actor(actor), at
    decision.save(update_fields=["outcome", "reason", "decided_by", "decided_at"])
    return released


@transaction.atomic
def reject(*, decision: Decision, actor: User | None, on: date, at: datetime, reason: str) -> None:
    """Cancel the messages of `decision` and put its items back where they were."""
    if not reason.strip():
        raise DunwellError(ErrorCode.INVALID, "a rejection needs a reason", field="reason")
    decision = _awaiting(decision)
    decision.messages.filter(status=MessageStatus.AWAITING_APPROVAL).update(
        status=MessageStatus.CANCELLED
    )
    for row in decision.items:
        if not row.get("step"):
            continue  # listed, not advanced
        if row.get("from_step"):
            ItemStep.objects.filter(item_id=row["id"]).update(
                reached=row["from_step"], reached_on=date.fromisoformat(row["from_on"])
            )
        else:
            ItemStep.objects.filter(item_id=row["id"]).delete()
    who = activity.actor_label(actor)
    decision.outcome = Outcome.REJECTED
    decision.reason = f"{decision.reason}; rejected by {who} on {on.isoformat()}: {reason}"[:300]
    decision.decided_by, decision.decided_at = activity.stored_actor(actor), at
    decision.save(update_fields=["outcome", "reason", "decided_by", "decided_at"])
