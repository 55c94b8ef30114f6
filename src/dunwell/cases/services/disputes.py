"""Opening, investigating and resolving disputes, each step one transaction with its history
entry (on the customer and on every invoice it concerns)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import PurePath

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cases.models import (
    Dispute,
    DisputeAttachment,
    DisputedItem,
    DisputeReason,
    DisputeState,
    Resolution,
)
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.ledger.lock_objects import lock
from dunwell.ledger.models import ActivityKind, Customer, ItemKind, OpenItem
from dunwell.ledger.services import activity

DISPUTABLE = (ItemKind.INVOICE, ItemKind.FEE, ItemKind.INTEREST)
MAX_ATTACHMENT = 10 * 1024 * 1024  # bytes: a scanned delivery note or a few photos
# What a dispute's evidence may be, by file suffix, and how such a file starts (None: plain text,
# checked to decode as UTF-8), so that a renamed executable is refused.
ATTACHMENT_TYPES: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".txt": ("text/plain", None),
    ".csv": ("text/csv", None),
    ".eml": ("message/rfc822", None),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
}


@transaction.atomic
def open_dispute(
    *,
    company: Company,
    customer: Customer,
    items: Sequence[tuple[OpenItem, int | None]],
    reason: str,
    note: str = "",
    owner: User | None = None,
    due_by: date | None = None,
    actor: User | None,
    on: date,
    at: datetime,
) -> Dispute:
    """A dispute about `items`, each (item, amount disputed; None: all that is open)."""
    if reason not in DisputeReason.values:
        raise DunwellError(ErrorCode.INVALID, f"reason {reason!r}: expected one of "
                           f"{', '.join(DisputeReason.values)}", field="reason")  # fmt: skip
    if not items:
        raise DunwellError(ErrorCode.INVALID, "a dispute is about at least one invoice",
                           field="items")  # fmt: skip
    locked = lock(OpenItem, [item.pk for item, _ in items])
    amounts: list[tuple[OpenItem, int]] = []
    for given, amount in items:
        item = locked[given.pk]
        if item.company_id != company.pk or item.customer_id != customer.pk:
            raise DunwellError(ErrorCode.NOT_FOUND, f"{item} is not {customer.account_number}'s")
        if item.kind not in DISPUTABLE or item.open_minor <= 0 or item.voided_on:
            raise DunwellError(ErrorCode.INVALID, f"{item} has nothing open to dispute",
                               field="items")  # fmt: skip
        disputed = item.open_minor if amount is None else amount
        if not 0 < disputed <= item.open_minor:
            open_ = Money.from_minor(item.open_minor, item.currency)
            raise DunwellError(ErrorCode.INVALID, f"{item}: a disputed amount is more than "
                               f"zero and at most the {open_} open", field="amount")  # fmt: skip
        amounts.append((item, disputed))
    dispute = Dispute.objects.create(
        company=company, customer=customer, reason=reason, state=DisputeState.OPEN, note=note,
        owner=owner, due_by=due_by, opened_on=on, created_at=at,
    )  # fmt: skip
    DisputedItem.objects.bulk_create(
        DisputedItem(dispute=dispute, item=item, amount_minor=amount) for item, amount in amounts
    )
    what = ", ".join(f"{item.number} {Money.from_minor(a, item.currency)}" for item, a in amounts)
    _record(dispute, ActivityKind.DISPUTE_OPENED, on, at, actor,
            f"dispute opened ({english(dispute.get_reason_display).lower()}): {what}"
            + (f": {note}" if note else ""))  # fmt: skip
    return dispute


@transaction.atomic
def investigate(*, dispute: Dispute, note: str = "", actor: User | None, on: date,
                at: datetime) -> Dispute:  # fmt: skip
    _move(dispute, DisputeState.OPEN, DisputeState.INVESTIGATING)
    _record(dispute, ActivityKind.DISPUTE_UPDATED, on, at, actor,
            "dispute under investigation" + (f": {note}" if note else ""))  # fmt: skip
    dispute.refresh_from_db()
    return dispute


@transaction.atomic
def resolve(*, dispute: Dispute, resolution: str, note: str, actor: User | None, on: date,
            at: datetime) -> Dispute:  # fmt: skip
    """End a dispute: its amounts are dunned again (what a credit note settled is no longer
    open), from the step the invoices had reached."""
    if resolution not in Resolution.values:
        raise DunwellError(ErrorCode.INVALID, f"resolution {resolution!r}: expected one of "
                           f"{', '.join(Resolution.values)}", field="resolution")  # fmt: skip
    if not note.strip():
        raise DunwellError(ErrorCode.INVALID, "a resolution needs a note", field="note")
    _move(dispute, None, DisputeState.RESOLVED, resolution=resolution, resolved_on=on)
    dispute.refresh_from_db()
    _record(dispute, ActivityKind.DISPUTE_RESOLVED, on, at, actor,
            f"dispute resolved ({english(dispute.get_resolution_display).lower()}): {note}")  # fmt: skip
    return dispute


def _move(dispute: Dispute, from_state: str | None, to_state: str, **values: object) -> None:
    current = Dispute.objects.filter(pk=dispute.pk)
    current = (
        current.filter(state=from_state)
        if from_state
        else current.exclude(state=DisputeState.RESOLVED)
    )
    if not current.update(state=to_state, **values):
        raise DunwellError(ErrorCode.CONFLICT, f"{dispute} is "
                           f"{english(Dispute.objects.get(pk=dispute.pk).get_state_display).lower()}")  # fmt: skip


def _record(dispute: Dispute, kind: ActivityKind, on: date, at: datetime, actor: User | None,
            summary: str) -> None:  # fmt: skip
    activity.record(company=dispute.company, kind=kind, on=on, at=at, actor=actor,
                    customer=dispute.customer, summary=summary[:300],
                    data={"dispute": dispute.pk})  # fmt: skip
    for disputed in dispute.items.select_related("item"):
        activity.record_on_item(disputed.item, kind, on=on, at=at, actor=actor,
                                amount_minor=disputed.amount_minor,
                                summary=f"{summary} [dispute {dispute.pk}]"[:300])  # fmt: skip


@transaction.atomic
def add_note(*, dispute: Dispute, note: str, actor: User | None, on: date, at: datetime) -> None:
    """A note on a dispute (what the customer said, what sales found): a history entry."""
    note = note.strip()
    if not note:
        raise DunwellError(ErrorCode.INVALID, "a note needs some text", field="note")
    _record(dispute, ActivityKind.DISPUTE_NOTE, on, at, actor, f"dispute {dispute.pk}: {note}")


def check_size(name: str, size: int) -> None:
    if size > MAX_ATTACHMENT:
        raise DunwellError(ErrorCode.INVALID, f"{name} is {size:,} bytes: at most "
                           f"{MAX_ATTACHMENT:,}", field="file")  # fmt: skip


def check_attachment(name: str, content: bytes) -> str:
    """The content type of an acceptable attachment, or a clear refusal naming the file."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        raise DunwellError(ErrorCode.INVALID, f"{name}: expected one of "
                           f"{', '.join(sorted(ATTACHMENT_TYPES))}", field="file")  # fmt: skip
    if not content:
        raise DunwellError(ErrorCode.INVALID, f"{name} is empty", field="file")
    check_size(name, len(content))
    content_type, magic = ATTACHMENT_TYPES[suffix]
    if magic is None:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise DunwellError(
                ErrorCode.INVALID, f"{name} is not UTF-8 text", field="file"
            ) from None
    elif not content.startswith(magic):
        raise DunwellError(ErrorCode.INVALID, f"{name} is not a {suffix[1:].upper()} file",
                           field="file")  # fmt: skip
    return content_type


@transaction.atomic
def attach(*, dispute: Dispute, name: str, content: bytes, actor: User | None, on: date,
           at: datetime) -> DisputeAttachment:  # fmt: skip
    name = PurePath(name.replace("\\", "/")).name[:200] or "attachment"
    content_type = check_attachment(name, content)
    made = DisputeAttachment.objects.create(
        dispute=dispute, name=name, content_type=content_type, size=len(content),
        sha256=hashlib.sha256(content).hexdigest(), content=content, added_at=at,
        added_by=activity.stored_actor(actor),
    )  # fmt: skip
    _record(dispute, ActivityKind.DISPUTE_ATTACHMENT, on, at, actor,
            f"dispute {dispute.pk}: attached {name} ({len(content):,} bytes)")  # fmt: skip
    return made
