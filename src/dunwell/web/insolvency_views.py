"""Insolvency proceedings in the staff UI: the customer page's banner and section (`section`,
through the `case_insolvency` tag), the proceedings page with its claim, and the forms of a
credit manager: open (the workflow: the case and its claim, a credit hold, the unsent messages
withdrawn, in one transaction), record the claim as filed, close with the dividend."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from dunwell.cases.models import Insolvency, InsolvencyKind, InsolvencyState
from dunwell.cases.printing import claim_csv, claim_filename, claim_html
from dunwell.cases.services.insolvency import claim_totals, close_insolvency, describe, file_claim
from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.models import Role
from dunwell.core.money import (
    Money,
    MoneyError,
    check_currency,
    exponent,
    parse_amount,
    round_half_up,
)
from dunwell.ledger.models import Customer
from dunwell.web.access import CompanyRequest, access_customer, company_view, has_role
from dunwell.web.documents import pdf_response
from dunwell.workflows.insolvency import open_insolvency

SHOWN = 10  # proceedings on the customer page, newest first
WARN_DAYS = 14  # the claims deadline is flagged this many days ahead

HEADLINES = {
    InsolvencyKind.INSOLVENCY: _("In insolvency since %(on)s — dunning stopped"),
    InsolvencyKind.ADMINISTRATION: _("In administration since %(on)s — dunning stopped"),
    InsolvencyKind.LIQUIDATION: _("In liquidation since %(on)s — dunning stopped"),
    InsolvencyKind.RESTRUCTURING: _("In restructuring since %(on)s — dunning stopped"),
}
# How `cases.services.insolvency` notes a line whose interest it could not compute (a
# reference rate missing): the page flags those lines.
NOT_COMPUTED = "interest not computed"
ISO = ["%Y-%m-%d"]
A_DATE = {"invalid": _("expected a date as YYYY-MM-DD, e.g. 2026-12-15")}


class OpenForm(forms.Form):
    kind = forms.ChoiceField(choices=InsolvencyKind.choices, label=_("Kind"))
    opened_on = forms.DateField(input_formats=ISO, error_messages=A_DATE, label=_("Opened on"))
    case_reference = forms.CharField(required=False, max_length=100, label=_("Case reference"))
    court = forms.CharField(required=False, max_length=200, label=_("Court"))
    administrator_name = forms.CharField(required=False, max_length=200,
                                         label=_("Administrator"))  # fmt: skip
    administrator_contact = forms.CharField(required=False, max_length=300,
                                            label=_("Administrator's contact"))  # fmt: skip
    claims_deadline = forms.DateField(required=False, input_formats=ISO, error_messages=A_DATE,
                                      label=_("Claims deadline"))  # fmt: skip
    note = forms.CharField(required=False, max_length=2000, label=_("Note"))


class _DatedForm(forms.Form):
    """A form whose `on` is a day of the past or today (a filing or a closing is recorded after
    the fact, never ahead of it)."""

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_on(self) -> date:
        day: date = self.cleaned_data["on"]
        if day > self.today:
            raise forms.ValidationError(
                _("%(day)s is after today (%(today)s)"),
                params={"day": day.isoformat(), "today": self.today.isoformat()},
            )
        return day


class FileForm(_DatedForm):
    on = forms.DateField(input_formats=ISO, error_messages=A_DATE, label=_("Filed on"))
    note = forms.CharField(required=False, max_length=2000, label=_("Note"))


class CloseForm(_DatedForm):
    on = forms.DateField(input_formats=ISO, error_messages=A_DATE, label=_("Closed on"))
    dividend = forms.CharField(required=False, max_length=30, label=_("Dividend received"))
    currency = forms.CharField(required=False, max_length=3, label=_("Currency"))
    note = forms.CharField(required=False, max_length=2000, label=_("Note"))

    def __init__(self, *args: Any, today: date, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, today=today, **kwargs)
        self.default_currency = currency

    def clean_currency(self) -> str:
        try:
            return check_currency(self.cleaned_data["currency"].strip() or self.default_currency)
        except MoneyError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self) -> dict[str, Any]:
        """`dividend_minor`: the dividend in the currency's minor units, None when none came."""
        data = super().clean() or {}
        text, currency = data.get("dividend", "").strip(), data.get("currency")
        data["dividend_minor"] = None
        if text and currency:
            try:
                amount = parse_amount(text)
            except MoneyError as error:
                self.add_error("dividend", str(error))
                return data
            if amount != round_half_up(amount, currency):
                too_many = _t("%(text)s has more decimals than %(currency)s allows (%(n)d)")
                params = {"text": text, "currency": currency, "n": exponent(currency)}
                self.add_error("dividend", too_many % params)
            else:
                data["dividend_minor"] = Money(amount, currency).minor
        return data


