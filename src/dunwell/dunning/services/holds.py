"""Manual holds: "do not dun this customer (or this invoice) until DATE, because ..."."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.dunning.models import Hold
from dunwell.ledger.models import ActivityKind, Customer, OpenItem
from dunwell.ledger.services import activity


@transaction.atomic
def place_hold(
    *,
    company: Company,
    customer: Customer,
    until: date,
    reason: str,
    on: date,
    at: datetime,
    actor: User | None,
    item: OpenItem | None = None,
) -> Hold:
    if customer.company_id != company.pk or (item is not None and item.customer_id != customer.pk):
        raise DunwellError(ErrorCode.INVALID, "the customer or invoice belongs to someone else")
    if not reason.strip():
        raise DunwellError(ErrorCode.INVALID, "a hold needs a reason", field="reason")
    if until < on:
        raise DunwellError(
            ErrorCode.INVALID, f"hold until {until.isoformat()}: that day has passed", field="until"
        )
    hold = Hold.objects.create(company=company, customer=customer, item=item, until=until,
                               reason=reason.strip()[:200], created_at=at,
                               created_by=activity.stored_actor(actor))  # fmt: skip
    what = f"invoice {item.number}" if item is not None else "account"
    activity.record(
        company=company,
        kind=ActivityKind.DUNNING_HOLD_PLACED,
        on=on,
        at=at,
        actor=actor,
        customer=customer,
        item=item,
        summary=f"dunning of the {what} on hold until {until.isoformat()}: {reason.strip()}",
        data={"hold": hold.pk, "until": until.isoformat()},
    )
    return hold


@transaction.atomic
def release_hold(*, hold: Hold, on: date, at: datetime, actor: User | None) -> Hold:
    if hold.released_on is not None:
        return hold
    hold.released_on = on
    hold.save(update_fields=["released_on"])
    activity.record(
        company=hold.company,
        kind=ActivityKind.DUNNING_HOLD_RELEASED,
        on=on,
        at=at,
        actor=actor,
        customer=hold.customer,
        item=hold.item,
        summary=f"dunning hold released ({hold.reason})",
        data={"hold": hold.pk},
    )
    return hold
