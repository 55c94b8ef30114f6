"""`dunwell case agencies|agency|place|placements|placement-status|recovered|recall|close-placement`.

The case file of a customer (`dunwell case file`) is a read model of `reports`, which this app
may not import: `dunwell.reports` adds that action to the command (`reports/case_file_cli.py`).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.cases.cli.base import Action, Context
from dunwell.cases.models import (
    OPEN_STATES,
    Agency,
    AgencyKind,
    Placement,
    PlacementOutcome,
    PlacementState,
)
from dunwell.cases.services.placements import (
    close_placement,
    create_agency,
    place_account,
    recall_placement,
    record_recovery,
    totals,
    update_placement_status,
)
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.management.base import parse_iso_date
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.ledger.models import Payment


def _agencies_arguments(parser: CommandParser) -> None:
    parser.add_argument("--all", action="store_true", help="inactive ones too")


def _agencies(context: Context) -> None:
    shown = Agency.objects.filter(company=context.company)
    if not context.options["all"]:
        shown = shown.filter(active=True)
    rows = [agency_row(a) for a in shown]
    if context.json:
        context.command.emit_json(rows)
        return
    for row in rows:
        context.command.stdout.write(
            f"{row['id']}  {row['name']}  {row['kind']}  {row['commission_percent']} %"
        )


def _agency_arguments(parser: CommandParser) -> None:
    parser.add_argument("--name", required=True)
    parser.add_argument("--kind", choices=AgencyKind.values, default=AgencyKind.AGENCY)
    parser.add_argument("--commission", required=True, help="percent of what it recovers, e.g. 15")
    parser.add_argument("--email", default="")
    parser.add_argument("--phone", default="")
    parser.add_argument("--address", default="")


def _agency(context: Context) -> None:
    options = context.options
    agency = create_agency(company=context.company, name=options["name"], kind=options["kind"],
                           commission_percent=options["commission"], email=options["email"],
                           phone=options["phone"], address=options["address"],
                           at=context.at)  # fmt: skip
    context.emit(agency_row(agency), f"agency {agency.pk}: {agency.name}")


def _place_arguments(parser: CommandParser) -> None:
    parser.add_argument("--customer", required=True, help="account number")
    parser.add_argument("--agency", required=True, type=int, help="agency id (`case agencies`)")
    parser.add_argument("--invoice", action="append", default=[],
                        help="an item to place (repeat); default: all open in the currency")  # fmt: skip
    parser.add_argument("--currency", help="with no --invoice: which (default: the customer's)")
    parser.add_argument("--note", default="")


def _place(context: Context) -> None:
    options = context.options
    customer = context.customer(options["customer"])
    agency = Agency.objects.filter(company=context.company, pk=options["agency"]).first()
    if agency is None:
        raise CommandError(f"--agency {options['agency']}: no such agency in "
                           f"{context.company.code} (see `case agencies`)")  # fmt: skip
    items = [context.item(customer, number) for number in options["invoice"]] or None
    placement = place_account(
        company=context.company, customer=customer, agency=agency, items=items,
        currency=(options["currency"] or "").upper() or None, on=context.on, at=context.at,
        actor=context.actor, note=options["note"],
    )  # fmt: skip
    _show(context, placement)


def _placements_arguments(parser: CommandParser) -> None:
    parser.add_argument("--all", action="store_true", help="recalled and closed ones too")


def _placements(context: Context) -> None:
    shown = Placement.objects.filter(company=context.company).select_related("customer", "agency")
    if not context.options["all"]:
        shown = shown.filter(state__in=OPEN_STATES)
    found = list(shown)
    sums = totals(p.pk for p in found)
    rows = [placement_row(p, sums.get(p.pk, (0, 0))) for p in found]
    if context.json:
        context.command.emit_json(rows)
        return
    for row in rows:
        context.command.stdout.write(
            f"{row['id']}  {row['customer']}  {row['agency']['name']}  {row['state']}  "
            f"placed {row['placed']}  recovered {row['recovered']}  commission "
            f"{row['commission']} {row['currency']}"
        )


def _status_arguments(parser: CommandParser) -> None:
    parser.add_argument("placement_id", type=int)
    parser.add_argument("--state", required=True,
                        choices=[PlacementState.ACKNOWLEDGED, PlacementState.IN_PROGRESS])  # fmt: skip
    parser.add_argument("--note", default="")


def _status(context: Context) -> None:
    placement = update_placement_status(
        placement=_found(context), state=context.options["state"], note=context.options["note"],
        on=context.on, at=context.at, actor=context.actor,
    )  # fmt: skip
    _show(context, placement)


def _recovered_arguments(parser: CommandParser) -> None:
    parser.add_argument("placement_id", type=int)
    parser.add_argument("--amount", required=True, help="what the agency collected, e.g. 500.00")
    parser.add_argument(
        "--on", type=parse_iso_date, help="the day it collected it (default: today)"
    )
    parser.add_argument("--payment", help="the ledger payment that brought it in (its external id)")
    parser.add_argument("--note", default="")
    parser.add_argument("--key", help="idempotency key: the same key again records nothing more "
                        "(a script's retry), e.g. the agency's report id")  # fmt: skip


def _recovered(context: Context) -> None:
    options = context.options
    placement = _found(context)
    try:
        amount = Money(parse_amount(options["amount"]), placement.currency).minor
    except MoneyError as error:
        raise CommandError(f"--amount {options['amount']!r}: {error}") from None
    payment = None
    if options["payment"]:
        payment = Payment.objects.filter(company=context.company,
                                         external_id=options["payment"]).first()  # fmt: skip
        if payment is None:
            raise CommandError(f"--payment {options['payment']!r}: no such payment")
    try:
        record_recovery(placement=placement, amount_minor=amount, on=options["on"] or context.on,
                        at=context.at, actor=context.actor, payment=payment,
                        note=options["note"], key=options["key"])  # fmt: skip
    except DunwellError as error:
        if error.code != ErrorCode.DUPLICATE or error.context.get("field") != "key":
            raise
        context.command.stderr.write(error.message)  # a retry: what it asked for is recorded
    _show(context, placement)


def _recall_arguments(parser: CommandParser) -> None:
    parser.add_argument("placement_id", type=int)
    parser.add_argument("--reason", required=True)


def _recall(context: Context) -> None:
    placement = recall_placement(placement=_found(context), reason=context.options["reason"],
                                 on=context.on, at=context.at, actor=context.actor)  # fmt: skip
    _show(context, placement)


def _close_arguments(parser: CommandParser) -> None:
    parser.add_argument("placement_id", type=int)
    parser.add_argument("--outcome", required=True, choices=PlacementOutcome.values)
    parser.add_argument("--note", default="")


def _close(context: Context) -> None:
    placement = close_placement(
        placement=_found(context), outcome=context.options["outcome"],
        note=context.options["note"], on=context.on, at=context.at, actor=context.actor,
    )  # fmt: skip
    _show(context, placement)


def _found(context: Context) -> Placement:
    placement_id = context.options["placement_id"]
    found = (
        Placement.objects.filter(company=context.company, pk=placement_id)
        .select_related("customer", "agency")
        .first()
    )
    if found is None:
        raise CommandError(f"no placement {placement_id} in {context.company.code}")
    return found


def _show(context: Context, placement: Placement) -> None:
    placement.refresh_from_db()
    row = placement_row(placement, totals([placement.pk]).get(placement.pk, (0, 0)))
    context.emit(row, f"placement {placement.pk}: {english(placement.get_state_display).lower()}, "
                      f"recovered {row['recovered']}, commission {row['commission']} "
                      f"{row['currency']}")  # fmt: skip


def _major(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency).amount)


def agency_row(agency: Agency) -> dict[str, Any]:
    return {
        "id": agency.pk,
        "name": agency.name,
        "kind": agency.kind,
        "commission_percent": f"{agency.commission_percent.normalize():f}",
        "email": agency.email,
        "phone": agency.phone,
        "address": agency.address,
        "active": agency.active,
    }


def placement_row(placement: Placement, sums: tuple[int, int]) -> dict[str, Any]:
    currency = placement.currency
    recovered, earned = sums
    return {
        "id": placement.pk,
        "customer": placement.customer.account_number,
        "agency": {
            "id": placement.agency_id,
            "name": placement.agency.name,
            "kind": placement.agency.kind,
        },
        "currency": currency,
        "state": placement.state,
        "outcome": placement.outcome,
        "placed_on": placement.placed_on.isoformat(),
        "placed": _major(placement.placed_minor, currency),
        "commission_percent": f"{placement.commission_percent.normalize():f}",
        "recovered": _major(recovered, currency),
        "commission": _major(earned, currency),
        "recalled_on": placement.recalled_on.isoformat() if placement.recalled_on else None,
        "closed_on": placement.closed_on.isoformat() if placement.closed_on else None,
        "note": placement.note,
        "reason": placement.reason,
        "items": [
            {"number": p.item.number, "amount": _major(p.amount_minor, currency)}
            for p in placement.items.select_related("item")
        ],
        "recoveries": [
            {
                "on": r.recovered_on.isoformat(),
                "amount": _major(r.amount_minor, currency),
                "commission": _major(r.commission_minor, currency),
                "payment": r.payment.external_id if r.payment else None,
                "note": r.note,
            }
            for r in placement.recoveries.select_related("payment")
        ],
    }


ACTIONS = {
    "agencies": Action(
        "the collection agencies and lawyers (or --all)", _agencies_arguments, _agencies
    ),
    "agency": Action("add a collection agency or a lawyer", _agency_arguments, _agency),
    "place": Action("place an account with an agency or a lawyer", _place_arguments, _place),
    "placements": Action("the open placements (or --all)", _placements_arguments, _placements),
    "placement-status": Action(
        "the agency acknowledged or works on it", _status_arguments, _status
    ),
    "recovered": Action("the agency recovered an amount", _recovered_arguments, _recovered),
    "recall": Action("take an account back from the agency", _recall_arguments, _recall),
    "close-placement": Action("the agency is done, with an outcome", _close_arguments, _close),
}
