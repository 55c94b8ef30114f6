"""`dunwell case plans|plan|plan-show|cancel-plan|plan-letter`."""

from __future__ import annotations

from argparse import ArgumentTypeError
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.cases.cli.base import Action, Context
from dunwell.cases.models import PaymentPlan, PlanState
from dunwell.cases.printing import agreement_pdf
from dunwell.cases.services.plans import agree_plan, cancel_plan, plan_reference
from dunwell.core.management.base import parse_iso_date
from dunwell.core.money import Money, MoneyError, parse_amount


def _listing_arguments(parser: CommandParser) -> None:
    parser.add_argument("--all", action="store_true", help="ended ones too")
    parser.add_argument("--customer", help="account number")


def _list(context: Context) -> None:
    shown = PaymentPlan.objects.filter(company=context.company).select_related("customer")
    if not context.options["all"]:
        shown = shown.filter(state=PlanState.ACTIVE)
    if context.options["customer"]:
        shown = shown.filter(customer=context.customer(context.options["customer"]))
    rows = [plan_row(plan) for plan in shown]
    if context.json:
        context.command.emit_json(rows)
        return
    for row in rows:
        context.command.stdout.write(f"{row['id']}  {row['customer']}  {row['state']}  "
                                     f"{row['currency']} {row['total']}  "
                                     f"{len(row['instalments'])} instalments")  # fmt: skip


def _agree_arguments(parser: CommandParser) -> None:
    parser.add_argument("--customer", required=True, help="account number")
    parser.add_argument("--invoice", required=True, action="append", help="NUMBER; repeat")
    parser.add_argument("--instalments", type=int, help="n equal instalments")
    parser.add_argument("--first", type=parse_iso_date, help="first due date YYYY-MM-DD")
    parser.add_argument("--every-months", type=int, default=0, help="months apart (default 1)")
    parser.add_argument("--every-days", type=int, default=0, help="days apart")
    parser.add_argument("--schedule", action="append",
                        help="YYYY-MM-DD=AMOUNT, repeat: custom instalments; the last may be "
                             "YYYY-MM-DD=rest")  # fmt: skip
    parser.add_argument("--interest", help="yearly percent, simple, on the declining balance")
    parser.add_argument("--fee", help="fee for the plan, e.g. 25.00")
    parser.add_argument("--grace", type=int, default=5, help="days of grace (default 5)")
    parser.add_argument("--agreed-by", default="", help="who agreed, at the customer")
    parser.add_argument("--note", default="")


def _amount(text: str, currency: str, option: str) -> int:
    try:
        return Money(parse_amount(text), currency).minor
    except MoneyError as error:
        raise CommandError(f"{option} {text!r}: {error}") from None


def _schedule(given: list[str] | None, currency: str) -> list[tuple[Any, int | None]] | None:
    if not given:
        return None
    rows: list[tuple[Any, int | None]] = []
    for text in given:
        day, sep, amount = text.partition("=")
        if not sep:
            raise CommandError(f"--schedule {text!r}: expected YYYY-MM-DD=AMOUNT")
        try:
            on = parse_iso_date(day)
        except ArgumentTypeError:
            raise CommandError(f"--schedule {text!r}: expected YYYY-MM-DD=AMOUNT") from None
        rest = amount.strip().lower() == "rest"  # the rules allow it on the last only
        rows.append((on, None if rest else _amount(amount, currency, "--schedule")))
    return rows


def agree_with(agreer: Callable[..., PaymentPlan]) -> Callable[[Context], None]:
    """`case plan` agreeing through `agreer`: the cases service here; the workflows app puts
    `workflows.plans.agree_plan` in its place, which also holds back pending reminders."""

    def run(context: Context) -> None:
        _agree(context, agreer)

    return run


def _agree(context: Context, agreer: Callable[..., PaymentPlan]) -> None:
    options = context.options
    customer = context.customer(options["customer"])
    items = [context.item(customer, number) for number in options["invoice"]]
    currency = items[0].currency
    try:
        percent = Decimal(options["interest"]) if options["interest"] else None
    except InvalidOperation:
        raise CommandError(
            f"--interest {options['interest']!r}: expected a percent like 5"
        ) from None
    plan = agreer(
        company=context.company, customer=customer, items=items,
        instalments=options["instalments"], first_due_on=options["first"],
        every_months=options["every_months"], every_days=options["every_days"],
        schedule=_schedule(options["schedule"], currency), interest_percent=percent,
        fee_minor=_amount(options["fee"], currency, "--fee") if options["fee"] else 0,
        grace_days=options["grace"], agreed_by=options["agreed_by"], note=options["note"],
        actor=context.actor, on=context.on, at=context.at,
    )  # fmt: skip
    row = plan_row(plan)
    context.emit(row, f"payment plan {plan.pk}: {row['currency']} {row['total']} in "
                      f"{len(row['instalments'])} instalments")  # fmt: skip


