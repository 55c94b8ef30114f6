"""What the customer's AP staff do through a portal link, each in one transaction: the case it
opens or the note it leaves, its entry in the account's history, and a task in the owner
collector's queue (the notification: it is in their worklist and task list the same day).

The person is the link's contact (or "the customer's AP staff" for a link without one); the
actor is None, the history says "in the portal" and by whom. The link was resolved by the view
(`cases.services.portal.resolve`): every item named is checked to be its customer's here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction

from dunwell.cases.models import Dispute, PortalLink, PromiseToPay, TaskKind
from dunwell.cases.services import disputes
from dunwell.cases.services.tasks import create_task
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.money import Money
from dunwell.dunning.services.withdrawals import withdraw_pending
from dunwell.ledger.models import ActivityKind, Contact, OpenItem
from dunwell.ledger.services import activity
from dunwell.ledger.services.customers import save_contact
from dunwell.workflows.promises import open_promise

SOURCE = "portal"
FIELD_MAX = 500


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes


def who(link: PortalLink) -> str:
    contact = link.contact
    if contact is None:
        return "the customer's AP staff"
    return f"{contact.name} <{contact.email}>" if contact.email else contact.name


def items_of(link: PortalLink, item_ids: Sequence[int]) -> list[OpenItem]:
    """The link's customer's open items with these ids; a refusal names any other."""
    wanted = sorted(set(item_ids))
    found = list(
        OpenItem.objects.filter(
            pk__in=wanted, company=link.company, customer=link.customer, open_minor__gt=0,
            voided_on__isnull=True,
        ).order_by("due_on", "pk")
    )  # fmt: skip
    if len(found) != len(wanted):
        raise DunwellError(ErrorCode.NOT_FOUND, "an invoice named is not open on this account",
                           field="items")  # fmt: skip
    return found


def in_one_currency(
    link: PortalLink, items: Sequence[OpenItem], what: str
) -> tuple[list[OpenItem], str]:
    """`items_of`, refused unless they share one currency (`what` names the refused thing)."""
    checked = items_of(link, [i.pk for i in items])
    currencies = {i.currency for i in checked}
    if len(currencies) != 1:
        raise DunwellError(ErrorCode.INVALID, f"{what} is for invoices in one currency",
                           field="items")  # fmt: skip
    return checked, currencies.pop()


def _notify(link: PortalLink, title: str, *, on: date, at: datetime) -> None:
    create_task(company=link.company, customer=link.customer, kind=TaskKind.REVIEW,
                title=f"Portal: {title}", due_on=on, source=SOURCE, actor=None, on=on, at=at)  # fmt: skip


@transaction.atomic
def dispute(
    *,
    link: PortalLink,
    item: OpenItem,
    reason: str,
    amount_minor: int | None,
    comment: str,
    attachment: Attachment | None,
    on: date,
    at: datetime,
) -> Dispute:
    """Dispute one invoice (all of it, or `amount_minor`), with a comment and a document."""
    (checked,) = items_of(link, [item.pk])
    comment = comment.strip()[:FIELD_MAX]
    note = f"in the portal by {who(link)}" + (f": {comment}" if comment else "")
    made = disputes.open_dispute(company=link.company, customer=link.customer,
                                 items=[(checked, amount_minor)], reason=reason, note=note,
                                 actor=None, on=on, at=at)  # fmt: skip
    if attachment is not None:
        disputes.attach(dispute=made, name=attachment.name, content=attachment.content,
                        actor=None, on=on, at=at)  # fmt: skip
    _notify(link, f"{checked.number} disputed ({english(made.get_reason_display)}) by {who(link)}",
            on=on, at=at)  # fmt: skip
    return made


@transaction.atomic
def promise(
    *, link: PortalLink, items: Sequence[OpenItem], promised_on: date, on: date, at: datetime
) -> PromiseToPay:
    """Promise to pay these invoices (what is open on them) by `promised_on`."""
    checked, currency = in_one_currency(link, items, "a promise")
    total = sum(i.open_minor for i in checked)
    made = open_promise(company=link.company, customer=link.customer, amount_minor=total,
                        currency=currency, promised_on=promised_on, promised_by=who(link),
                        channel="portal", items=checked, note="in the portal", actor=None, on=on,
                        at=at)  # fmt: skip
    numbers = ", ".join(i.number for i in checked)
    _notify(link, f"{Money.from_minor(total, currency)} promised by {promised_on.isoformat()} "
            f"for {numbers}", on=on, at=at)  # fmt: skip
    return made


@transaction.atomic
def ask_for_plan(
    *, link: PortalLink, instalments: int, first_on: date, note: str, on: date, at: datetime
) -> None:
    """Ask for a payment plan: the collector agrees it (or not) on the customer page."""
    if not 2 <= instalments <= 24:
        raise DunwellError(ErrorCode.INVALID, "a plan has 2 to 24 instalments",
                           field="instalments")  # fmt: skip
    if first_on <= on:
        raise DunwellError(ErrorCode.INVALID, "the first instalment is after today",
                           field="first_on")  # fmt: skip
    note = note.strip()[:FIELD_MAX]
    summary = (f"{who(link)} asks for a payment plan: {instalments} instalments from "
               f"{first_on.isoformat()}" + (f": {note}" if note else ""))  # fmt: skip
    activity.record(company=link.company, kind=ActivityKind.PORTAL_PLAN_REQUESTED, on=on, at=at,
                    actor=None, customer=link.customer, summary=summary[:300],
                    data={"instalments": instalments, "first_on": first_on.isoformat(),
                          "note": note})  # fmt: skip
    _notify(link, f"payment plan asked for, {instalments} instalments from "
            f"{first_on.isoformat()}", on=on, at=at)  # fmt: skip


@transaction.atomic
def report_payment(
    *,
    link: PortalLink,
    items: Sequence[OpenItem],
    paid_on: date,
    reference: str,
    on: date,
    at: datetime,
) -> None:
    """The customer says these invoices are paid already: the reminders not yet sent for them
    are withdrawn, and the collector looks for the money (the bank lines match it when it
    comes)."""
    checked = items_of(link, [i.pk for i in items])
    if paid_on > on:
        raise DunwellError(ErrorCode.INVALID, "a payment already sent has a date on or before "
                           "today", field="paid_on")  # fmt: skip
    reference = reference.strip()[:140]
    numbers = ", ".join(i.number for i in checked)
    summary = (f"{who(link)} reports {numbers} paid on {paid_on.isoformat()}"
               + (f", reference {reference}" if reference else ""))  # fmt: skip
    activity.record(company=link.company, kind=ActivityKind.PORTAL_PAYMENT_REPORTED, on=on,
                    at=at, actor=None, customer=link.customer, summary=summary[:300],
                    data={"items": [i.pk for i in checked], "paid_on": paid_on.isoformat(),
                          "reference": reference})  # fmt: skip
    withdraw_pending(customer=link.customer, item_ids=[i.pk for i in checked],
                     reason=f"reported paid on {paid_on.isoformat()} in the portal", actor=None,
                     on=on, at=at)  # fmt: skip
    _notify(link, f"{numbers} reported paid on {paid_on.isoformat()}"
            + (f" ({reference})" if reference else ""), on=on, at=at)  # fmt: skip


@transaction.atomic
def correct(
    *, link: PortalLink, name: str, email: str, phone: str, on: date, at: datetime
) -> Contact:
    """Correct the AP contact the link is for (a link without one adds it)."""
    contact, changed = save_contact(customer=link.customer, contact=link.contact, name=name,
                                    email=email, phone=phone)  # fmt: skip
    if link.contact_id != contact.pk:
        PortalLink.objects.filter(pk=link.pk).update(contact=contact)
    if not changed:
        return contact
    what = "; ".join(
        f"{k} {before or '-'} -> {after or '-'}" for k, (before, after) in changed.items()
    )
    activity.record(company=link.company, kind=ActivityKind.PORTAL_CONTACT_CORRECTED, on=on,
                    at=at, actor=None, customer=link.customer,
                    summary=f"AP contact corrected in the portal: {what}"[:300],
                    data={"contact": contact.pk,
                          "changed": {k: list(v) for k, v in changed.items()}})  # fmt: skip
    _notify(link, f"AP contact corrected: {what}", on=on, at=at)
    return contact
