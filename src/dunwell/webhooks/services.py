"""Webhooks out: the account history's entries, as events, POSTed to the subscribers' URLs.

The history is the event log: every entry of the kinds in `EVENTS` is an event. `enqueue`
turns the entries a subscription has not seen yet (its `after_activity` cursor) into
deliveries, at most once each (unique per subscription and entry); `deliver` POSTs the due
ones, signed, and retries a refused or unreachable one with backoff (1, 2, 4 … minutes, at most
a day apart) up to MAX_ATTEMPTS; `replay` queues a delivery again; `deactivate` pauses a
subscription and `reactivate` resumes it where it stopped. Nothing is lost: a crash
between sending and recording sends the event again (receivers dedupe on `Dunwell-Delivery`).

The request: a JSON body {"id", "event", "created", "company", "data"}, the headers
`Dunwell-Event`, `Dunwell-Delivery` and `Dunwell-Signature: t=<unix time>,v1=<hex>`, where v1
is HMAC-SHA256 with the subscription's secret over "<t>.<body>" (as Stripe signs its own), so a
receiver checks both who sent it and that it is recent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.ledger.models import Activity, ActivityKind
from dunwell.ledger.services.activity import stored_actor
from dunwell.webhooks.models import Delivery, DeliveryStatus, Subscription

K = ActivityKind
EVENTS: dict[str, tuple[ActivityKind, ...]] = {
    "invoice.issued": (K.INVOICE_ISSUED,),
    "invoice.overdue": (K.ITEM_OVERDUE,),
    "payment.received": (K.PAYMENT_RECEIVED,),
    "payment.applied": (K.ALLOCATED,),
    "payment.voided": (K.PAYMENT_VOIDED,),
    "reminder.sent": (K.REMINDER_SENT,),
    "promise.made": (K.PROMISE_MADE,),
    "promise.kept": (K.PROMISE_KEPT,),
    "promise.broken": (K.PROMISE_BROKEN, K.PROMISE_PARTLY_KEPT),
    "dispute.opened": (K.DISPUTE_OPENED,),
    "dispute.resolved": (K.DISPUTE_RESOLVED,),
    "credit.hold_changed": (K.CREDIT_HOLD_PLACED, K.CREDIT_HOLD_RELEASED),
    "plan.agreed": (K.PLAN_AGREED,),
    "portal.payment_reported": (K.PORTAL_PAYMENT_REPORTED,),
}
EVENT_OF: dict[int, str] = {kind.value: name for name, kinds in EVENTS.items() for kind in kinds}
# What an event's history entry holds beyond the common fields, sent with it in `data`.
DETAILS: dict[str, tuple[str, ...]] = {"invoice.overdue": ("due_on", "total_minor", "open_minor")}
MAX_ATTEMPTS = 10
TIMEOUT_SECONDS = 10
BATCH = 500


def subscribe(
    *, company: Company, url: str, events: list[str], actor: User | None, at: datetime
) -> Subscription:
    """A subscription to `events` from now on (the history before it is not sent)."""
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise DunwellError(ErrorCode.INVALID, f"events: {', '.join(unknown) or 'none given'}: "
                           f"expected some of {', '.join(EVENTS)}", field="events")  # fmt: skip
    if not url.startswith(("https://", "http://")):
        raise DunwellError(ErrorCode.INVALID, f"{url!r} is not an http(s) address", field="url")
    last = Activity.objects.filter(company=company).order_by("-pk").values_list("pk", flat=True)
    return Subscription.objects.create(
        company=company, url=url, events=sorted(set(events)),
        secret=f"whsec_{secrets.token_urlsafe(24)}", after_activity=last.first() or 0,
        created_at=at, created_by=actor,
    )  # fmt: skip


def subscriptions(company: Company) -> QuerySet[Subscription]:
    """The company's subscriptions, newest first, each with the outcome of its latest event:
    `latest_status`, `latest_attempts`, `latest_code` (the receiver's answer), `latest_error`
    (None before the first event is queued)."""
    latest = Delivery.objects.filter(subscription=OuterRef("pk")).order_by("-activity_id")
    shown = {"latest_status": "status", "latest_attempts": "attempts",
             "latest_code": "last_status", "latest_error": "last_error"}  # fmt: skip
    return (
        Subscription.objects.filter(company=company)
        .select_related("created_by", "changed_by")
        .annotate(**{name: Subquery(latest.values(column)[:1]) for name, column in shown.items()})
        .order_by("-created_at", "-pk")
    )


def _set_active(subscription: Subscription, active: bool, actor: User | None,
                at: datetime) -> Subscription:  # fmt: skip
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.active == active:
        state = "active" if active else "inactive"
        raise DunwellError(ErrorCode.CONFLICT, f"webhook {locked.pk} is {state} already",
                           field="active")  # fmt: skip
    Subscription.objects.filter(pk=locked.pk).update(active=active, changed_at=at,
                                                     changed_by=stored_actor(actor))  # fmt: skip
    locked.refresh_from_db()
    return locked


@transaction.atomic
def deactivate(*, subscription: Subscription, actor: User | None, at: datetime) -> Subscription:
    """Stop queueing and sending its events; the deliveries waiting stay, unsent."""
    return _set_active(subscription, False, actor, at)


@transaction.atomic
def reactivate(*, subscription: Subscription, actor: User | None, at: datetime) -> Subscription:
    """Send again, from where it stopped: the events recorded meanwhile are queued by the next
    `enqueue` (nothing is lost), and the deliveries waiting are sent."""
    return _set_active(subscription, True, actor, at)


def payload(activity: Activity, event: str, delivery_key: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "summary": activity.summary, "on": activity.on.isoformat(),
        "recorded_at": activity.recorded_at.isoformat(),
        "customer": activity.customer.account_number if activity.customer else None,
        "item": activity.item.number if activity.item else None,
        "payment": activity.payment.external_id if activity.payment else None,
        "amount_minor": activity.amount_minor, "currency": activity.currency or None,
    }  # fmt: skip
    for name in DETAILS.get(event, ()):
        data[name] = activity.data.get(name)
    return {"id": delivery_key, "event": event, "created": activity.recorded_at.isoformat(),
            "company": activity.company.code, "data": data}  # fmt: skip


@transaction.atomic
def enqueue(*, company: Company, at: datetime) -> int:
    """Queue the new history entries for each active subscription; how many deliveries."""
    made = 0
    for sub in Subscription.objects.select_for_update().filter(company=company, active=True):
        kinds = [kind for name in sub.events for kind in EVENTS.get(name, ())]
        while True:
            batch = list(
                Activity.objects.filter(company=company, pk__gt=sub.after_activity,
                                        kind__in=kinds)
                .select_related("company", "customer", "item", "payment")
                .order_by("pk")[:BATCH]
            )  # fmt: skip
            if not batch:
                break
            Delivery.objects.bulk_create(
                [Delivery(subscription=sub, activity_id=a.pk, event=EVENT_OF[a.kind],
                          payload=payload(a, EVENT_OF[a.kind], f"evt_{sub.pk}_{a.pk}"),
                          next_attempt_at=at, created_at=at) for a in batch],
                ignore_conflicts=True,
            )  # fmt: skip
            made += len(batch)
            sub.after_activity = batch[-1].pk
        Subscription.objects.filter(pk=sub.pk).update(after_activity=sub.after_activity)
    return made


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** (attempts - 1)), timedelta(days=1))


def deliver(*, at: datetime, company: Company | None = None, limit: int = 200) -> DeliveryReport:
    """POST the due deliveries (each recorded as it goes)."""
    report = DeliveryReport()
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=at,
                                  subscription__active=True)  # fmt: skip
    if company is not None:
        due = due.filter(subscription__company=company)
    for delivery in due.select_related("subscription").order_by("next_attempt_at", "pk")[:limit]:
        _send(delivery, at, report)
    return report


def _send(delivery: Delivery, at: datetime, report: DeliveryReport) -> None:
    sub = delivery.subscription
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    request = urllib.request.Request(sub.url, data=body, method="POST", headers={  # noqa: S310 - http(s) only (subscribe)
        "Content-Type": "application/json", "User-Agent": "Dunwell-Webhooks/1",
        "Dunwell-Event": delivery.event, "Dunwell-Delivery": str(delivery.payload["id"]),
        "Dunwell-Signature": signature(sub.secret, body, int(at.timestamp())),
    })  # fmt: skip
    status, error = None, ""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as refused:
        status, error = refused.code, f"answered {refused.code}"
    except (urllib.error.URLError, OSError) as down:
        error = f"not reached: {getattr(down, 'reason', down)}"
    attempts = delivery.attempts + 1
    if status is not None and 200 <= status < 300:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SENT, attempts=attempts, last_status=status, last_error="",
            delivered_at=at)  # fmt: skip
        report.sent += 1
        return
    final = attempts >= MAX_ATTEMPTS
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING, attempts=attempts,
        last_status=status, last_error=error[:300], next_attempt_at=at + backoff(attempts),
    )  # fmt: skip
    if final:
        report.failed += 1
    else:
        report.retrying += 1
    report.errors.append(f"delivery {delivery.pk} to {sub.url}: {error}")


def replay(*, delivery: Delivery, at: datetime) -> Delivery:
    """Send a delivery again (a failed one, or one the receiver lost): due now."""
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING,
                                                   next_attempt_at=at)  # fmt: skip
    delivery.refresh_from_db()
    return delivery


def deliveries(
    company: Company, *, subscription: Subscription | None = None, failed_only: bool = False
) -> QuerySet[Delivery]:
    """The company's deliveries (of one subscription: newest event first; else newest first).
    `failed_only`: those that failed for good and those tried but not delivered yet."""
    rows = Delivery.objects.filter(subscription__company=company)
    if failed_only:
        rows = rows.filter(Q(status=DeliveryStatus.FAILED) | Q(attempts__gt=0, delivered_at=None))
    if subscription is not None:
        return rows.filter(subscription=subscription).order_by("-activity_id")
    return rows.select_related("subscription").order_by("-pk")


def log(company: Company, *, failed_only: bool = False) -> list[Delivery]:
    return list(deliveries(company, failed_only=failed_only)[:200])
