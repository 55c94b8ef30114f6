"""A customer's or an invoice's timeline: the append-only history, newest first, in pages.

Set-based and keyset-paged: a page is one query over the (company, customer, recorded_at) or
(item, recorded_at) index, ordered by (recorded_at, id) descending, starting after an opaque
cursor, so that page 200 costs what page 1 costs and no entry is skipped or repeated when many
share one `recorded_at` (the id breaks the tie). `previous` pages walk the other way.

The kind groups of the filters are defined once here (`GROUPS`), from the numbered ranges of
`ActivityKind`; every kind belongs to exactly one group (tests check it).

Reminders (REMINDER_SENT) carry the exact subject and body as sent in `data` (written by
`dunning.services.delivery` and `letters` in the same transaction that marks the message sent);
a row exposes them with the dunning message's id, whose page shows the stored text.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.ledger.models import Activity, ActivityKind, Customer, OpenItem

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PAGE = 50
SHOWN = ("id", "company_id", "customer_id", "kind", "on", "recorded_at", "actor_label", "summary",
         "amount_minor", "currency", "data", "item__id", "item__number", "item__customer_id")  # fmt: skip
K = ActivityKind


@dataclass(frozen=True)
class Group:
    key: str
    label: StrOrPromise  # lazy: shown in the reader's language
    kinds: frozenset[int]


def _kinds(*ranges: range | int) -> frozenset[int]:
    """The ActivityKind values in the given ranges (and single values)."""
    values = {k.value for k in ActivityKind}
    picked: set[int] = set()
    for part in ranges:
        picked |= {v for v in values if v in part} if isinstance(part, range) else {part}
    return frozenset(picked)


# One place for the groups; the ranges follow ActivityKind's numbering (1xx customers, 2xx
# documents, 3xx money, 4xx imports, 5xx holds, 6xx dunning, 7xx cases, 9xx the portal).
GROUPS: dict[str, Group] = {
    g.key: g
    for g in (
        Group("messages", _("Messages and letters"), _kinds(K.REMINDER_SENT, K.REMINDER_WITHDRAWN, K.REPLY_RECEIVED)),
        Group("calls", _("Calls, notes and tasks"),
              _kinds(K.CALL_LOGGED, K.NOTE_ADDED, K.TASK_DONE, K.TASK_CREATED, K.TASK_CLOSED,
                     K.ESCALATED)),
        Group("payments", _("Payments and allocations"),
              _kinds(range(301, 305), K.PAYMENT_VOIDED, K.REFUND_PAID)),
        # fees and interest are waived by writing the charge off; a discount is money given up too
        Group("fees", _("Fees, interest and waivers"),
              _kinds(K.FEE_CHARGED, K.INTEREST_CHARGED, K.WRITTEN_OFF, K.DISCOUNT_GRANTED)),
        Group("promises", _("Promises to pay"), _kinds(range(711, 720))),
        Group("disputes", _("Disputes"), _kinds(range(701, 710))),
        Group("plans", _("Payment plans"), _kinds(range(721, 730))),
        Group("holds", _("Holds and credit"), _kinds(range(501, 600))),
        Group("placements", _("Placements, insolvency and endings"), _kinds(range(741, 799))),
        Group("imports", _("Imports"), _kinds(range(401, 500))),
        Group("documents", _("Customer and documents"),
              _kinds(range(101, 200), K.INVOICE_ISSUED, K.CREDIT_NOTE_ISSUED,
                     K.DOCUMENT_UPDATED, K.DOCUMENT_VOIDED, K.ITEM_OVERDUE)),
        Group("corrections", _("Corrections"), _kinds(K.CORRECTION)),
        Group("portal", _("The customer's portal"), _kinds(range(901, 1000))),
    )
}  # fmt: skip
GROUP_OF: dict[int, str] = {kind: g.key for g in GROUPS.values() for kind in g.kinds}
# Lazy labels: a row's label is resolved when it is shown, in the reader's language.
LABELS: dict[int, StrOrPromise] = {k.value: k.label for k in ActivityKind}


class BadCursorError(ValueError):
    """A cursor that this module did not make (edited by hand, or from another timeline)."""


def encode_cursor(entry: Activity) -> str:
    raw = f"{entry.recorded_at.isoformat()}|{entry.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, pk = raw.partition("|")
        return datetime.fromisoformat(at), int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursorError(f"cursor {cursor[:40]!r} is not one of this timeline's") from None


@dataclass(frozen=True)
class Filters:
    groups: tuple[str, ...] = ()
    on_from: date | None = None
    on_to: date | None = None
    actor: str = ""
    text: str = ""

    def __post_init__(self) -> None:
        unknown = [g for g in self.groups if g not in GROUPS]
        if unknown:
            raise ValueError(f"kind: unknown group {unknown[0]!r}; one of {', '.join(GROUPS)}")
        if self.on_from and self.on_to and self.on_from > self.on_to:
            raise ValueError("from: the first date is after the last")


@dataclass
class Row:
    """One entry as the timeline shows it."""

    entry: Activity
    group: str
    kind_label: str
    corrects: int | None
    corrected_by: list[int] = field(default_factory=list)
    message_id: int | None = None
    subject: str = ""
    body: str = ""  # the exact text as sent, for messages and letters

    @property
    def id(self) -> int:
        return int(self.entry.pk)


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_cursor: str | None  # older entries
    previous_cursor: str | None  # newer entries


def entries(
    company: Company,
    *,
    customer: Customer | None = None,
    item: OpenItem | None = None,
    filters: Filters = Filters(),
) -> QuerySet[Activity]:
    """Every entry of one customer or one item matching `filters`, unordered."""
    if (customer is None) == (item is None):
        raise ValueError("a timeline is of one customer or of one item")
    if item is not None:
        found = Activity.objects.filter(item=item)  # the item's index; the item is the company's
    else:
        found = Activity.objects.filter(company=company, customer=customer)
    if filters.groups:
        found = found.filter(
            kind__in=sorted(set().union(*(GROUPS[g].kinds for g in filters.groups)))
        )
    if filters.on_from:
        found = found.filter(on__gte=filters.on_from)
    if filters.on_to:
        found = found.filter(on__lte=filters.on_to)
    if filters.actor:
        found = found.filter(actor_label__iexact=filters.actor.strip())
    if filters.text:
        found = found.filter(summary__icontains=filters.text.strip())
    return found


def page(
    company: Company,
    *,
    customer: Customer | None = None,
    item: OpenItem | None = None,
    filters: Filters = Filters(),
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE,
) -> Page:
    """`size` entries, newest first: the first page, the older ones `after` a cursor, or the
    newer ones `before` a cursor."""
    # only the columns a row shows: the item's thirty are compiled and read for nothing else
    found = (
        entries(company, customer=customer, item=item, filters=filters)
        .select_related("item")
        .only(*SHOWN)
    )
    if before:
        at, pk = decode_cursor(before)
        # the first condition is implied by the second; it gives the index a range to seek
        newer = found.filter(recorded_at__gte=at).filter(
            Q(recorded_at__gt=at) | Q(recorded_at=at, pk__gt=pk)
        )
        got = list(newer.order_by("recorded_at", "id")[: size + 1])
        more_newer = len(got) > size
        got = got[:size][::-1]
        has_older = True
        has_newer = more_newer
    else:
        if after:
            at, pk = decode_cursor(after)
            found = found.filter(recorded_at__lte=at).filter(
                Q(recorded_at__lt=at) | Q(recorded_at=at, pk__lt=pk)
            )
        got = list(found.order_by("-recorded_at", "-id")[: size + 1])
        has_older = len(got) > size
        got = got[:size]
        has_newer = bool(after)
    rows = _rows(company, got, customer=customer, item=item)
    return Page(
        rows=rows,
        next_cursor=encode_cursor(got[-1]) if got and has_older else None,
        previous_cursor=encode_cursor(got[0]) if got and has_newer else None,
    )


def _rows(
    company: Company, got: list[Activity], *, customer: Customer | None, item: OpenItem | None
) -> list[Row]:
    rows = [_row(e) for e in got]
    if not rows:
        return rows
    # The corrections of the entries shown: few per customer, found through a partial index.
    corrections = Activity.objects.filter(kind=ActivityKind.CORRECTION)
    if item is not None:
        corrections = corrections.filter(item=item)
    else:
        corrections = corrections.filter(company=company, customer=customer)
    shown = {r.id: r for r in rows}
    for pk, data in corrections.order_by("id").values_list("pk", "data"):  # id: the index serves it
        corrected = data.get("corrects") if isinstance(data, dict) else None
        target = shown.get(corrected) if isinstance(corrected, int) else None
        if target is not None:
            target.corrected_by.append(pk)
    return rows


def _row(entry: Activity) -> Row:
    data = entry.data if isinstance(entry.data, dict) else {}
    corrects = data.get("corrects") if entry.kind == ActivityKind.CORRECTION else None
    row = Row(entry=entry, group=GROUP_OF.get(entry.kind, "documents"),
              kind_label=str(LABELS.get(entry.kind, entry.kind)), corrects=corrects)  # fmt: skip
    if entry.kind == ActivityKind.REMINDER_SENT:
        row.message_id = data.get("message")
        row.subject = str(data.get("subject", ""))
        row.body = str(data.get("body", ""))
    return row


# -- export -----------------------------------------------------------------------------------------

COLUMNS = ("id", "recorded_at", "on", "kind", "group", "customer", "invoice", "summary", "amount",
           "currency", "by", "corrects", "message", "subject", "body", "data")  # fmt: skip


def export_rows(
    company: Company,
    *,
    customer: Customer | None = None,
    item: OpenItem | None = None,
    filters: Filters = Filters(),
    chunk: int = 2000,
) -> Iterator[dict[str, Any]]:
    """Every matching entry, newest first, as plain values; read in keyset chunks, so that an
    export of a long history holds one chunk in memory at a time."""
    found = entries(company, customer=customer, item=item, filters=filters).select_related(
        "customer", "item"
    )
    # An export reads the same whoever asks for it (and the CLI's): its labels are English.
    kinds = {kind: english(label) for kind, label in LABELS.items()}
    cursor: tuple[datetime, int] | None = None
    while True:
        part = found
        if cursor is not None:
            at, pk = cursor
            part = part.filter(recorded_at__lte=at).filter(
                Q(recorded_at__lt=at) | Q(recorded_at=at, pk__lt=pk)
            )
        got = list(part.order_by("-recorded_at", "-id")[:chunk])
        for e in got:
            yield _plain(e, kinds)
        if len(got) < chunk:
            return
        cursor = (got[-1].recorded_at, int(got[-1].pk))


def _plain(e: Activity, kinds: dict[int, str]) -> dict[str, Any]:
    row = _row(e)
    amount = (
        str(Money.from_minor(e.amount_minor, e.currency).amount)
        if e.amount_minor is not None and e.currency
        else ""
    )
    return {
        "id": e.pk,
        "recorded_at": e.recorded_at.isoformat(),
        "on": e.on.isoformat(),
        "kind": kinds.get(e.kind, str(e.kind)),
        "group": row.group,
        "customer": e.customer.account_number if e.customer else "",
        "invoice": e.item.number if e.item else "",
        "summary": e.summary,
        "amount": amount,
        "currency": e.currency,
        "by": e.actor_label,
        "corrects": row.corrects,
        "message": row.message_id,
        "subject": row.subject,
        "body": row.body,
        "data": e.data,
    }
