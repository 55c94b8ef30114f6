"""`dunwell case insolvency`: open proceedings through the workflow (the case and its claim, a
credit hold, the unsent messages withdrawn, in one transaction)."""

from __future__ import annotations

from django.core.management.base import CommandParser

from dunwell.cases.cli.base import Action, Context
from dunwell.cases.cli.insolvency import insolvency_row
from dunwell.cases.models import InsolvencyKind
from dunwell.core.i18n import english
from dunwell.core.management.base import parse_iso_date
from dunwell.workflows.insolvency import open_insolvency


def _open_arguments(parser: CommandParser) -> None:
    parser.add_argument("--customer", required=True, help="account number")
    parser.add_argument("--kind", required=True, choices=InsolvencyKind.values)
    parser.add_argument("--opened-on", required=True, type=parse_iso_date,
                        help="the day the proceedings were opened")  # fmt: skip
    parser.add_argument("--reference", default="", help="the court's case reference")
    parser.add_argument("--court", default="")
    parser.add_argument("--administrator", default="", help="the administrator's name")
    parser.add_argument("--administrator-contact", default="", help="address, email, phone")
    parser.add_argument("--claims-deadline", type=parse_iso_date, help="claims filed by")
    parser.add_argument("--note", default="")


def _open(context: Context) -> None:
    options = context.options
    opened, withdrawn = open_insolvency(
        company=context.company, customer=context.customer(options["customer"]),
        kind=options["kind"], opened_on=options["opened_on"],
        case_reference=options["reference"], court=options["court"],
        administrator_name=options["administrator"],
        administrator_contact=options["administrator_contact"],
        claims_deadline=options["claims_deadline"], note=options["note"],
        actor=context.actor, on=context.on, at=context.at,
    )  # fmt: skip
    row = {**insolvency_row(opened), "withdrawn_messages": withdrawn}
    totals = ", ".join(f"{t['currency']} {t['total']}" for t in row["claim"]) or "nothing open"
    context.emit(row, f"insolvency {opened.pk}: {english(opened.get_kind_display).lower()} of "
                      f"{row['customer']}, claim {totals}; dunning stopped, credit hold placed, "
                      f"{withdrawn} unsent message(s) withdrawn")  # fmt: skip


ACTIONS = {
    "insolvency": Action(
        "record insolvency proceedings: the claim, dunning stopped", _open_arguments, _open
    ),
}
