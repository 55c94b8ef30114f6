"""`dunwell case write-off|write-offs|approve-write-off|reject-write-off`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.cases.cli.base import Action, Context
from dunwell.cases.models import WriteOffRequest, WriteOffState
from dunwell.cases.services.writeoffs import approve_write_off, reject_write_off, request_write_off
from dunwell.core.i18n import english
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.ledger.models import OpenItem


def write_off_row(request: WriteOffRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "customer": request.item.customer.account_number,
        "invoice": request.item.number,
        "amount": str(Money.from_minor(request.amount_minor, request.currency).amount),
        "currency": request.currency,
        "base_amount": str(
            Money.from_minor(request.base_minor, request.company.base_currency).amount
        ),
        "fx_rate": str(request.fx_rate) if request.fx_rate is not None else None,
        "reason": request.reason,
        "state": request.state,
        "requested_by": request.requested_by.username if request.requested_by else None,
        "decided_by": request.decided_by.username if request.decided_by else None,
        "decision_note": request.decision_note,
    }


def _request_arguments(parser: CommandParser) -> None:
    parser.add_argument("--invoice", required=True, help="the item's number")
    parser.add_argument("--amount", help="in the item's currency (default: all that is open)")
    parser.add_argument("--reason", required=True)


def _request(context: Context) -> None:
    options = context.options
    number = options["invoice"].strip()
    item = (
        OpenItem.objects.filter(company=context.company, number=number)
        .select_related("customer")
        .order_by("pk")
        .first()
    )
    if item is None:
        raise CommandError(f"--invoice: no item {number!r} in {context.company.code}")
    amount = None
    if options["amount"]:
        try:
            amount = Money(parse_amount(options["amount"]), item.currency).minor
        except MoneyError as error:
            raise CommandError(f"--amount {options['amount']!r}: {error}") from None
    request = request_write_off(company=context.company, item=item, amount_minor=amount,
                                reason=options["reason"], actor=context.actor, on=context.on,
                                at=context.at)  # fmt: skip
    _show(context, request)


def _list_arguments(parser: CommandParser) -> None:
    parser.add_argument("--all", action="store_true", help="decided ones too")


def _list(context: Context) -> None:
    shown = WriteOffRequest.objects.filter(company=context.company).select_related(
        "item__customer", "company", "requested_by", "decided_by"
    )
    if not context.options["all"]:
        shown = shown.filter(state=WriteOffState.PENDING)
    rows = [write_off_row(r) for r in shown]
    if context.json:
        context.command.emit_json(rows)
        return
    for row in rows:
        context.command.stdout.write(f"{row['id']}  {row['customer']}  {row['invoice']}  "
                                     f"{row['currency']} {row['amount']}  {row['state']}  "
                                     f"{row['requested_by'] or '-'}  {row['reason']}")  # fmt: skip


def _decide_arguments(parser: CommandParser) -> None:
    parser.add_argument("request_id", type=int)
    parser.add_argument("--note", default="")


def _reject_arguments(parser: CommandParser) -> None:
    parser.add_argument("request_id", type=int)
    parser.add_argument("--reason", required=True)


def _found(context: Context) -> WriteOffRequest:
    wanted = context.options["request_id"]
    found = WriteOffRequest.objects.filter(company=context.company, pk=wanted).first()
    if found is None:
        raise CommandError(f"no write-off request {wanted} in {context.company.code}")
    if context.actor is None:
        raise CommandError("--by: name the user who decides (a credit manager or an admin)")
    return found


def _approve(context: Context) -> None:
    request = approve_write_off(request=_found(context), actor=context.actor,
                                note=context.options["note"], on=context.on, at=context.at)  # fmt: skip
    _show(context, request)


def _reject(context: Context) -> None:
    request = reject_write_off(request=_found(context), actor=context.actor,
                               reason=context.options["reason"], on=context.on, at=context.at)  # fmt: skip
    _show(context, request)


def _show(context: Context, request: WriteOffRequest) -> None:
    row = write_off_row(request)
    context.emit(row, f"write-off request {request.pk}: {english(request.get_state_display).lower()} "
                      f"({row['currency']} {row['amount']} of {row['invoice']})")  # fmt: skip


ACTIONS = {
    "write-off": Action(
        "write off an item (above the threshold: asks for approval)", _request_arguments, _request
    ),
    "write-offs": Action("write-offs awaiting approval (or --all)", _list_arguments, _list),
    "approve-write-off": Action(
        "approve a write-off (a second person)", _decide_arguments, _approve
    ),
    "reject-write-off": Action(
        "turn a write-off down, with the reason", _reject_arguments, _reject
    ),
}
