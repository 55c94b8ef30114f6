"""Payment plan pages: a plan with its instalments, its agreement letter as PDF, and the form to
agree one for a customer's open invoices: n equal instalments every N months or days, or a
custom schedule of due dates and amounts; optional simple interest and a fee."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages as flash
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from dunwell.cases.models import PaymentPlan
from dunwell.cases.printing import agreement_filename, agreement_html
from dunwell.cases.rules.plans import MAX_INSTALMENTS
from dunwell.cases.services.plans import plan_reference
from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Role
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.ledger.models import Customer, ItemKind, OpenItem
from dunwell.web.access import CompanyRequest, access_customer, company_view
from dunwell.web.documents import pdf_response
from dunwell.web.pickers import Picker, respond
from dunwell.workflows import plans as flows

EQUAL, CUSTOM = "equal", "custom"
MONTHS, DAYS = "months", "days"
SCHEDULE_ROWS = 12  # blank rows of the custom schedule on the form; the view reads up to 120
SCHEDULE = range(1, SCHEDULE_ROWS + 1)
ROW_FIELDS = {"first": _("due date"), "due_on": _("due date"), "amount": _("amount")}


class PlanForm(forms.Form):
    invoices = forms.ModelMultipleChoiceField(queryset=OpenItem.objects.none(), label=_("Invoices"))
    mode = forms.ChoiceField(choices=[(EQUAL, _("Equal instalments")),
                                      (CUSTOM, _("Custom schedule"))], required=False,
                             label=_("Schedule"))  # fmt: skip
    instalments = forms.IntegerField(required=False, min_value=1, max_value=120,
                                     label=_("Instalments"))  # fmt: skip
    first_due_on = forms.DateField(required=False, label=_("First due date"),
                                   input_formats=["%Y-%m-%d"])  # fmt: skip
    every = forms.IntegerField(required=False, min_value=1, max_value=365, label=_("Every"))
    unit = forms.ChoiceField(choices=[(MONTHS, _("months")), (DAYS, _("days"))], required=False,
                             label=_("Interval"))  # fmt: skip
    interest_percent = forms.DecimalField(required=False, min_value=0, max_value=100,
                                          decimal_places=3, label=_("Interest (% a year)"))  # fmt: skip
    fee = forms.DecimalField(required=False, min_value=0, decimal_places=2, label=_("Fee"))
    grace_days = forms.IntegerField(min_value=0, max_value=90, initial=5, label=_("Grace (days)"))
    agreed_by = forms.CharField(required=False, max_length=120, label=_("Agreed with"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["mode"] = data.get("mode") or EQUAL
        data["unit"] = data.get("unit") or MONTHS
        if data["mode"] == EQUAL:
            for name in ("instalments", "first_due_on", "every"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, _("needed for equal instalments"))
            if data["unit"] == MONTHS and (data.get("every") or 0) > 12:
                self.add_error("every", _("at most 12 months apart"))
        return data


def plannable(customer: Customer) -> QuerySet[OpenItem]:
    """What a plan may cover: the customer's open invoices, fees and interest."""
    return customer.items.filter(
        open_minor__gt=0, voided_on__isnull=True,
        kind__in=(ItemKind.INVOICE, ItemKind.FEE, ItemKind.INTEREST),
    )  # fmt: skip


@require_GET
@company_view(min_role=Role.COLLECTOR)
def invoices(request: CompanyRequest, customer_id: int) -> HttpResponse:
    """The plan form's invoices (web.pickers)."""
    customer = access_customer(request, customer_id)
    url = reverse("web:plan_invoices", args=[customer.pk])
    return respond(request, plannable(customer), Picker(name="invoices", key="plan", url=url),
                   customer=customer, title=_("Agree a payment plan"),
                   form="web/cases/_plan_form.html", context={"schedule_rows": SCHEDULE})  # fmt: skip


def _plan(request: CompanyRequest, plan_id: int) -> PaymentPlan:
    plans = PaymentPlan.objects.filter(company=request.company).select_related(
        "customer", "company"
    )
    return get_object_or_404(plans, pk=plan_id)


@company_view()
def plan(request: CompanyRequest, plan_id: int) -> HttpResponse:
    found = _plan(request, plan_id)
    context = {
        "plan": found,
        "covered": found.covered.select_related("item").order_by("item__due_on", "item__number"),
        "instalments": found.instalments.order_by("sequence"),
        "reference": plan_reference(found),
    }
    return render(request, "web/cases/plan.html", context)


@company_view()
def agreement_pdf(request: CompanyRequest, plan_id: int) -> HttpResponse:
    found = _plan(request, plan_id)
    return pdf_response(agreement_html(found), agreement_filename(found))