def _insolvency(request: CompanyRequest, insolvency_id: int) -> Insolvency:
    found = Insolvency.objects.filter(company=request.company).select_related(
        "customer", "company", "created_by"
    )
    return get_object_or_404(found, pk=insolvency_id)


def headline(insolvency: Insolvency) -> str:
    return HEADLINES[InsolvencyKind(insolvency.kind)] % {"on": insolvency.opened_on.isoformat()}


def deadline_warning(insolvency: Insolvency | None, today: date) -> str:
    """A warning while the claim is not filed and the deadline is at most WARN_DAYS away or
    passed; empty otherwise."""
    if insolvency is None or insolvency.state != InsolvencyState.OPEN:
        return ""
    deadline = insolvency.claims_deadline
    if deadline is None:
        return ""
    days, day = (deadline - today).days, deadline.isoformat()
    if days < 0:
        return _t("The claims deadline of %(day)s has passed and the claim is not filed.") % {
            "day": day
        }
    if days == 0:
        return _t("The claims deadline is today (%(day)s) and the claim is not filed.") % {
            "day": day
        }
    if days <= WARN_DAYS:
        return ngettext(
            "The claims deadline is in %(n)d day (%(day)s) and the claim is not filed.",
            "The claims deadline is in %(n)d days (%(day)s) and the claim is not filed.",
            days,
        ) % {"n": days, "day": day}
    return ""


def section(request: CompanyRequest, customer: Customer) -> dict[str, Any]:
    """What the customer page shows of insolvency proceedings: the banner while some are open
    or filed, the earlier ones, and the opening form for credit managers when none is open."""
    proceedings = list(
        Insolvency.objects.filter(company=request.company, customer=customer)[:SHOWN]
    )
    current = next((p for p in proceedings if p.state != InsolvencyState.CLOSED), None)
    today = clock.today(request.company)
    can_act = has_role(getattr(request, "role", None), Role.CREDIT_MANAGER)
    return {
        "rows": proceedings,
        "current": current,
        "headline": headline(current) if current else "",
        "deadline_warning": deadline_warning(current, today),
        "can_open": can_act and current is None,
        "kinds": InsolvencyKind.choices,
        "today": today,
    }


@company_view()
def insolvency(request: CompanyRequest, insolvency_id: int) -> HttpResponse:
    found = _insolvency(request, insolvency_id)
    today = clock.today(request.company)
    context = {
        "insolvency": found,
        "customer": found.customer,
        "headline": headline(found),
        "deadline_warning": deadline_warning(found, today),
        "lines": [
            (line, line.basis.startswith(NOT_COMPUTED))
            for line in found.lines.select_related("item")
        ],
        "totals": claim_totals(found),
        "can_act": has_role(request.role, Role.CREDIT_MANAGER),
        "today": today,
        "history": found.customer.activities.filter(data__insolvency=found.pk).order_by(
            "-recorded_at", "-id"
        ),
    }
    return render(request, "web/cases/insolvency.html", context)


