"""Replies from the customer on the web: paste one (or upload the .eml) on the customer's page,
and turn one into a dispute in one step."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from dunwell.cases.models import CustomerReply, DisputeReason
from dunwell.cases.services.disputes import DISPUTABLE
from dunwell.cases.services.replies import log_reply, reply_to_dispute
from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Role
from dunwell.ledger.queries import items_for
from dunwell.web.access import CompanyRequest, access_customer, company_view
from dunwell.web.pickers import Picker, respond

MAX_UPLOAD = 5 * 1024 * 1024


@require_POST
@company_view(min_role=Role.COLLECTOR)
def log_reply_view(request: CompanyRequest, customer_id: int) -> HttpResponse:
    customer = access_customer(request, customer_id)
    upload = request.FILES.get("eml")
    if upload is not None and upload.size is not None and upload.size > MAX_UPLOAD:
        flash.error(request, "the file is larger than 5 MB")
        return redirect("web:customer", customer_id=customer.pk)
    raw = (
        upload.read().decode("utf-8", errors="replace")
        if upload is not None
        else request.POST.get("raw", "")
    )
    try:
        reply = log_reply(company=request.company, raw=raw, customer=customer,
                          actor=request.user, on=clock.today(request.company), at=clock.now())  # type: ignore[arg-type]  # fmt: skip
    except DunwellError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, f"reply {reply.pk} logged")
    return redirect("web:customer", customer_id=customer.pk)


@require_POST
@company_view(min_role=Role.COLLECTOR)
def reply_dispute(request: CompanyRequest, reply_id: int) -> HttpResponse:
    reply = get_object_or_404(CustomerReply.objects.filter(company=request.company), pk=reply_id)
    wanted = [int(v) for v in request.POST.getlist("item") if v.isdigit()]
    items = list(items_for(request.company).filter(customer=reply.customer_id, pk__in=wanted))
    try:
        if not items:
            raise DunwellError(
                ErrorCode.INVALID, "choose the invoices the reply disputes", field="item"
            )
        dispute = reply_to_dispute(reply=reply, items=[(item, None) for item in items],
                                   reason=request.POST.get("reason", ""), actor=request.user,  # type: ignore[arg-type]
                                   on=clock.today(request.company), at=clock.now())  # fmt: skip
    except DunwellError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, f"reply {reply.pk}: dispute {dispute.pk} opened")
    return redirect("web:customer", customer_id=reply.customer_id)


@require_GET
@company_view(min_role=Role.COLLECTOR)
def invoices(request: CompanyRequest, reply_id: int) -> HttpResponse:
    """The invoices a reply's dispute may be about (web.pickers): the customer's open ones."""
    replies = CustomerReply.objects.filter(company=request.company).select_related("customer")
    reply = get_object_or_404(replies, pk=reply_id)
    candidates = items_for(request.company).filter(
        customer=reply.customer, open_minor__gt=0, voided_on__isnull=True, kind__in=DISPUTABLE
    )
    picker = Picker(name="item", key=f"reply-{reply.pk}",
                    url=reverse("web:reply_invoices", args=[reply.pk]))  # fmt: skip
    return respond(request, candidates, picker, customer=reply.customer,
                   title=_("Turn a reply into a dispute"),
                   form="web/cases/_reply_dispute_form.html",
                   context={"reply": reply, "reasons": DisputeReason.choices})  # fmt: skip
