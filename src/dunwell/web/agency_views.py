"""The company's collection agencies and lawyers: the list (active or not, with their open
placements) for everyone, and the form that adds one for credit managers (`create_agency`, the
service behind `dunwell case agency`)."""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dunwell.cases.models import OPEN_STATES, Agency, AgencyKind
from dunwell.cases.services.placements import create_agency
from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.models import Role
from dunwell.web.access import CompanyRequest, company_view, has_role
from dunwell.web.listing import FilterForm, paged

# active ones first by default, as the placement form offers them
AGENCY_SORTS = {
    "name": ("-active", "name", "pk"),
    "-name": ("-active", "-name", "-pk"),
    "commission": ("commission_percent", "name", "pk"),
    "-commission": ("-commission_percent", "name", "pk"),
    "open": ("open_placements", "name", "pk"),
    "-open": ("-open_placements", "name", "pk"),
}


class AgencyForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    kind = forms.ChoiceField(choices=AgencyKind.choices, label=_("Kind"))
    commission = forms.CharField(max_length=20, label=_("Commission (%)"))
    email = forms.EmailField(required=False, label=_("Email"))
    phone = forms.CharField(required=False, max_length=40, label=_("Phone"))
    address = forms.CharField(required=False, max_length=500, label=_("Address"))


class AgencyFilterForm(FilterForm):
    q = forms.CharField(required=False, max_length=100, label=_("Search"))
    kind = forms.ChoiceField(required=False, label=_("Kind"),
                             choices=[("", _("Any")), *AgencyKind.choices])  # fmt: skip
    active = forms.ChoiceField(required=False, label=_("State"), choices=[
        ("", _("Any")), ("yes", _("active")), ("no", _("inactive")),
    ])  # fmt: skip

    def filter(self, rows: QuerySet[Agency]) -> QuerySet[Agency]:
        if q := self.value("q").strip():
            rows = rows.filter(Q(name__icontains=q) | Q(email__icontains=q))
        if self.value("kind"):
            rows = rows.filter(kind=self.value("kind"))
        if self.value("active"):
            rows = rows.filter(active=self.value("active") == "yes")
        return rows


@company_view()
def agencies(request: CompanyRequest) -> HttpResponse:
    filters = AgencyFilterForm(request.GET)
    listed = filters.filter(Agency.objects.filter(company=request.company)).annotate(
        open_placements=Count("placements", filter=Q(placements__state__in=OPEN_STATES))
    )
    context = {
        "filters": filters,
        "agencies": paged(request, listed, sorts=AGENCY_SORTS, default="name"),
        "can_add": has_role(request.role, Role.CREDIT_MANAGER),
        "kinds": AgencyKind.choices,
    }
    return render(request, "web/cases/agencies.html", context)


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def add_agency(request: CompanyRequest) -> HttpResponse:
    """Add an agency or a lawyer; back to the page the form was on (the customer's, or the list)."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = ""
    form = AgencyForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{form.fields[name].label}: {' '.join(str(e) for e in errors)}"
                             for name, errors in form.errors.items())  # fmt: skip
        return _refused(request, problems, back)
    data = form.cleaned_data
    try:
        agency = create_agency(
            company=request.company, name=data["name"], kind=data["kind"],
            commission_percent=data["commission"], email=data["email"], phone=data["phone"],
            address=data["address"], at=clock.now(),
        )  # fmt: skip
    except DunwellError as error:
        return _refused(request, error.message, back)
    flash.success(request, gettext("%(name)s added (%(kind)s, %(percent)s %% commission)") % {
        "name": agency.name, "kind": agency.get_kind_display(),
        "percent": f"{agency.commission_percent.normalize():f}"})  # fmt: skip
    return redirect(back or "web:agencies")


def _refused(request: CompanyRequest, problems: str, back: str) -> HttpResponse:
    flash.error(request, gettext("Agency not added: %(problems)s") % {"problems": problems})
    return redirect(back or "web:agencies")