@company_view()
def claim_statement(request: CompanyRequest, insolvency_id: int, extension: str) -> HttpResponse:
    """The statement of claim to file, as PDF or CSV (`cases.printing`)."""
    found = _insolvency(request, insolvency_id)
    if extension == "pdf":
        return pdf_response(claim_html(found), claim_filename(found, "pdf"))
    response = HttpResponse(claim_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{claim_filename(found, "csv")}"'
    return response


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def open_proceedings(request: CompanyRequest, customer_id: int) -> HttpResponse:
    customer = access_customer(request, customer_id)
    form = OpenForm(request.POST)
    if not form.is_valid():
        flash.error(request, f"{customer}: {_t('no proceedings opened')}: {_problems(form)}")
        return redirect("web:customer", customer_id=customer.pk)
    try:
        opened, withdrawn = open_insolvency(
            company=request.company, customer=customer, actor=request.user,  # type: ignore[arg-type]
            on=clock.today(request.company), at=clock.now(), **form.cleaned_data,
        )  # fmt: skip
    except DunwellError as error:
        flash.error(request, f"{customer}: {_t('no proceedings opened')}: "
                             f"{_refusal(error, form)}")  # fmt: skip
        return redirect("web:customer", customer_id=customer.pk)
    flash.success(request, ngettext(
        "%(what)s; credit hold placed, %(n)d unsent message withdrawn; "
        "claim %(claim)s",
        "%(what)s; credit hold placed, %(n)d unsent messages withdrawn; "
        "claim %(claim)s", withdrawn,
    ) % {"what": headline(opened), "n": withdrawn, "claim": describe(claim_totals(opened))})  # fmt: skip
    return redirect("web:insolvency", insolvency_id=opened.pk)


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def file(request: CompanyRequest, insolvency_id: int) -> HttpResponse:
    found = _insolvency(request, insolvency_id)
    form = FileForm(request.POST, today=clock.today(request.company))
    if not form.is_valid():
        flash.error(request, f"{_t('claim not recorded as filed')}: {_problems(form)}")
        return redirect("web:insolvency", insolvency_id=found.pk)
    try:
        filed = file_claim(insolvency=found, note=form.cleaned_data["note"], actor=request.user,  # type: ignore[arg-type]
                           on=form.cleaned_data["on"], at=clock.now())  # fmt: skip
    except DunwellError as error:
        flash.error(request, f"{_t('claim not recorded as filed')}: {_refusal(error, form)}")
    else:
        flash.success(request, _t("claim filed on %(on)s") % {"on": filed.filed_on})
    return redirect("web:insolvency", insolvency_id=found.pk)


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def close(request: CompanyRequest, insolvency_id: int) -> HttpResponse:
    found = _insolvency(request, insolvency_id)
    form = CloseForm(request.POST, today=clock.today(request.company),
                     currency=found.customer.currency)  # fmt: skip
    if not form.is_valid():
        flash.error(request, f"{_t('proceedings not closed')}: {_problems(form)}")
        return redirect("web:insolvency", insolvency_id=found.pk)
    data = form.cleaned_data
    try:
        closed = close_insolvency(
            insolvency=found, dividend_minor=data["dividend_minor"],
            dividend_currency=data["currency"], note=data["note"],
            actor=request.user, on=data["on"], at=clock.now(),  # type: ignore[arg-type]
        )  # fmt: skip
    except DunwellError as error:
        flash.error(request, f"{_t('proceedings not closed')}: {_refusal(error, form)}")
    else:
        flash.success(request, _t("proceedings closed on %(on)s") % {"on": closed.closed_on})
    return redirect("web:insolvency", insolvency_id=found.pk)


def _problems(form: forms.Form) -> str:
    """'Claims deadline: expected a date …; Kind: …': each error after its field's label."""
    return "; ".join(
        f"{form.fields[name].label}: {' '.join(str(e) for e in errors)}"
        if name in form.fields
        else " ".join(str(e) for e in errors)
        for name, errors in form.errors.items()
    )


def _refusal(error: DunwellError, form: forms.Form) -> str:
    """The service's message, after the label of the form field it names (if it names one)."""
    field = form.fields.get(str(error.context.get("field", "")))
    return f"{field.label}: {error.message}" if field is not None else error.message
