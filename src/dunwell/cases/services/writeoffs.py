"""Write-offs with a second person's approval above the company's threshold.

A request at or below `Company.write_off_approval_minor` (compared in the base currency, through
the dated rate of the day when the item is in another currency) is written off at once; above
it waits until a credit manager or an administrator other than the requester approves it, and the
approval books the write-off in the ledger in the same transaction. Every step is in the item's
history.
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum

from dunwell.cases.models import WriteOffRequest, WriteOffState
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company, Membership, Role
from dunwell.core.money import Money, convert
from dunwell.ledger.lock_objects import lock
from dunwell.ledger.models import ActivityKind, OpenItem
from dunwell.ledger.services import activity
from dunwell.ledger.services.allocations import write_off
from dunwell.ledger.services.fx import rate_on

DECIDERS = (Role.CREDIT_MANAGER, Role.ADMIN)


@transaction.atomic
def request_write_off(
    *,
    company: Company,
    item: OpenItem,
    reason: str,
    amount_minor: int | None = None,
    actor: User | None,
    on: date,
    at: datetime,
) -> WriteOffRequest:
    """Write off `amount_minor` of `item` (None: all that is open), or ask for approval."""
    item = lock(OpenItem, [item.pk])[item.pk]
    if item.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no {item} in {company.code}")
    if not reason.strip():
        raise DunwellError(ErrorCode.INVALID, "a write-off needs a reason", field="reason")
    amount = item.open_minor if amount_minor is None else amount_minor
    waiting = (
        WriteOffRequest.objects.filter(item=item, state=WriteOffState.PENDING).aggregate(
            s=Sum("amount_minor")
        )["s"]
        or 0
    )
    if not 0 < amount <= item.open_minor - waiting:
        free = Money.from_minor(max(item.open_minor - waiting, 0), item.currency)
        pending = (
            f" ({Money.from_minor(waiting, item.currency)} awaits approval)" if waiting else ""
        )
        raise DunwellError(ErrorCode.INVALID, f"{item}: a write-off is more than zero and at most "
                           f"the {free} open{pending}", field="amount")  # fmt: skip
    base = company.base_currency
    rate, rate_day = rate_on(item.currency, base, on)
    base_minor = convert(Money.from_minor(amount, item.currency), rate, base).minor
    request = WriteOffRequest(
        company=company, item=item, amount_minor=amount, currency=item.currency,
        base_minor=base_minor, reason=reason.strip()[:200], requested_by=activity.stored_actor(actor),
        requested_on=on, requested_at=at,
        **({} if item.currency == base else {"fx_rate": rate, "fx_on": rate_day}),
    )  # fmt: skip
    threshold = Money.from_minor(company.write_off_approval_minor, base)
    if base_minor <= company.write_off_approval_minor:
        request.write_off = write_off(company=company, item=item, on=on, reason=request.reason,
                                      amount_minor=amount, actor=actor, at=at)  # fmt: skip
        request.state, request.decided_at = WriteOffState.EXECUTED, at
        request.decision_note = f"within the approval threshold of {threshold}"
        request.save()
        return request
    request.state = WriteOffState.PENDING
    request.save()
    conversion = (
        f" = {Money.from_minor(base_minor, base)} at {rate} on {rate_day.isoformat()}"
        if item.currency != base
        else ""
    )
    _record(request, ActivityKind.WRITE_OFF_REQUESTED, on, at, actor,
            f"write-off of {_amount(request)}{conversion} of {item} requested by "
            f"{activity.actor_label(actor)}, above the approval threshold of {threshold}: "
            f"{request.reason}")  # fmt: skip
    return request


@transaction.atomic
def approve_write_off(
    *, request: WriteOffRequest, actor: User | None, note: str = "", on: date, at: datetime
) -> WriteOffRequest:
    """A second person approves: the write-off is booked now, once."""
    request = _pending(request, actor)
    if request.requested_by_id is not None and actor is not None and \
            request.requested_by_id == actor.pk:  # fmt: skip
        raise DunwellError(ErrorCode.PERMISSION_DENIED, f"{request} was asked for by "
                           f"{actor.get_username()}: a write-off above the threshold needs a "
                           "second person's approval")  # fmt: skip
    request.write_off = write_off(company=request.company, item=request.item, on=on,
                                  reason=f"{request.reason} (approved by "
                                  f"{activity.actor_label(actor)})", amount_minor=request.amount_minor,
                                  actor=actor, at=at)  # fmt: skip
    _decide(request, WriteOffState.APPROVED, actor, at, note)
    _record(request, ActivityKind.WRITE_OFF_APPROVED, on, at, actor,
            f"write-off of {_amount(request)} of {request.item} approved by "
            f"{activity.actor_label(actor)}" + (f": {note}" if note else ""))  # fmt: skip
    return request


@transaction.atomic
def reject_write_off(
    *, request: WriteOffRequest, actor: User | None, reason: str, on: date, at: datetime
) -> WriteOffRequest:
    """A credit manager or an administrator turns the request down, with why."""
    if not reason.strip():
        raise DunwellError(ErrorCode.INVALID, "a rejection needs a reason", field="reason")
    request = _pending(request, actor)
    _decide(request, WriteOffState.REJECTED, actor, at, reason)
    _record(request, ActivityKind.WRITE_OFF_REJECTED, on, at, actor,
            f"write-off of {_amount(request)} of {request.item} rejected by "
            f"{activity.actor_label(actor)}: {reason}")  # fmt: skip
    return request


def may_decide(user: User | None, company: Company) -> bool:
    """Credit managers and administrators of the company (and superusers) decide requests."""
    if user is None or user.pk is None:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user_id=user.pk, company=company, role__in=DECIDERS).exists()


def _pending(request: WriteOffRequest, actor: User | None) -> WriteOffRequest:
    locked = lock(WriteOffRequest, [request.pk])[request.pk]
    if not may_decide(actor, locked.company):
        who = actor.get_username() if actor is not None else "nobody"
        raise DunwellError(ErrorCode.PERMISSION_DENIED, f"{who} may not decide write-offs in "
                           f"{locked.company.code}: a credit manager or an administrator "
                           "does")  # fmt: skip
    if locked.state != WriteOffState.PENDING:
        raise DunwellError(ErrorCode.CONFLICT, f"{locked} is already decided: "
                           f"{english(locked.get_state_display).lower()}")  # fmt: skip
    return locked


def _decide(request: WriteOffRequest, state: str, actor: User | None, at: datetime,
            note: str) -> None:  # fmt: skip
    request.state, request.decided_at = state, at
    request.decided_by, request.decision_note = activity.stored_actor(actor), note[:300]
    request.save(update_fields=["state", "decided_at", "decided_by", "decision_note",
                                "write_off"])  # fmt: skip


def _amount(request: WriteOffRequest) -> Money:
    return Money.from_minor(request.amount_minor, request.currency)


def _record(request: WriteOffRequest, kind: ActivityKind, on: date, at: datetime,
            actor: User | None, summary: str) -> None:  # fmt: skip
    activity.record_on_item(request.item, kind, on=on, at=at, actor=actor,
                            amount_minor=request.amount_minor,
                            summary=f"{summary} [request {request.pk}]"[:300])  # fmt: skip
