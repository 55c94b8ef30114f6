"""Write-offs on the web: a request from the item page (collectors and above), and the list of
requests awaiting a second person's approval (credit managers and administrators decide)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dunwell.cases.models import WriteOffRequest, WriteOffState
from dunwell.cases.services.writeoffs import approve_write_off, reject_write_off, request_write_off
from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.models import Role
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.web.access import CompanyRequest, access_item, company_view

DECIDED_SHOWN = 20


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
    scope = WriteOffRequest.objects.filter(company=request.company).select_related(
        "item", "item__customer", "requested_by", "decided_by"
    )
    context = {
        "pending": scope.filter(state=WriteOffState.PENDING).order_by("requested_at", "pk"),
        "decided": scope.exclude(state=WriteOffState.PENDING)[:DECIDED_SHOWN],
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
    return redirect("web:write_offs")
