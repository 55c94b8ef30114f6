"""`dunwell case promises|promise|cancel-promise`.

`case promise` records the promise (`cases.services.promises.make_promise`): from then on the
dunning run pauses what it covers. It does not withdraw reminders already queued and not yet
sent: that takes the dunning outbox, which `cases` may not import; the web form does both
through `workflows.promises.open_promise` (decision 0010).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.cases.cli.base import Action, Context
from dunwell.cases.models import PromiseChannel, PromiseState, PromiseToPay
from dunwell.cases.services.promises import cancel_promise, make_promise
from dunwell.core.i18n import english
from dunwell.core.management.base import parse_iso_date
from dunwell.core.money import Money, MoneyError, check_currency, parse_amount


def _listing_arguments(parser: CommandParser) -> None:
    parser.add_argument("--all", action="store_true", help="decided and cancelled ones too")
    parser.add_argument("--customer", help="account number: only this customer's")


def _list(context: Context) -> None:
    shown = PromiseToPay.objects.filter(company=context.company)
    if not context.options["all"]:
        shown = shown.filter(state=PromiseState.OPEN)
    if context.options["customer"]:
        shown = shown.filter(customer=context.customer(context.options["customer"]))
    rows = [promise_row(p) for p in shown.select_related("customer")]
    if context.json:
        context.command.emit_json(rows)
        return
    for row in rows:
        items = ", ".join(row["items"]) or "the account"
        context.command.stdout.write(
            f"{row['id']}  {row['customer']}  {row['state']}  {row['currency']} {row['amount']} "
            f"by {row['promised_on']} (paid {row['paid']})  {row['promised_by']}, "
            f"{row['channel']}  {items}"
        )


def _make_arguments(parser: CommandParser) -> None:
    parser.add_argument("--customer", required=True, help="account number")
    parser.add_argument("--amount", required=True, help="e.g. 1200.00")
    parser.add_argument("--currency", help="default: the invoices', else the customer's")
    parser.add_argument("--date", required=True, type=parse_iso_date, help="to arrive by")
    parser.add_argument("--promised-by", required=True, help="who promised, at the customer")
    parser.add_argument("--channel", required=True, choices=PromiseChannel.values)
    parser.add_argument("--invoice", action="append", default=[],
                        help="an invoice it is for (repeat); none: the account")  # fmt: skip
    parser.add_argument("--grace", type=int, help="days after the date before it is broken")
    parser.add_argument("--note", default="")


def make_with(maker: Callable[..., PromiseToPay]) -> Callable[[Context], None]:
    """`case promise` recording through `maker`: `make_promise` here; the workflows app puts
    `workflows.promises.open_promise` in its place, which also withdraws pointless reminders."""

    def run(context: Context) -> None:
        _make(context, maker)

    return run


def _make(context: Context, maker: Callable[..., PromiseToPay]) -> None:
    options = context.options
    customer = context.customer(options["customer"])
    items = [context.item(customer, number) for number in options["invoice"]]
    currency = options["currency"] or (items[0].currency if items else customer.currency)
    try:
        currency = check_currency(currency.upper())
        amount = Money(parse_amount(options["amount"]), currency)
    except MoneyError as error:
        raise CommandError(f"--amount {options['amount']!r} ({currency}): {error}") from None
    if amount.rounded() != amount:
        raise CommandError(f"--amount {options['amount']!r}: more decimals than {currency} has")
    promise = maker(
        company=context.company, customer=customer, amount_minor=amount.minor, currency=currency,
        promised_on=options["date"], promised_by=options["promised_by"],
        channel=options["channel"], items=items, grace_days=options["grace"],
        note=options["note"], actor=context.actor, on=context.on, at=context.at,
    )  # fmt: skip
    _show(context, promise)


def _cancel_arguments(parser: CommandParser) -> None:
    parser.add_argument("promise_id", type=int)
    parser.add_argument("--reason", required=True)


def _cancel(context: Context) -> None:
    promise_id = context.options["promise_id"]
    found = PromiseToPay.objects.filter(company=context.company, pk=promise_id).first()
    if found is None:
        raise CommandError(f"no promise {promise_id} in {context.company.code}")
    promise = cancel_promise(promise=found, reason=context.options["reason"],
                             actor=context.actor, on=context.on, at=context.at)  # fmt: skip
    _show(context, promise)


def _show(context: Context, promise: PromiseToPay) -> None:
    row = promise_row(promise)
    context.emit(row, f"promise {promise.pk}: {english(promise.get_state_display).lower()}, "
                      f"{row['currency']} {row['amount']} by {row['promised_on']}")  # fmt: skip


def promise_row(promise: PromiseToPay) -> dict[str, Any]:
    def amount(minor: int) -> str:
        return str(Money.from_minor(minor, promise.currency).amount)

    return {
        "id": promise.pk,
        "customer": promise.customer.account_number,
        "state": promise.state,
        "currency": promise.currency,
        "amount": amount(promise.amount_minor),
        "paid": amount(promise.paid_minor),
        "promised_on": promise.promised_on.isoformat(),
        "grace_days": promise.grace_days,
        "until": promise.until.isoformat(),
        "promised_by": promise.promised_by,
        "channel": promise.channel,
        "note": promise.note,
        "made_on": promise.made_on.isoformat(),
        "decided_on": promise.decided_on.isoformat() if promise.decided_on else None,
        "items": sorted(p.item.number for p in promise.promised.select_related("item")),
    }


ACTIONS = {
    "promises": Action("the open promises to pay (or --all)", _listing_arguments, _list),
    "promise": Action("record a promise to pay", _make_arguments, make_with(make_promise)),
    "cancel-promise": Action("cancel an open promise, with the reason", _cancel_arguments, _cancel),
}
