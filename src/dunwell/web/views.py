"""Staff pages. Views parse input (forms), call queries and services, and render; nothing more."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dunwell.cases.models import Dispute, DisputeReason, DisputeState
from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.models import Role
from dunwell.credit.models import CreditHold
from dunwell.credit.services.holds import place_credit_hold, release_credit_hold
from dunwell.imports.services.run import run_import
from dunwell.ledger.models import AllocationKind, Customer, CustomerKind, ItemKind, OpenItem
from dunwell.ledger.printing import (
    document_language,
    filename_part,
    invoice_context,
    render_document,
    statement_filename,
    statement_html,
)
from dunwell.ledger.queries import ItemAsOf, items_open_on, open_totals
from dunwell.ledger.statement import customer_statement
from dunwell.reports.aging import aging
from dunwell.terms.rules.limitation import limitation_date, urgency
from dunwell.web import exports
from dunwell.web.access import (
    CompanyRequest,
    access_customer,
    access_item,
    companies_for,
    company_view,
    has_role,
)
from dunwell.web.charts import stacked_bar
from dunwell.web.dashboard_views import dashboard
from dunwell.web.dispute_views import disputable
from dunwell.web.documents import pdf_response
from dunwell.web.forms import AgingForm, AsOfForm, CustomerFilterForm, ImportForm
from dunwell.web.listing import paged
from dunwell.web.lists import customer_rows, segments_of

# The first aging bucket's label comes from ledger.rules.aging (pure: no gettext) and is
# translated where the pages show it; marked here so that makemessages keeps it.
AGING_LABELS = (gettext_noop("Current"),)
HISTORY = 50
CUSTOMER_SORTS = {
    "name": ("legal_name", "account_number", "pk"),
    "-name": ("-legal_name", "-account_number", "-pk"),
    "overdue": ("overdue_minor", "legal_name", "pk"),
    "-overdue": ("-overdue_minor", "legal_name", "pk"),
}
# The customer page's open items: sorted and paged in SQL (a customer may have thousands).
ITEM_SORTS = {
    "due": ("due_on", "issued_on", "number", "pk"),
    "-due": ("-due_on", "-issued_on", "-number", "-pk"),
    "number": ("number", "pk"),
    "-number": ("-number", "-pk"),
    "open": ("open_on", "due_on", "number", "pk"),
    "-open": ("-open_on", "due_on", "number", "pk"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if companies_for(request.user).exists():
        return dashboard(request)
    return render(request, "web/no_company.html")


@company_view()
def customers(request: CompanyRequest) -> HttpResponse:
    company = request.company
    form = CustomerFilterForm(request.GET, segments=segments_of(company))
    rows = customer_rows(
        company,
        today=clock.today(company),
        q=form.value("q"),
        segment=form.value("segment"),
        status=form.value("status"),
        only_overdue=form.value("overdue"),
    )
    listing = paged(request, rows, sorts=CUSTOMER_SORTS, default="name")
    return render(request, "web/customers.html", {"form": form, "customers": listing})


@company_view()
def customer(request: CompanyRequest, customer_id: int) -> HttpResponse:
    found = access_customer(request, customer_id)
    form = AsOfForm(request.GET)
    as_of = form.as_of_or(clock.today(request.company))
    context = {
        "customer": found,
        "form": form,
        "as_of": as_of,
        "contacts": found.contacts.all(),
        **_open_items_page(request, found, as_of),
        "payments": found.payments.filter(unapplied_minor__gt=0, voided_on__isnull=True),
        "credit_hold": CreditHold.objects.filter(customer=found, released_on__isnull=True)
        .select_related("placed_by")
        .first(),
        "can_hold": has_role(request.role, Role.CREDIT_MANAGER),
        "dispute_reasons": DisputeReason.choices,
        # the dispute form's invoices come when it is opened (dispute_views.invoices)
        "can_dispute": has_role(request.role, Role.COLLECTOR)
        and disputable(request, found).exists(),
        "disputes": Dispute.objects.filter(customer=found)
        .exclude(state=DisputeState.RESOLVED)
        .select_related("owner")
        .prefetch_related("items__item"),
        "history": found.activities.select_related("item").order_by("-recorded_at", "-id")[
            :HISTORY
        ],
    }
    return render(request, "web/customer.html", context)


def _open_items_page(request: CompanyRequest, customer: Customer, as_of: date) -> dict[str, Any]:
    """One page of the customer's open items, sorted and paged in SQL, with the totals of all of
    them (the forms' invoice pickers are their own views: web/pickers.py)."""
    open_on = items_open_on(request.company, customer, as_of)
    listing = paged(request, open_on, sorts=ITEM_SORTS, default="due")
    return {
        "items": [_as_of_row(item, as_of) for item in listing.page],
        "open_items": listing,
        "totals": open_totals(open_on),
    }


def _as_of_row(item: OpenItem, as_of: date) -> ItemAsOf:
    open_on = item.open_on  # type: ignore[attr-defined]  # annotated by items_open_on
    return ItemAsOf(item, open_on, max((as_of - item.due_on).days, 0))


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def credit_hold(request: CompanyRequest, customer_id: int) -> HttpResponse:
    """Put the customer on credit hold, or take it off, by hand with a reason."""
    found = access_customer(request, customer_id)
    reason = request.POST.get("reason", "")
    on, at = clock.today(request.company), clock.now()
    try:
        if request.POST.get("action") == "release":
            release_credit_hold(company=request.company, customer=found, on=on, at=at,
                                reason=reason, actor=request.user)  # type: ignore[arg-type]  # fmt: skip
            flash.success(request, f"{found}: credit hold released")
        else:
            with transaction.atomic():
                place_credit_hold(company=request.company, customer=found, on=on, at=at,
                                  reason=reason, source="by hand", actor=request.user)  # type: ignore[arg-type]  # fmt: skip
            flash.success(request, f"{found}: on credit hold")
    except DunwellError as error:
        flash.error(request, error.message)
    return redirect("web:customer", customer_id=found.pk)


@company_view()
def item(request: CompanyRequest, item_id: int) -> HttpResponse:
    found = access_item(request, item_id)
    limit = _limitation(found, request.company.governing_law)
    context = {
        "item": found,
        "limitation": limit,
        "limitation_urgency": urgency(limit, clock.today(request.company)) if limit else None,
        "lines": found.lines.all(),
        "instalments": found.instalments.all(),
        "allocations": found.allocations.select_related("payment", "counter_item"),
        "history": found.activities.order_by("-recorded_at", "-id"),
    }
    return render(request, "web/item.html", context)


def _limitation(item: OpenItem, law: str) -> date | None:
    """When an open receivable becomes time-barred (a credit note or a settled item: never)."""
    if item.kind == ItemKind.CREDIT_NOTE or item.open_minor <= 0 or item.voided_on:
        return None
    paid = item.allocations.filter(kind=AllocationKind.PAYMENT, amount_minor__gt=0)
    last_payment = paid.aggregate(on=Max("effective_on"))["on"]
    return limitation_date(law, due_on=item.due_on, last_payment_on=last_payment,
                           consumer=item.customer.kind == CustomerKind.CONSUMER)  # fmt: skip


@company_view()
def statement(request: CompanyRequest, customer_id: int) -> HttpResponse:
    found = access_customer(request, customer_id)
    form = AsOfForm(request.GET)
    context = {
        "customer": found,
        "form": form,
        "statement": customer_statement(found, form.as_of_or(clock.today(request.company))),
        "language": document_language(found, request.company),
    }
    return render(request, "web/statement.html", context)


@company_view()
def statement_pdf(request: CompanyRequest, customer_id: int) -> HttpResponse:
    found = access_customer(request, customer_id)
    form = AsOfForm(request.GET)
    if not form.is_valid():
        errors = " ".join(str(error) for error in form.errors.get("as_of", []))
        return HttpResponseBadRequest(errors, content_type="text/plain")
    as_of = form.as_of_or(clock.today(request.company))
    return pdf_response(statement_html(found, as_of), statement_filename(found, as_of))


@company_view()
def invoice_pdf(request: CompanyRequest, item_id: int) -> HttpResponse:
    found = access_item(request, item_id)
    language = document_language(found.customer, request.company)
    html = render_document(
        "documents/invoice.html", invoice_context(found, request.company), language
    )
    name = f"{found.kind.replace('_', '-')}-{filename_part(found.number)}.pdf"
    return pdf_response(html, name)


@company_view()
def aging_report(request: CompanyRequest) -> HttpResponse:
    form = AgingForm(request.GET)
    report = aging(request.company, form.as_of_or(clock.today(request.company)), form.bounds())
    export = request.GET.get("format")
    if export in ("csv", "xlsx"):
        return _download(report_table=exports.aging_table(report), kind=export, request=request)
    bars = [stacked_bar(c, report.labels, total.buckets) for c, total in report.totals.items()]
    context = {"form": form, "report": report, "bars": bars, "query": request.GET.urlencode()}
    return render(request, "web/aging.html", context)


def _download(
    *, report_table: list[list[object]], kind: str, request: CompanyRequest
) -> HttpResponse:
    name = f"aging-{request.company.code}-{clock.today(request.company).isoformat()}.{kind}"
    if kind == "csv":
        response = HttpResponse(exports.as_csv(report_table), content_type="text/csv")
    else:
        response = HttpResponse(exports.as_xlsx(report_table, "Aging"), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@company_view(min_role=Role.CREDIT_MANAGER)
def import_file(request: CompanyRequest) -> HttpResponse:
    summary = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            summary = run_import(
                company=request.company,
                kind=form.cleaned_data["kind"],
                files=form.uploads(),
                options=form.options(),
                actor=request.user if request.user.is_authenticated else None,
                at=clock.now(),
            )
    else:
        form = ImportForm()
    return render(request, "web/import.html", {"form": form, "summary": summary})
