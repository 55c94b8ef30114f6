"""Delivering the outbox's emails over SMTP, each at most once (issue 3 point 5, invariant 4).

A worker claims a pending email (status ``sending``, one attempt more), renders it, hands it to
the mail server with a Message-ID of its own, and records it as ``sent`` with the exact subject
and body, in the customer's history too. The statement of account goes with it as a PDF (when
its step says so), laid out once per customer and day (`statements`) and linked from the message
as sent. What can go wrong:

- the template cannot be rendered: that message ``failed`` with the reason, the others go on;
- the server refuses every recipient: ``failed``, and the contacts' addresses are marked bounced,
  so the customer's next message goes by letter;
- the server cannot be reached or answers "try later": ``pending`` again, the next attempt after
  1, 2, 4, 8 ... minutes; after `MAX_ATTEMPTS` ``failed``;
- the worker dies after the server took the message and before recording it: the message stays
  ``sending``; the next delivery pass marks it ``uncertain`` after `CLAIM_TIMEOUT` and never sends
  it again (a person checks the mail server's log by its Message-ID).
"""

from __future__ import annotations

import contextlib
import smtplib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import make_msgid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F, Q, QuerySet

from dunwell.core import faults
from dunwell.core.dates import holiday_calendar, is_business_day
from dunwell.core.models import Company
from dunwell.dunning.models import Channel, Message, MessageStatus, StatementCopy, Step
from dunwell.dunning.rendering import Renderer, RenderError
from dunwell.dunning.services.statement_requests import STATEMENT_TEMPLATE
from dunwell.dunning.services.statements import statement_copies
from dunwell.ledger.models import ActivityKind, Contact
from dunwell.ledger.services import activity

MAX_ATTEMPTS = 6
CLAIM_TIMEOUT = timedelta(minutes=10)
CHUNK = 100  # messages claimed, then read, together


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retry: int = 0
    uncertain: int = 0
    errors: list[str] = field(default_factory=list)
    waiting: int = 0  # it is night, a weekend or a holiday where their customers are

    def as_dict(self) -> dict[str, object]:
        return {"sent": self.sent, "failed": self.failed, "retry": self.retry,
                "uncertain": self.uncertain, "waiting": self.waiting,
                "errors": self.errors}  # fmt: skip


def in_quiet_hours(time_zone: str, at: datetime) -> bool:
    """Whether `at` falls in DUNNING_QUIET_HOURS (e.g. 20-7: from 20:00 to 06:59) in a time
    zone: no reminder lands in a mailbox at night."""
    start, end = settings.DUNNING_QUIET_HOURS
    if start == end:
        return False
    hour = at.astimezone(ZoneInfo(time_zone or "UTC")).hour
    return start <= hour < end if start < end else hour >= start or hour < end


def _not_now(pending: QuerySet[Message], at: datetime) -> Q | None:
    """The pending messages that wait: it is night, a weekend or a public holiday where the
    customer is (its own time zone and country, else its company's)."""
    places = set(
        pending.values_list(
            "customer__time_zone", "customer__country", "company__time_zone",
            "company__holiday_country",
        ).distinct()
    )  # fmt: skip
    waiting = Q(pk__in=[])
    for customer_zone, customer_country, company_zone, company_country in places:
        zone = customer_zone or company_zone or "UTC"
        if in_quiet_hours(zone, at) or not _working_day(
            customer_country or company_country, at.astimezone(ZoneInfo(zone)).date()
        ):
            waiting |= Q(
                customer__time_zone=customer_zone, customer__country=customer_country,
                company__time_zone=company_zone, company__holiday_country=company_country,
            )  # fmt: skip
    return None if waiting == Q(pk__in=[]) else waiting


def _working_day(country: str, day: date) -> bool:
    try:
        holidays = holiday_calendar(country, None, (day.year,)) if country else frozenset()
    except ValueError:  # no calendar for that country: weekends only
        holidays = frozenset()
    return is_business_day(day, holidays)


