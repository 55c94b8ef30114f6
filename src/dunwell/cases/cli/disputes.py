"""`dunwell case disputes|dispute|investigate|resolve`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.cases.cli.base import Action, Context
from dunwell.cases.models import Dispute, DisputeReason, DisputeState, Resolution
from dunwell.cases.services.disputes import add_note, attach, investigate, open_dispute, resolve
from dunwell.core.i18n import english
from dunwell.core.management.base import parse_iso_date
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.ledger.models import OpenItem


def _listing_arguments(parser: CommandParser) -> None:
    parser.add_argument("--all", action="store_true", help="resolved ones too")


def _list(context: Context) -> None:
    shown = Dispute.objects.filter(company=context.company)
    if not context.options["all"]:
        shown = shown.exclude(state=DisputeState.RESOLVED)
    rows = [dispute_row(d) for d in shown.select_related("customer", "owner")]
    if context.json:
        context.command.emit_json(rows)
        return
    for row in rows:
        items = ", ".join(f"{i['number']} {i['amount']}" for i in row["items"])
        context.command.stdout.write(
            f"{row['id']}  {row['customer']}  {row['state']}  {row['reason']}  {items}"
        )


def _open_arguments(parser: CommandParser) -> None:
    parser.add_argument("--customer", required=True, help="account number")
    parser.add_argument("--invoice", required=True, action="append",
                        help="NUMBER for all that is open, NUMBER=AMOUNT for a part; repeat")  # fmt: skip
    parser.add_argument("--reason", required=True, choices=DisputeReason.values)
    parser.add_argument("--note", default="")
    parser.add_argument("--owner", help="the user who handles it (username)")
    parser.add_argument("--due-by", type=parse_iso_date, help="to be resolved by")


def parse_items(
    context: Context, customer: Any, given: list[str]
) -> list[tuple[OpenItem, int | None]]:
    """`NUMBER` (all that is open) or `NUMBER=AMOUNT` (a part), in the item's currency."""
    items: list[tuple[OpenItem, int | None]] = []
    for text in given:
        number, _, amount = text.partition("=")
        item = context.item(customer, number)
        try:
            minor = Money(parse_amount(amount), item.currency).minor if amount else None
        except MoneyError as error:
            raise CommandError(f"--invoice {text!r}: {error}") from None
        items.append((item, minor))
    return items


def _open(context: Context) -> None:
    options = context.options
    customer = context.customer(options["customer"])
    dispute = open_dispute(
        company=context.company, customer=customer,
        items=parse_items(context, customer, options["invoice"]), reason=options["reason"],
        note=options["note"], owner=context.user(options["owner"]), due_by=options["due_by"],
        actor=context.actor, on=context.on, at=context.at,
    )  # fmt: skip
    _show(context, dispute)


def _step_arguments(parser: CommandParser) -> None:
    parser.add_argument("dispute_id", type=int)
    parser.add_argument("--note", default="")


def _resolve_arguments(parser: CommandParser) -> None:
    parser.add_argument("dispute_id", type=int)
    parser.add_argument("--resolution", required=True, choices=Resolution.values)
    parser.add_argument("--note", required=True)


def _found(context: Context) -> Dispute:
    dispute_id = context.options["dispute_id"]
    found = Dispute.objects.filter(company=context.company, pk=dispute_id).first()
    if found is None:
        raise CommandError(f"no dispute {dispute_id} in {context.company.code}")
    return found


def _investigate(context: Context) -> None:
    dispute = investigate(dispute=_found(context), note=context.options["note"],
                          actor=context.actor, on=context.on, at=context.at)  # fmt: skip
    _show(context, dispute)


def _resolve(context: Context) -> None:
    dispute = resolve(dispute=_found(context), resolution=context.options["resolution"],
                      note=context.options["note"], actor=context.actor, on=context.on,
                      at=context.at)  # fmt: skip
    _show(context, dispute)


def _note_arguments(parser: CommandParser) -> None:
    parser.add_argument("dispute_id", type=int)
    parser.add_argument("--note", required=True)


def _note(context: Context) -> None:
    dispute = _found(context)
    add_note(dispute=dispute, note=context.options["note"], actor=context.actor, on=context.on,
             at=context.at)  # fmt: skip
    _show(context, dispute)


def _attach_arguments(parser: CommandParser) -> None:
    parser.add_argument("dispute_id", type=int)
    parser.add_argument("file", type=Path, help="a PDF, image, text, CSV, email or Office file")


def _attach(context: Context) -> None:
    dispute = _found(context)
    path: Path = context.options["file"]
    try:
        content = path.read_bytes()
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror}") from None
    attach(dispute=dispute, name=path.name, content=content, actor=context.actor, on=context.on,
           at=context.at)  # fmt: skip
    _show(context, dispute)


def _show(context: Context, dispute: Dispute) -> None:
    context.emit(
        dispute_row(dispute), f"dispute {dispute.pk}: {english(dispute.get_state_display).lower()}"
    )


def dispute_row(dispute: Dispute) -> dict[str, Any]:
    return {
        "id": dispute.pk,
        "customer": dispute.customer.account_number,
        "state": dispute.state,
        "reason": dispute.reason,
        "resolution": dispute.resolution,
        "note": dispute.note,
        "owner": dispute.owner.username if dispute.owner else None,
        "due_by": dispute.due_by.isoformat() if dispute.due_by else None,
        "opened_on": dispute.opened_on.isoformat(),
        "resolved_on": dispute.resolved_on.isoformat() if dispute.resolved_on else None,
        "attachments": [
            {"name": a.name, "size": a.size, "sha256": a.sha256}
            for a in dispute.attachments.only("name", "size", "sha256")
        ],
        "items": [
            {
                "number": d.item.number,
                "amount": str(Money.from_minor(d.amount_minor, d.item.currency).amount),
                "currency": d.item.currency,
            }
            for d in dispute.items.select_related("item").order_by("item__number")
        ],
    }


ACTIONS = {
    "disputes": Action("the disputes not resolved (or --all)", _listing_arguments, _list),
    "dispute": Action("open a dispute on invoices", _open_arguments, _open),
    "investigate": Action("a dispute is being looked into", _step_arguments, _investigate),
    "resolve": Action("end a dispute", _resolve_arguments, _resolve),
    "dispute-note": Action("add a note to a dispute", _note_arguments, _note),
    "dispute-attach": Action("attach a file to a dispute", _attach_arguments, _attach),
}