@require_POST
@company_view(min_role=Role.COLLECTOR)
def agree(request: CompanyRequest, customer_id: int) -> HttpResponse:
    """Agree a plan for the invoices chosen: n equal instalments every N months or days, or the
    custom schedule's rows of due date and amount."""
    customer = access_customer(request, customer_id)
    form = PlanForm(request.POST)
    field = cast("forms.ModelMultipleChoiceField[OpenItem]", form.fields["invoices"])
    field.queryset = OpenItem.objects.filter(company=request.company, customer=customer)
    if not form.is_valid():
        problems = "; ".join(f"{form.fields[k].label}: {' '.join(str(e) for e in v)}"
                             if k in form.fields else " ".join(str(e) for e in v)
                             for k, v in form.errors.items())  # fmt: skip
        return _refused(request, customer, problems)
    data = form.cleaned_data
    items = list(data["invoices"])
    currency = items[0].currency
    rows: list[tuple[int, date, int | None]] = []
    try:
        if data["mode"] == CUSTOM:
            rows = _rows(request.POST, currency)
        fee = Money(data["fee"] or Decimal(0), currency).minor
        done = flows.agree_plan(
            company=request.company, customer=customer, items=items,
            fee_minor=fee, interest_percent=data["interest_percent"],
            grace_days=data["grace_days"], agreed_by=data["agreed_by"],
            actor=request.user, on=clock.today(request.company), at=clock.now(),
            **_schedule(data, rows),
        )  # fmt: skip
    except DunwellError as error:
        return _refused(request, customer, _where(error, rows))
    except MoneyError as error:
        return _refused(request, customer, f"{form.fields['fee'].label}: {error}")
    flash.success(request, f"payment plan {done.plan.pk} agreed")
    return redirect("web:plan", plan_id=done.plan.pk)


def _refused(request: CompanyRequest, customer: Customer, problems: str) -> HttpResponse:
    message = gettext("%(customer)s: no plan agreed: %(problems)s")
    flash.error(request, message % {"customer": customer, "problems": problems})
    return redirect("web:customer", customer_id=customer.pk)


def _schedule(data: dict[str, Any], rows: list[tuple[int, date, int | None]]) -> dict[str, Any]:
    """The service's keywords for the schedule chosen."""
    if data["mode"] == CUSTOM:
        return {"schedule": [(on, amount) for _, on, amount in rows]}
    every = "every_months" if data["unit"] == MONTHS else "every_days"
    return {"instalments": data["instalments"], "first_due_on": data["first_due_on"],
            every: data["every"]}  # fmt: skip


def _rows(post: QueryDict, currency: str) -> list[tuple[int, date, int | None]]:
    """(form row, due date, amount) of every custom schedule row filled in, in form order; a
    row with only one of the two, or either unreadable, is refused naming the row and field."""
    rows = []
    for row in range(1, MAX_INSTALMENTS + 1):
        day = post.get(f"row-{row}-due_on", "").strip()
        amount = post.get(f"row-{row}-amount", "").strip()
        if not day and not amount:
            continue
        if not day:
            raise _row_error(row, "due_on", gettext("needed with the amount"))
        try:
            on = date.fromisoformat(day)
        except ValueError:
            raise _row_error(row, "due_on", f"{day!r}: expected YYYY-MM-DD") from None
        minor = None  # the last row's amount left blank: the rest (the rules refuse it elsewhere)
        try:
            if amount:
                minor = Money(parse_amount(amount), currency).minor
        except MoneyError as error:
            raise _row_error(row, "amount", f"{amount!r}: {error}") from None
        rows.append((row, on, minor))
    if not rows:
        message = gettext("Custom schedule: fill in a due date and an amount on at least one row")
        raise DunwellError(ErrorCode.INVALID, message, field="schedule")
    return rows


def _row_error(row: int, field: str, problem: str) -> DunwellError:
    """A refusal naming the form's row and its field (the context says `form_row`: the service's
    `row` counts only the rows filled in)."""
    message = gettext("Schedule row %(row)s, %(field)s: %(problem)s") % {
        "row": row, "field": ROW_FIELDS.get(field, field), "problem": problem}  # fmt: skip
    return DunwellError(ErrorCode.INVALID, message, field=field, form_row=row)


def _where(error: DunwellError, rows: list[tuple[int, date, int | None]]) -> str:
    """The service's refusal, naming the form row and field of a custom schedule's instalment
    when it is about one (the form may have blank rows between those filled in)."""
    instalment = error.context.get("row")
    if not rows or not instalment or instalment > len(rows):
        return error.message
    return _row_error(
        rows[instalment - 1][0], error.context.get("field", ""), error.message
    ).message
