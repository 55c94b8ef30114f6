"""Write-offs on the web: a request from the item page (collectors and above), and the list of
requests, by default those awaiting a second person's approval (credit managers and
administrators decide), searched, filtered, sorted and paged in SQL (`web.listing`)."""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dunwell.cases.models import WriteOffRequest, WriteOffState
from dunwell.cases.services.writeoffs import approve_write_off, reject_write_off, request_write_off
from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.models import Role
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.web.access import CompanyRequest, access_item, company_view
from dunwell.web.listing import FilterForm, back_query, paged

# amounts in the company's base currency: the requests' own currencies differ
WRITE_OFF_SORTS = {
    "date": ("requested_at", "pk"),
    "-date": ("-requested_at", "-pk"),
    "amount": ("base_minor", "requested_at", "pk"),
    "-amount": ("-base_minor", "requested_at", "pk"),
}


class WriteOffFilterForm(FilterForm):
    state = forms.ChoiceField(required=False, label=_("State"),
                              choices=[*WriteOffState.choices, ("any", _("Any"))])  # fmt: skip
    q = forms.CharField(required=False, max_length=100, label=_("Search"))

    def state_value(self) -> str:
        return str(self.value("state") or WriteOffState.PENDING)

    def filter(self, rows: QuerySet[WriteOffRequest]) -> QuerySet[WriteOffRequest]:
        if self.state_value() != "any":
            rows = rows.filter(state=self.state_value())
        if q := self.value("q").strip():
            rows = rows.filter(
                Q(item__customer__legal_name__icontains=q)
                | Q(item__customer__account_number__icontains=q) | Q(item__number__icontains=q)
            )  # fmt: skip
        return rows


@require_POST
@company_view(min_role=Role.COLLECTOR)
def request_write_off_view(request: CompanyRequest, item_id: int) -> HttpResponse:
    item = access_item(request, item_id)
    text = request.POST.get("amount", "").strip()
    try:
        amount = Money(parse_amount(text), item.currency).minor if text else None
        made = request_write_off(company=request.company, item=item, amount_minor=amount,
                                 reason=request.POST.get("reason", ""), actor=request.user,  # type: ignore[arg-type]
                                 on=clock.today(request.company), at=clock.now())  # fmt: skip
    except MoneyError as error:
        flash.error(request, f"amount {text!r}: {error}")
    except DunwellError as error:
        flash.error(request, error.message)
    else:
        money = Money.from_minor(made.amount_minor, made.currency)
        if made.state == WriteOffState.PENDING:
            flash.success(
                request, f"{item}: write-off of {money} awaits a second person's approval"
            )
        else:
            flash.success(request, f"{item}: {money} written off")
    return redirect("web:item", item_id=item.pk)


@company_view(min_role=Role.CREDIT_MANAGER)
def write_offs(request: CompanyRequest) -> HttpResponse:
    form = WriteOffFilterForm(request.GET)
    scope = WriteOffRequest.objects.filter(company=request.company).select_related(
        "item", "item__customer", "requested_by", "decided_by"
    )
    context = {
        "form": form,
        "requests": paged(request, form.filter(scope), sorts=WRITE_OFF_SORTS, default="date"),
        "state": form.state_value(),
    }
    return render(request, "web/writeoffs.html", context)


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def decide_write_off(request: CompanyRequest, request_id: int) -> HttpResponse:
    found = get_object_or_404(WriteOffRequest.objects.filter(company=request.company),
                              pk=request_id)  # fmt: skip
    on, at = clock.today(request.company), clock.now()
    try:
        if request.POST.get("action") == "approve":
            approve_write_off(request=found, actor=request.user, on=on, at=at,  # type: ignore[arg-type]
                              note=request.POST.get("note", ""))  # fmt: skip
            flash.success(request, f"write-off request {found.pk} approved and written off")
        else:
            reject_write_off(request=found, actor=request.user, on=on, at=at,  # type: ignore[arg-type]
                             reason=request.POST.get("note", ""))  # fmt: skip
            flash.success(request, f"write-off request {found.pk} rejected")
    except DunwellError as error:
        flash.error(request, error.message)
    query = back_query(request.POST.get("back", ""))
    return redirect(f"{reverse('web:write_offs')}?{query}" if query else "web:write_offs")
