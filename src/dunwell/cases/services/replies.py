"""Replies from the customer: a forwarded .eml or pasted text, kept as received, logged in the
history, and turned into a dispute in one step.

A message is read with Python's `email` package (`policy.default`): From, Date, Subject,
Message-ID, In-Reply-To and the text/plain part (or the text of the HTML part). A reply
forwarded as an attachment (message/rfc822) is the attached message. The customer is named, or
found by the sender's address among the company's contacts.
"""

from __future__ import annotations

import email
import re
from collections.abc import Sequence
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr
from html.parser import HTMLParser

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cases.models import CustomerReply, Dispute, PromiseToPay
from dunwell.cases.services.disputes import open_dispute
from dunwell.cases.services.promises import make_promise
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.ledger.lock_objects import lock
from dunwell.ledger.models import ActivityKind, Contact, Customer, OpenItem
from dunwell.ledger.services import activity

HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
FIRST_LINES = 3


class Parsed:
    def __init__(self, raw: str) -> None:
        self.from_address = self.subject = self.message_id = self.in_reply_to = ""
        self.sent_at: datetime | None = None
        self.body = raw.strip()
        if _looks_like_mail(raw):
            self._read(email.message_from_string(raw, policy=policy.default))

    def _read(self, message: EmailMessage) -> None:
        inner = _attached_reply(message)
        message = inner or message
        self.from_address = parseaddr(str(message.get("From", "")))[1].lower()
        self.subject = str(message.get("Subject", "")).strip()
        self.message_id = str(message.get("Message-ID", "")).strip()
        self.in_reply_to = str(message.get("In-Reply-To", "")).strip()
        date_header = message.get("Date")
        self.sent_at = getattr(date_header, "datetime", None) if date_header else None
        self.body = _text_of(message)


def _looks_like_mail(raw: str) -> bool:
    """Headers first (any `Name: value` line), a From header among them."""
    head = raw.lstrip().replace("\r\n", "\n").split("\n\n", 1)[0]
    lines = head.splitlines()
    return bool(lines and HEADER.match(lines[0])) and any(
        line.lower().startswith("from:") for line in lines
    )


def _attached_reply(message: EmailMessage) -> EmailMessage | None:
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, EmailMessage):
                return inner
    return None


class _Text(HTMLParser):
    BLOCKS = frozenset({"p", "br", "div", "li", "tr", "h1", "h2", "h3", "blockquote"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = str(body.get_content())
    return (html_text(content) if body.get_content_type() == "text/html" else content).strip()


def first_lines(text: str, count: int = FIRST_LINES) -> str:
    """The first lines the customer wrote (quoted lines left out)."""
    lines = [line.strip() for line in text.splitlines()]
    kept = [line for line in lines if line and not line.startswith(">")]
    return " / ".join(kept[:count])


def find_customer(company: Company, address: str) -> Customer:
    """The customer whose contact has `address`; a clear error when none or several do."""
    how = ("name the customer: `--customer ACCOUNT` on the command line, or paste the reply on "
           "the customer's page")  # fmt: skip
    if not address:
        raise DunwellError(ErrorCode.UNKNOWN_CUSTOMER, f"the reply names no sender: {how}",
                           field="customer")  # fmt: skip
    found = list(
        Customer.objects.filter(
            pk__in=Contact.objects.filter(company=company, email__iexact=address).values(
                "customer_id"
            )
        ).order_by("account_number")
    )
    if not found:
        raise DunwellError(ErrorCode.UNKNOWN_CUSTOMER, f"no contact in {company.code} has the "
                           f"address {address}: {how}", field="customer")  # fmt: skip
    if len(found) > 1:
        names = ", ".join(c.account_number for c in found)
        raise DunwellError(ErrorCode.UNKNOWN_CUSTOMER, f"{address} is a contact of {names}: "
                           f"{how}", field="customer")  # fmt: skip
    return found[0]


@transaction.atomic
def log_reply(
    *,
    company: Company,
    raw: str,
    customer: Customer | None = None,
    actor: User | None,
    on: date,
    at: datetime,
) -> CustomerReply:
    """Keep a reply (an .eml's text or pasted text) and log it in the customer's history; the
    same message (by Message-ID) logged again returns the first."""
    if not raw.strip():
        raise DunwellError(ErrorCode.INVALID, "the reply is empty", field="raw")
    parsed = Parsed(raw)
    if parsed.message_id:
        existing = CustomerReply.objects.filter(company=company, message_id=parsed.message_id)
        if (first := existing.first()) is not None:
            return first
    if customer is None:
        customer = find_customer(company, parsed.from_address)
    elif customer.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no customer {customer.account_number} here")
    reply = CustomerReply.objects.create(
        company=company, customer=customer, received_at=parsed.sent_at or at,
        from_address=parsed.from_address[:254], subject=parsed.subject[:300], body=parsed.body,
        raw=raw, message_id=parsed.message_id[:300], in_reply_to=parsed.in_reply_to[:300],
        logged_at=at, logged_by=activity.stored_actor(actor),
    )  # fmt: skip
    sender = f" from {reply.from_address}" if reply.from_address else ""
    subject = f": {reply.subject}" if reply.subject else ""
    lines = first_lines(reply.body)
    activity.record(company=company, kind=ActivityKind.REPLY_RECEIVED, on=on, at=at, actor=actor,
                    customer=customer,
                    summary=f"reply{sender}{subject}" + (f" — {lines}" if lines else ""),
                    data={"reply": reply.pk})  # fmt: skip
    return reply


@transaction.atomic
def reply_to_dispute(
    *,
    reply: CustomerReply,
    items: Sequence[tuple[OpenItem, int | None]],
    reason: str,
    note: str = "",
    actor: User | None,
    on: date,
    at: datetime,
) -> Dispute:
    """Open a dispute from the reply (`cases.services.disputes.open_dispute`) and link it."""
    reply = lock(CustomerReply, [reply.pk])[reply.pk]
    if reply.dispute_id is not None:
        raise DunwellError(ErrorCode.CONFLICT, f"{reply} is already dispute {reply.dispute_id}")
    what = note or f"from the reply of {reply.received_at.date().isoformat()}" + (
        f" ({reply.subject})" if reply.subject else ""
    )
    dispute = open_dispute(company=reply.company, customer=reply.customer, items=items,
                           reason=reason, note=what, actor=actor, on=on, at=at)  # fmt: skip
    reply.dispute = dispute
    reply.save(update_fields=["dispute"])
    return dispute


@transaction.atomic
def reply_to_promise(
    *,
    reply: CustomerReply,
    amount_minor: int,
    currency: str,
    promised_on: date,
    items: Sequence[OpenItem] = (),
    promised_by: str = "",
    actor: User | None,
    on: date,
    at: datetime,
) -> PromiseToPay:
    """Record the promise a reply makes ("we will pay on Friday") and link it."""
    reply = lock(CustomerReply, [reply.pk])[reply.pk]
    if reply.promise_id is not None:
        raise DunwellError(ErrorCode.CONFLICT, f"{reply} is already promise {reply.promise_id}")
    promise = make_promise(
        company=reply.company, customer=reply.customer, amount_minor=amount_minor,
        currency=currency, promised_on=promised_on,
        promised_by=promised_by or reply.from_address or "by email", channel="email",
        items=items, note=f"from the reply of {reply.received_at.date().isoformat()}"
        + (f" ({reply.subject})" if reply.subject else ""), actor=actor, on=on, at=at,
    )  # fmt: skip
    reply.promise = promise
    reply.save(update_fields=["promise"])
    return promise
