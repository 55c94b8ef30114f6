"""`dunwell case reply|replies|reply-dispute|reply-promise`: log a customer's reply from an .eml
file or stdin, list them, turn one into a dispute or a promise to pay."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.cases.cli.base import Action, Context
from dunwell.cases.cli.disputes import parse_items
from dunwell.cases.models import CustomerReply, DisputeReason
from dunwell.cases.services.replies import (
    first_lines,
    log_reply,
    reply_to_dispute,
    reply_to_promise,
)
from dunwell.core.management.base import parse_iso_date
from dunwell.core.money import Money, MoneyError, parse_amount


def reply_row(reply: CustomerReply) -> dict[str, Any]:
    return {
        "id": reply.pk,
        "customer": reply.customer.account_number,
        "received_at": reply.received_at.isoformat(),
        "from": reply.from_address,
        "subject": reply.subject,
        "message_id": reply.message_id,
        "in_reply_to": reply.in_reply_to,
        "first_lines": first_lines(reply.body),
        "dispute": reply.dispute_id,
        "promise": reply.promise_id,
    }


def _log_arguments(parser: CommandParser) -> None:
    parser.add_argument("--customer", help="account number (default: found by the sender)")
    parser.add_argument("--file", help="the .eml or text file (default: read stdin)")


def _log(context: Context) -> None:
    options = context.options
    if options["file"]:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"--file: no file {str(path)!r}")
        raw = path.read_bytes().decode("utf-8", errors="replace")
    else:
        raw = sys.stdin.read()
    customer = context.customer(options["customer"]) if options["customer"] else None
    reply = log_reply(company=context.company, raw=raw, customer=customer, actor=context.actor,
                      on=context.on, at=context.at)  # fmt: skip
    context.emit(reply_row(reply), f"reply {reply.pk} from {reply.from_address or '?'} logged "
                                   f"for {reply.customer.account_number}")  # fmt: skip


def _list_arguments(parser: CommandParser) -> None:
    parser.add_argument("--customer", help="account number")


def _list(context: Context) -> None:
    shown = CustomerReply.objects.filter(company=context.company).select_related("customer")
    if context.options["customer"]:
        shown = shown.filter(customer=context.customer(context.options["customer"]))
    rows = [reply_row(r) for r in shown[:200]]
    if context.json:
        context.command.emit_json(rows)
        return
    for row in rows:
        context.command.stdout.write(f"{row['id']}  {row['customer']}  {row['received_at']}  "
                                     f"{row['from']}  {row['subject']}")  # fmt: skip


def _dispute_arguments(parser: CommandParser) -> None:
    parser.add_argument("reply_id", type=int)
    parser.add_argument("--invoice", required=True, action="append",
                        help="NUMBER for all that is open, NUMBER=AMOUNT for a part; repeat")  # fmt: skip
    parser.add_argument("--reason", required=True, choices=DisputeReason.values)
    parser.add_argument("--note", default="")


def _reply(context: Context) -> CustomerReply:
    wanted = context.options["reply_id"]
    reply = CustomerReply.objects.filter(company=context.company, pk=wanted).first()
    if reply is None:
        raise CommandError(f"no reply {wanted} in {context.company.code}")
    return reply


def _promise_arguments(parser: CommandParser) -> None:
    parser.add_argument("reply_id", type=int)
    parser.add_argument("--amount", required=True, help="e.g. 1200.00, in --currency")
    parser.add_argument("--currency", help="default: the customer's")
    parser.add_argument("--pay-by", required=True, type=parse_iso_date, help="YYYY-MM-DD")
    parser.add_argument("--invoice", action="append", default=[], help="the invoices; repeat")
    parser.add_argument("--promised-by", default="", help="who promised (default: the sender)")


def _promise(context: Context) -> None:
    reply, options = _reply(context), context.options
    currency = options["currency"] or reply.customer.currency
    try:
        amount = Money(parse_amount(options["amount"]), currency).minor
    except MoneyError as error:
        raise CommandError(f"--amount {options['amount']!r}: {error}") from None
    items = [context.item(reply.customer, number) for number in options["invoice"]]
    promise = reply_to_promise(reply=reply, amount_minor=amount, currency=currency,
                               promised_on=options["pay_by"], items=items,
                               promised_by=options["promised_by"], actor=context.actor,
                               on=context.on, at=context.at)  # fmt: skip
    reply.refresh_from_db()
    context.emit(reply_row(reply), f"reply {reply.pk}: promise {promise.pk} recorded")


def _dispute(context: Context) -> None:
    reply = _reply(context)
    items = parse_items(context, reply.customer, context.options["invoice"])
    dispute = reply_to_dispute(reply=reply, items=items, reason=context.options["reason"],
                               note=context.options["note"], actor=context.actor, on=context.on,
                               at=context.at)  # fmt: skip
    reply.refresh_from_db()
    context.emit(reply_row(reply), f"reply {reply.pk}: dispute {dispute.pk} opened")


ACTIONS = {
    "reply": Action("log a reply from the customer (.eml or text)", _log_arguments, _log),
    "replies": Action("the replies logged, newest first", _list_arguments, _list),
    "reply-dispute": Action("turn a reply into a dispute", _dispute_arguments, _dispute),
    "reply-promise": Action("turn a reply into a promise to pay", _promise_arguments, _promise),
}