def _id_arguments(parser: CommandParser) -> None:
    parser.add_argument("plan_id", type=int)


def _cancel_arguments(parser: CommandParser) -> None:
    parser.add_argument("plan_id", type=int)
    parser.add_argument("--reason", required=True)


def _letter_arguments(parser: CommandParser) -> None:
    parser.add_argument("plan_id", type=int)
    parser.add_argument("--out", required=True, help="the PDF file to write")


def _found(context: Context) -> PaymentPlan:
    plan_id = context.options["plan_id"]
    found = (PaymentPlan.objects.filter(company=context.company, pk=plan_id)
             .select_related("customer", "company").first())  # fmt: skip
    if found is None:
        raise CommandError(f"no payment plan {plan_id} in {context.company.code}")
    return found


def _show(context: Context) -> None:
    row = plan_row(_found(context))
    if context.json:
        context.command.emit_json(row)
        return
    context.command.stdout.write(f"payment plan {row['id']}  {row['customer']}  {row['state']}")
    for i in row["instalments"]:
        context.command.stdout.write(f"  {i['sequence']}  {i['due_on']}  {row['currency']} "
                                     f"{i['amount']}  paid {i['paid']}  {i['state']}")  # fmt: skip


def _cancel(context: Context) -> None:
    plan = cancel_plan(plan=_found(context), reason=context.options["reason"],
                       actor=context.actor, on=context.on, at=context.at)  # fmt: skip
    context.emit(plan_row(plan), f"payment plan {plan.pk}: cancelled")


def _letter(context: Context) -> None:
    plan = _found(context)
    out = Path(context.options["out"])
    try:
        out.write_bytes(agreement_pdf(plan))
    except OSError as error:
        raise CommandError(f"--out {out}: {error.strerror}") from None
    context.emit({"id": plan.pk, "file": str(out), "bytes": out.stat().st_size},
                 f"payment plan {plan.pk}: agreement letter written to {out}")  # fmt: skip


def plan_row(plan: PaymentPlan) -> dict[str, Any]:
    def amount(minor: int) -> str:
        return str(Money.from_minor(minor, plan.currency).amount)

    return {
        "id": plan.pk,
        "customer": plan.customer.account_number,
        "state": plan.state,
        "currency": plan.currency,
        "principal": amount(plan.principal_minor),
        "interest_percent": str(plan.interest_percent)
        if plan.interest_percent is not None
        else None,
        "interest": amount(plan.interest_minor),
        "fee": amount(plan.fee_minor),
        "total": amount(plan.total_minor),
        "grace_days": plan.grace_days,
        "agreed_on": plan.agreed_on.isoformat(),
        "agreed_by": plan.agreed_by,
        "ended_on": plan.ended_on.isoformat() if plan.ended_on else None,
        "payment_reference": plan_reference(plan),
        "items": [
            {"number": c.item.number, "amount": amount(c.amount_minor)}
            for c in plan.covered.select_related("item").order_by("item__number")
        ],
        "instalments": [
            {
                "sequence": i.sequence,
                "due_on": i.due_on.isoformat(),
                "amount": amount(i.amount_minor),
                "paid": amount(i.paid_minor),
                "state": i.state,
                "settled_on": i.settled_on.isoformat() if i.settled_on else None,
            }
            for i in plan.instalments.order_by("sequence")
        ],
    }


ACTIONS = {
    "plans": Action("the active payment plans (or --all)", _listing_arguments, _list),
    "plan": Action("agree a payment plan for invoices", _agree_arguments, agree_with(agree_plan)),
    "plan-show": Action("a payment plan and its instalments", _id_arguments, _show),
    "cancel-plan": Action("end a payment plan by hand", _cancel_arguments, _cancel),
    "plan-letter": Action("the agreement letter as PDF", _letter_arguments, _letter),
}
