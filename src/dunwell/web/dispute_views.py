"""Disputes on the staff pages: open one from the customer page, then its own page with the
invoices and amounts in dispute, notes, attachments, investigation and resolution."""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from dunwell.cases.models import Dispute, DisputeAttachment, DisputeReason, Resolution
from dunwell.cases.services import disputes
from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Role
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.ledger.models import Customer, OpenItem
from dunwell.ledger.queries import items_for
from dunwell.web.access import CompanyRequest, access_customer, company_view, has_role
from dunwell.web.pickers import AMOUNT, Picker, respond


class DisputeForm(forms.Form):
    items = forms.ModelMultipleChoiceField(queryset=OpenItem.objects.none(), label=_("Invoices"))
    reason = forms.ChoiceField(choices=DisputeReason.choices, label=_("Reason"))
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           label=_("Note"))  # fmt: skip
    due_by = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label=_("Resolve by"))


def disputable(request: CompanyRequest, customer: Customer) -> QuerySet[OpenItem]:
    """The customer's items that a dispute may concern now: open, not void, not a credit note."""
    return items_for(request.company).filter(
        customer=customer, open_minor__gt=0, voided_on__isnull=True, kind__in=disputes.DISPUTABLE
    )


@require_GET
@company_view(min_role=Role.COLLECTOR)
def invoices(request: CompanyRequest, customer_id: int) -> HttpResponse:
    """The dispute form's invoices (web.pickers): each with the amount disputed, empty for all
    that is open (the field `AMOUNT` + pk, as `open_dispute` reads it)."""
    customer = access_customer(request, customer_id)
    url = reverse("web:dispute_invoices", args=[customer.pk])
    picker = Picker(name="items", key="dispute", url=url, amounts=True)
    context = {"can_dispute": True, "dispute_reasons": DisputeReason.choices}
    return respond(request, disputable(request, customer), picker, customer=customer,
                   title=_("Open a dispute"), form="web/cases/_dispute_form.html",
                   context=context)  # fmt: skip


def access_dispute(request: CompanyRequest, dispute_id: int) -> Dispute:
    queryset = Dispute.objects.filter(company=request.company).select_related("customer", "owner")
    return get_object_or_404(queryset, pk=dispute_id)


@require_POST
@company_view(min_role=Role.COLLECTOR)
def open_dispute(request: CompanyRequest, customer_id: int) -> HttpResponse:
    """A dispute about the invoices ticked, each for the amount typed on its row (or all of it)."""
    customer = access_customer(request, customer_id)
    form = DisputeForm(request.POST)
    candidates = disputable(request, customer)
    form.fields["items"].queryset = candidates  # type: ignore[attr-defined]
    if not form.is_valid():
        flash.error(request, _("Dispute not opened: %(errors)s") % {"errors": _errors(form)})
        return redirect("web:customer", customer_id=customer.pk)
    chosen = sorted(form.cleaned_data["items"], key=lambda item: (item.due_on, item.number))
    try:
        _refuse_stray_amounts(request.POST, candidates, {item.pk for item in chosen})
        dispute = disputes.open_dispute(
            company=request.company, customer=customer,
            items=[(item, _amount(request.POST.get(f"{AMOUNT}{item.pk}", ""), item))
                   for item in chosen],
            reason=form.cleaned_data["reason"], note=form.cleaned_data["note"],
            owner=request.user, due_by=form.cleaned_data["due_by"],  # type: ignore[arg-type]
            actor=request.user, on=clock.today(request.company), at=clock.now(),  # type: ignore[arg-type]
        )  # fmt: skip
    except DunwellError as error:
        flash.error(request, _("Dispute not opened: %(errors)s") % {"errors": error.message})
        return redirect("web:customer", customer_id=customer.pk)
    flash.success(request, _("Dispute %(id)s opened") % {"id": dispute.pk})
    return redirect("web:dispute", dispute_id=dispute.pk)


def _amount(text: str, item: OpenItem) -> int | None:
    """The amount typed for `item`, in its currency (the service checks it against what is
    open); None when left empty: all that is open."""
    if not text.strip():
        return None
    try:
        return Money(parse_amount(text), item.currency).minor
    except MoneyError as error:
        raise DunwellError(ErrorCode.INVALID, f"{item.number}, amount disputed {text!r}: {error}",
                           field="amount", item=item.pk) from None  # fmt: skip


def _refuse_stray_amounts(
    post: QueryDict, candidates: QuerySet[OpenItem], chosen: set[int]
) -> None:
    """An amount typed on a row that is not ticked is a slip: say so rather than guess."""
    typed = {int(name[len(AMOUNT):]) for name in post
             if name.startswith(AMOUNT) and name[len(AMOUNT):].isdigit()
             and post.get(name, "").strip()}  # fmt: skip
    stray = candidates.filter(pk__in=typed - chosen).order_by("due_on", "number")
    numbers = list(stray.values_list("number", flat=True)[:5])
    if numbers:
        raise DunwellError(ErrorCode.INVALID, f"{', '.join(numbers)}: an amount is typed but the "
                           "invoice is not ticked (tick it, or clear the amount)",
                           field="items")  # fmt: skip


def _errors(form: forms.Form) -> str:
    return "; ".join(
        f"{form.fields[name].label if name in form.fields else name}: "
        f"{' '.join(str(e) for e in errors)}"
        for name, errors in form.errors.items()
    )


@company_view()
def dispute(request: CompanyRequest, dispute_id: int) -> HttpResponse:
    found = access_dispute(request, dispute_id)
    context = {
        "dispute": found,
        "parts": found.items.select_related("item"),
        "attachments": found.attachments.defer("content").select_related("added_by"),
        "history": found.customer.activities.filter(data__dispute=found.pk)
        .select_related("item")
        .order_by("-recorded_at", "-id"),
        "can_act": has_role(request.role, Role.COLLECTOR),
        "resolutions": Resolution.choices,
    }
    return render(request, "web/dispute.html", context)


@require_POST
@company_view(min_role=Role.COLLECTOR)
def act(request: CompanyRequest, dispute_id: int, action: str) -> HttpResponse:
    """Note, attach, investigate or resolve: each a service call, its refusal a flash message."""
    found = access_dispute(request, dispute_id)
    when = {"actor": request.user, "on": clock.today(request.company), "at": clock.now()}
    note = request.POST.get("note", "")
    try:
        if action == "note":
            disputes.add_note(dispute=found, note=note, **when)  # type: ignore[arg-type]
        elif action == "attach":
            upload = request.FILES.get("file")
            if upload is None:
                raise DunwellError(ErrorCode.INVALID, "choose a file to attach", field="file")
            disputes.check_size(upload.name or "file", upload.size or 0)  # before reading it
            disputes.attach(dispute=found, name=upload.name or "attachment",
                            content=upload.read(), **when)  # type: ignore[arg-type]  # fmt: skip
        elif action == "investigate":
            disputes.investigate(dispute=found, note=note, **when)  # type: ignore[arg-type]
        else:
            disputes.resolve(dispute=found, resolution=request.POST.get("resolution", ""),
                             note=note, **when)  # type: ignore[arg-type]  # fmt: skip
    except DunwellError as error:
        flash.error(request, error.message)
    return redirect("web:dispute", dispute_id=found.pk)


@company_view()
def attachment(request: CompanyRequest, dispute_id: int, attachment_id: int) -> HttpResponse:
    found = access_dispute(request, dispute_id)
    file = get_object_or_404(DisputeAttachment.objects.filter(dispute=found), pk=attachment_id)
    response = HttpResponse(bytes(file.content), content_type=file.content_type)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in file.name)
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response
