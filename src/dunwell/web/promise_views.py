"""Recording a promise to pay from the customer page (collectors and above): the promise and,
in the same transaction, the reminders not yet sent that it makes pointless withdrawn
(`workflows.promises.open_promise`)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from dunwell.cases.models import PromiseChannel
from dunwell.cases.services.promises import PROMISABLE
from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.models import Role
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.ledger.models import OpenItem
from dunwell.ledger.queries import items_for
from dunwell.web.access import CompanyRequest, access_customer, company_view
from dunwell.web.pickers import Picker, respond
from dunwell.workflows.promises import open_promise


@require_POST
@company_view(min_role=Role.COLLECTOR)
def promise_create(request: CompanyRequest, customer_id: int) -> HttpResponse:
    found = access_customer(request, customer_id)
    back = redirect("web:customer", customer_id=found.pk)
    post = request.POST
    wanted = [pk for pk in post.getlist("invoice") if pk.isdigit()]
    items = list(items_for(request.company).filter(customer=found, pk__in=wanted))
    if len(items) != len(set(wanted)):
        flash.error(request, "invoices: choose among this customer's open invoices")
        return back
    currency = items[0].currency if items else found.currency
    try:
        amount = Money(parse_amount(post.get("amount", "")), currency)
        if amount.rounded() != amount:
            raise MoneyError(f"more decimals than {currency} has")
    except MoneyError as error:
        flash.error(request, f"amount: {error}")
        return back
    try:
        promised_on = date.fromisoformat(post.get("promised_on", ""))
    except ValueError:
        flash.error(request, "promised date: expected a date (YYYY-MM-DD)")
        return back
    grace = post.get("grace_days", "").strip()
    if grace and not grace.isdigit():
        flash.error(request, "grace: a number of days")
        return back
    try:
        promise = open_promise(
            company=request.company, customer=found, amount_minor=amount.minor, currency=currency,
            promised_on=promised_on, promised_by=post.get("promised_by", ""),
            channel=post.get("channel", PromiseChannel.PHONE), items=_sorted(items),
            grace_days=int(grace) if grace else None, note=post.get("note", "").strip(),
            actor=request.user,  # type: ignore[arg-type]
            on=clock.today(request.company), at=clock.now(),
        )  # fmt: skip
    except DunwellError as error:
        flash.error(request, error.message)
        return back
    flash.success(request, f"promise {promise.pk}: {amount} by {promised_on.isoformat()}")
    return back


@require_GET
@company_view(min_role=Role.COLLECTOR)
def invoices(request: CompanyRequest, customer_id: int) -> HttpResponse:
    """The promise form's invoices (web.pickers): what the customer owes on them now; none ticked,
    the promise is for the account."""
    found = access_customer(request, customer_id)
    candidates = items_for(request.company).filter(
        customer=found, open_minor__gt=0, voided_on__isnull=True, kind__in=PROMISABLE
    )
    url = reverse("web:promise_invoices", args=[found.pk])
    return respond(request, candidates, Picker(name="invoice", key="promise", url=url),
                   customer=found, title=_("Record a promise to pay"),
                   form="web/cases/_promise_form.html", context={})  # fmt: skip


def _sorted(items: list[OpenItem]) -> list[OpenItem]:
    return sorted(items, key=lambda item: item.number)
