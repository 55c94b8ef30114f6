"""`dunwell case insolvencies|file-claim|close-insolvency|claim` (opening is
`dunwell case insolvency`, a workflow: `dunwell.workflows.cli.insolvency`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.cases.cli.base import Action, Context
from dunwell.cases.models import Insolvency, InsolvencyState
from dunwell.cases.printing import claim_csv, claim_pdf
from dunwell.cases.services.insolvency import claim_totals, close_insolvency, file_claim
from dunwell.core.money import Money, MoneyError, parse_amount


def insolvency_row(insolvency: Insolvency) -> dict[str, Any]:
    def amount(minor: int, currency: str) -> str:
        return str(Money.from_minor(minor, currency).amount)

    dividend = insolvency.dividend_minor
    return {
        "id": insolvency.pk,
        "customer": insolvency.customer.account_number,
        "kind": insolvency.kind,
        "state": insolvency.state,
        "opened_on": insolvency.opened_on.isoformat(),
        "case_reference": insolvency.case_reference,
        "court": insolvency.court,
        "administrator": insolvency.administrator_name,
        "claims_deadline": _day(insolvency.claims_deadline),
        "filed_on": _day(insolvency.filed_on),
        "closed_on": _day(insolvency.closed_on),
        "dividend": None if dividend is None else amount(dividend, insolvency.dividend_currency),
        "dividend_currency": insolvency.dividend_currency or None,
        "claim": [
            {
                "currency": t.currency,
                "principal": amount(t.principal_minor, t.currency),
                "interest": amount(t.interest_minor, t.currency),
                "costs": amount(t.costs_minor, t.currency),
                "total": amount(t.total_minor, t.currency),
            }
            for t in claim_totals(insolvency)
        ],
    }


def _day(value: Any) -> str | None:
    return value.isoformat() if value else None


def _found(context: Context) -> Insolvency:
    wanted = context.options["insolvency_id"]
    found = Insolvency.objects.filter(company=context.company, pk=wanted).first()
    if found is None:
        raise CommandError(f"no insolvency {wanted} in {context.company.code}")
    return found


def _listing_arguments(parser: CommandParser) -> None:
    parser.add_argument("--all", action="store_true", help="closed ones too")


def _list(context: Context) -> None:
    shown = Insolvency.objects.filter(company=context.company).select_related("customer")
    if not context.options["all"]:
        shown = shown.exclude(state=InsolvencyState.CLOSED)
    rows = [insolvency_row(i) for i in shown]
    if context.json:
        context.command.emit_json(rows)
        return
    for row in rows:
        claim = ", ".join(f"{t['currency']} {t['total']}" for t in row["claim"])
        context.command.stdout.write(f"{row['id']}  {row['customer']}  {row['kind']}  "
                                     f"{row['state']}  {row['opened_on']}  {claim}")  # fmt: skip


def _one_arguments(parser: CommandParser) -> None:
    parser.add_argument("insolvency_id", type=int)
    parser.add_argument("--note", default="")


def _file(context: Context) -> None:
    filed = file_claim(insolvency=_found(context), note=context.options["note"],
                       actor=context.actor, on=context.on, at=context.at)  # fmt: skip
    context.emit(insolvency_row(filed), f"insolvency {filed.pk}: claim filed on {filed.filed_on}")


def _close_arguments(parser: CommandParser) -> None:
    _one_arguments(parser)
    parser.add_argument("--dividend", help="the dividend received, e.g. 120.50")
    parser.add_argument("--currency", default="", help="of the dividend (default: the customer's)")


def _close(context: Context) -> None:
    insolvency = _found(context)
    options = context.options
    currency = (options["currency"] or insolvency.customer.currency).upper()
    dividend = None
    if options["dividend"]:
        try:
            dividend = Money(parse_amount(options["dividend"]), currency).minor
        except MoneyError as error:
            raise CommandError(f"--dividend {options['dividend']!r}: {error}") from None
    closed = close_insolvency(insolvency=insolvency, dividend_minor=dividend,
                              dividend_currency=currency, note=options["note"],
                              actor=context.actor, on=context.on, at=context.at)  # fmt: skip
    context.emit(insolvency_row(closed), f"insolvency {closed.pk}: closed on {closed.closed_on}")


def _claim_arguments(parser: CommandParser) -> None:
    parser.add_argument("insolvency_id", type=int)
    parser.add_argument("--out", required=True, help="FILE.pdf or FILE.csv")


def _claim(context: Context) -> None:
    insolvency = _found(context)
    out = Path(context.options["out"])
    if out.suffix.lower() == ".pdf":
        out.write_bytes(claim_pdf(insolvency))
    elif out.suffix.lower() == ".csv":
        out.write_text(claim_csv(insolvency), encoding="utf-8")
    else:
        raise CommandError(f"--out {str(out)!r}: expected a file name ending in .pdf or .csv")
    context.emit({"id": insolvency.pk, "file": str(out)},
                 f"claim of insolvency {insolvency.pk} written to {out}")  # fmt: skip


ACTIONS = {
    "insolvencies": Action(
        "insolvency proceedings not closed (or --all)", _listing_arguments, _list
    ),
    "file-claim": Action("the claim was filed with the administrator", _one_arguments, _file),
    "close-insolvency": Action(
        "the proceedings ended (with the dividend)", _close_arguments, _close
    ),
    "claim": Action("the claim statement as PDF or CSV", _claim_arguments, _claim),
}
