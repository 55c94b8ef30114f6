"""Payment plan pages: a plan with its instalments, its agreement letter as PDF, and the form to
agree one (n equal instalments) for a customer's open invoices."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django import forms
from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dunwell.cases.models import PaymentPlan
from dunwell.cases.printing import agreement_filename, agreement_html
from dunwell.cases.services.plans import plan_reference
from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.models import Role
from dunwell.core.money import Money, MoneyError
from dunwell.ledger.models import OpenItem
from dunwell.web.access import CompanyRequest, access_customer, company_view
from dunwell.web.documents import pdf_response
from dunwell.workflows import plans as flows


class PlanForm(forms.Form):
    invoices = forms.ModelMultipleChoiceField(queryset=OpenItem.objects.none(), label=_("Invoices"))
    instalments = forms.IntegerField(min_value=1, max_value=120, label=_("Instalments"))
    first_due_on = forms.DateField(label=_("First due date"), input_formats=["%Y-%m-%d"])
    every_months = forms.IntegerField(
        min_value=1, max_value=12, initial=1, label=_("Every (months)")
    )
    interest_percent = forms.DecimalField(required=False, min_value=0, max_value=100,
                                          decimal_places=3, label=_("Interest (% a year)"))  # fmt: skip
    fee = forms.DecimalField(required=False, min_value=0, decimal_places=2, label=_("Fee"))
    grace_days = forms.IntegerField(min_value=0, max_value=90, initial=5, label=_("Grace (days)"))
    agreed_by = forms.CharField(required=False, max_length=120, label=_("Agreed with"))


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
    """Agree a plan of n equal monthly instalments for the invoices ticked."""
    customer = access_customer(request, customer_id)
    form = PlanForm(request.POST)
    field = cast("forms.ModelMultipleChoiceField[OpenItem]", form.fields["invoices"])
    field.queryset = OpenItem.objects.filter(company=request.company, customer=customer)
    if not form.is_valid():
        problems = "; ".join(f"{form.fields[k].label}: {' '.join(str(e) for e in v)}"
                             if k in form.fields else " ".join(str(e) for e in v)
                             for k, v in form.errors.items())  # fmt: skip
        flash.error(request, f"{customer}: no plan agreed: {problems}")
        return redirect("web:customer", customer_id=customer.pk)
    data = form.cleaned_data
    items = list(data["invoices"])
    try:
        fee = Money(data["fee"] or Decimal(0), items[0].currency).minor
        done = flows.agree_plan(
            company=request.company, customer=customer, items=items,
            instalments=data["instalments"], first_due_on=data["first_due_on"],
            every_months=data["every_months"], interest_percent=data["interest_percent"],
            fee_minor=fee, grace_days=data["grace_days"], agreed_by=data["agreed_by"],
            actor=request.user, on=clock.today(request.company), at=clock.now(),
        )  # fmt: skip
    except (DunwellError, MoneyError) as error:
        flash.error(request, f"{customer}: no plan agreed: {error}")
        return redirect("web:customer", customer_id=customer.pk)
    flash.success(request, f"payment plan {done.plan.pk} agreed")
    return redirect("web:plan", plan_id=done.plan.pk)
