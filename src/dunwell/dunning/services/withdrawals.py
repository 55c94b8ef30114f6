"""Withdrawing reminders not yet sent that a customer's promise to pay has made pointless.

A pending email or letter whose decision demands only items the promise covers is withdrawn
(status withdrawn: it does not count as the customer's last message); a decision still awaiting
approval whose items are all covered is rejected, so its items go back to the step they had
reached (`approvals.reject`). A message that also demands something else stays: the promise
does not cover all it asks for. Calls and tasks stay too: they are for people, not the customer.
Each withdrawal is an entry in the customer's history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.dunning.models import Channel, Decision, Message, MessageStatus, Outcome
from dunwell.dunning.rules.steps import listed
from dunwell.dunning.services.approvals import reject
from dunwell.ledger.lock_objects import lock
from dunwell.ledger.models import ActivityKind, Customer, OpenItem
from dunwell.ledger.services import activity

WITHDRAWABLE = (Channel.EMAIL, Channel.LETTER)
NOT_SENT = (MessageStatus.PENDING, MessageStatus.AWAITING_APPROVAL)


@transaction.atomic
def withdraw_pending(
    *,
    customer: Customer,
    item_ids: Collection[int],
    reason: str,
    actor: User | None,
    on: date,
    at: datetime,
) -> list[int]:
    """Withdraw the customer's reminders not yet sent that demand only `item_ids` (empty: any
    of the customer's items); the ids of the messages withdrawn or cancelled."""
    covered = set(item_ids) or set(
        OpenItem.objects.filter(customer=customer).values_list("pk", flat=True)
    )
    billed = {customer.pk} | ({customer.parent_id} if customer.billed_to_parent and
                              customer.parent_id else set())  # fmt: skip
    candidates = Message.objects.filter(
        company_id=customer.company_id, customer_id__in=billed, channel__in=WITHDRAWABLE,
        status__in=NOT_SENT,
    ).values_list("pk", flat=True)  # fmt: skip
    messages = lock(Message, list(candidates))
    by_decision: dict[int, list[Message]] = defaultdict(list)
    for message in messages.values():
        by_decision[message.decision_id].append(message)
    done: list[int] = []
    for decision in Decision.objects.filter(pk__in=list(by_decision)).order_by("pk"):
        demanded = {row["id"] for row in listed(decision.items)}
        if not demanded or not demanded <= covered:
            continue
        mine = by_decision[decision.pk]
        if decision.outcome == Outcome.APPROVAL:
            reject(decision=decision, actor=actor, on=on, at=at, reason=f"withdrawn: {reason}")
        else:
            Message.objects.filter(
                pk__in=[m.pk for m in mine], status=MessageStatus.PENDING
            ).update(status=MessageStatus.WITHDRAWN, error=f"withdrawn: {reason}"[:500])
        done += [m.pk for m in mine]
        channels = " and ".join(sorted({english(m.get_channel_display).lower() for m in mine}))
        activity.record(
            company=customer.company, kind=ActivityKind.REMINDER_WITHDRAWN, on=on, at=at, actor=actor,
            customer=customer,
            summary=f"{channels} of {mine[0].business_date.isoformat()} (step {decision.step}) "
            f"withdrawn: {reason}",
            data={"decision": decision.pk, "messages": sorted(m.pk for m in mine)},
        )  # fmt: skip
    return sorted(done)


UNSENT = (MessageStatus.AWAITING_APPROVAL, MessageStatus.PENDING)


@transaction.atomic
def withdraw_unsent(
    *, company: Company, customer: Customer, reason: str, actor: User | None, on: date,
    at: datetime,
) -> int:  # fmt: skip
    """Withdraw everything dunning prepared for the customer and has not sent, calls and tasks
    too (an insolvency stops all dunning); decisions awaiting approval are rejected, so their
    items go back to the step they had reached. Returns how many messages."""
    unsent = Message.objects.filter(company=company, customer=customer, status__in=UNSENT)
    ids = sorted(unsent.values_list("pk", flat=True))
    withdrawn = unsent.filter(pk__in=ids).update(
        status=MessageStatus.WITHDRAWN, error=f"withdrawn: {reason}"[:500]
    )
    for decision in Decision.objects.filter(
        company=company, customer=customer, outcome=Outcome.APPROVAL
    ).order_by("pk"):
        reject(decision=decision, actor=actor, on=on, at=at, reason=f"withdrawn: {reason}")
    if withdrawn:
        activity.record(
            company=company, kind=ActivityKind.REMINDER_WITHDRAWN, on=on, at=at, actor=actor,
            customer=customer, summary=f"{withdrawn} unsent message(s) withdrawn: {reason}",
            data={"messages": ids},
        )  # fmt: skip
    return withdrawn