def deliver_emails(
    *,
    at: datetime,
    company: Company | None = None,
    limit: int = 500,
    backend: str | None = None,
    statements: bool = True,
) -> DeliveryReport:
    """One pass over the pending emails (of one company, or all); `backend` another email
    backend than EMAIL_URL's (the demo delivers into memory); `statements=False` attaches no
    statement whatever the steps say (the demo's history, to build in seconds)."""
    report = DeliveryReport()
    scope = Message.objects.filter(channel=Channel.EMAIL)
    if company is not None:
        scope = scope.filter(company=company)
    report.uncertain = scope.filter(
        status=MessageStatus.SENDING, claimed_at__lt=at - CLAIM_TIMEOUT
    ).update(status=MessageStatus.UNCERTAIN, error="handed to the mail server, not confirmed")
    pending = scope.filter(status=MessageStatus.PENDING)
    waiting = _not_now(pending, at)
    if waiting is not None:  # they wait for the next working morning where the customer is
        report.waiting = pending.filter(waiting).count()
        pending = pending.exclude(waiting)
    due = (
        pending.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(due)
    if not ids:
        return report
    copies = _statements(ids, at) if statements else {}
    renderer = Renderer(links_at=at)
    token = uuid.uuid4().hex
    # One connection for the pass, opened by the first message (a server that cannot be
    # reached is then one message's error, to be tried again later) and again after an error.
    connection = get_connection(backend, fail_silently=False)
    try:
        for start in range(0, len(ids), CHUNK):
            chunk_ids = ids[start : start + CHUNK]
            Message.objects.filter(pk__in=chunk_ids, status=MessageStatus.PENDING).update(
                status=MessageStatus.SENDING, claimed_at=at, claimed_by=token,
                attempts=F("attempts") + 1,
            )  # fmt: skip
            claimed = Message.objects.filter(
                pk__in=chunk_ids, status=MessageStatus.SENDING, claimed_by=token
            ).values_list("pk", flat=True)  # another worker may have claimed some of them
            loaded = Message.objects.select_related("company", "customer", "decision")
            chunk = list(loaded.filter(pk__in=claimed).order_by("pk"))
            renderer.prefetch(chunk)
            for message in chunk:
                statement = copies.get((message.customer_id, message.business_date))
                _deliver(message, connection, at, report, renderer, statement)
    finally:
        connection.close()
    return report


def _statements(ids: list[int], at: datetime) -> dict[tuple[int, date], StatementCopy]:
    """The statements the pass's emails carry (their steps say whether), laid out before the
    first is sent, all at once, so that the layout keeps every worker process busy."""
    rows = Message.objects.filter(pk__in=ids).values_list(
        "customer_id", "business_date", "policy_id", "step", "template"
    )
    attaching = set(
        Step.objects.filter(
            policy_id__in={policy for _, _, policy, _, _ in rows}, attach_statement=True
        ).values_list("policy_id", "sequence")
    )
    wanted = {  # a statement sent on request always carries it
        (customer, on)
        for customer, on, policy, step, template in rows
        if (policy, step) in attaching or template == STATEMENT_TEMPLATE
    }
    return statement_copies(wanted, at=at) if wanted else {}


def _deliver(
    message: Message,
    connection: BaseEmailBackend,
    at: datetime,
    report: DeliveryReport,
    renderer: Renderer,
    statement: StatementCopy | None,
) -> None:
    try:
        subject, body = renderer.render(message)
    except RenderError as error:
        _fail(message, str(error), report)
        return
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "dunwell.invalid"
    message_id = make_msgid(idstring=f"dunning-{message.pk}", domain=domain)
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[r["email"] for r in message.recipients],
        cc=[r["email"] for r in message.cc],
        headers={"Message-ID": message_id},
        connection=connection,
    )
    if statement is not None:
        email.attach(statement.filename, bytes(statement.pdf), "application/pdf")
    try:
        connection.open()  # no-op while open: Django's send would otherwise close it after
        email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as error:
        refused = sorted(error.recipients)
        Contact.objects.filter(customer=message.customer, email__in=refused).update(
            email_bounced_on=message.business_date
        )
        _fail(message, f"the mail server refused {', '.join(refused)}", report)
        return
    except (smtplib.SMTPException, OSError) as error:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()  # the next message opens a fresh one
        _retry(message, f"{type(error).__name__}: {error}", at, report)
        return
    faults.point("delivery.after_send")
    with transaction.atomic():  # recorded as sent and in the history together
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.SENT, subject=subject[:300], body=body, message_id=message_id,
            sent_at=at, error="", statement=statement,
        )  # fmt: skip
        activity.record(
            company=message.company,
            kind=ActivityKind.REMINDER_SENT,
            on=message.business_date,
            at=at,
            customer=message.customer,
            summary=f"{subject} (email to {', '.join(email.to)})"[:300],
            data={
                "message": message.pk,
                "message_id": message_id,
                "to": email.to,
                "cc": email.cc,
                "subject": subject,
                "body": body,
                "attachments": [statement.filename] if statement else [],
            },
        )
    report.sent += 1


def _fail(message: Message, error: str, report: DeliveryReport) -> None:
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED, error=error[:500])
    report.failed += 1
    report.errors.append(f"message {message.pk}: {error}")


def _retry(message: Message, error: str, at: datetime, report: DeliveryReport) -> None:
    attempts = Message.objects.get(pk=message.pk).attempts
    if attempts >= MAX_ATTEMPTS:
        _fail(message, f"{error} (after {attempts} attempts)", report)
        return
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.PENDING,
        next_attempt_at=at + timedelta(minutes=2 ** (attempts - 1)),
        error=error[:500],
    )
    report.retry += 1
