"""The bad-debt reserve page (issue 7 point 5): the reserve by aging bucket on a date with the
rates that stood then, its roll-forward over a period, and the loss rates, set by a credit manager
or an administrator from a date with a reason (`reports.reserve`)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.models import Role
from dunwell.ledger.rules.aging import buckets
from dunwell.reports.aging import DEFAULT_BOUNDS
from dunwell.reports.models import ReserveRates
from dunwell.reports.reserve import movement, rates_of, reserve, set_rates
from dunwell.reports.rules.reserve import Rates, RatesError, share
from dunwell.web.access import CompanyRequest, company_view, has_role
from dunwell.web.lists import segments_of

RATES_SHOWN = 50
LABELS = [b.label for b in buckets(DEFAULT_BOUNDS)]  # "Current", "1-30", ... as the aging says


class PeriodForm(forms.Form):
    as_of = forms.DateField(required=False, label=_("As of"), input_formats=["%Y-%m-%d"])
    start = forms.DateField(required=False, label=_("Movement from"), input_formats=["%Y-%m-%d"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("as_of") and data.get("start") and data["start"] >= data["as_of"]:
            self.add_error("start", _("The movement must start before the as-of date."))
        return data


class RatesForm(forms.Form):
    segment = forms.CharField(required=False, max_length=40, label=_("Segment"))
    effective_on = forms.DateField(label=_("Standing from"), input_formats=["%Y-%m-%d"])
    reason = forms.CharField(max_length=200, label=_("Reason"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n, label in enumerate(LABELS):
            self.fields[f"rate_{n}"] = forms.DecimalField(
                min_value=Decimal(0), max_value=Decimal(100), decimal_places=3,
                label=label, required=True,
            )  # fmt: skip

    def rates(self) -> Rates:
        return Rates(tuple(self.cleaned_data[f"rate_{n}"] for n in range(len(LABELS))))


def _month_end_before(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


@company_view(min_role=Role.VIEWER)
def reserve_page(request: CompanyRequest) -> HttpResponse:
    company = request.company
    period = PeriodForm(request.GET)
    valid = period.is_valid()
    as_of = (period.cleaned_data.get("as_of") if valid else None) or clock.today(company)
    start = (period.cleaned_data.get("start") if valid else None) or _month_end_before(as_of)
    report = reserve(company, as_of)
    moved = movement(company, start, as_of) if start < as_of else None
    lines = [
        {"line": line, "cells": list(zip(LABELS, line.bases, line.rates.rates.percents,
                                         line.reserves, strict=True))}
        for line in report.lines
    ]  # fmt: skip
    history = (
        ReserveRates.objects.filter(company=company)
        .select_related("created_by")
        .order_by("-effective_on", "-pk")[:RATES_SHOWN]
    )
    can_set = has_role(request.role, Role.CREDIT_MANAGER)
    standing = report.lines[0].rates.rates if report.lines else None
    initial = {f"rate_{n}": rate for n, rate in enumerate(standing.percents)} if standing else {}
    return render(request, "web/reserve.html", {
        "period": period, "as_of": as_of, "start": start, "report": report, "lines": lines,
        "movement": moved, "labels": LABELS,
        "totals": [(currency, base, reserved, share(reserved, base))
                   for currency, (base, reserved) in report.totals.items()],
        "history": [(row, rates_of(row).percents) for row in history],
        "can_set": can_set, "segments": segments_of(company),
        "rates_form": RatesForm(initial={**initial, "effective_on": as_of}) if can_set else None,
    })  # fmt: skip


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def set_reserve_rates(request: CompanyRequest) -> HttpResponse:
    form = RatesForm(request.POST)
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else name
            flash.error(request, f"{label}: {' '.join(str(e) for e in errors)}")
        return redirect("web:reserve")
    try:
        made = set_rates(company=request.company, rates=form.rates(),
                         segment=form.cleaned_data["segment"],
                         effective_on=form.cleaned_data["effective_on"],
                         reason=form.cleaned_data["reason"], at=clock.now(),
                         actor=request.user)  # type: ignore[arg-type]  # fmt: skip
    except (DunwellError, RatesError) as error:
        flash.error(request, getattr(error, "message", str(error)))
        return redirect("web:reserve")
    flash.success(request, gettext("Loss rates %(rates)s stand from %(on)s for %(who)s.") % {
        "rates": rates_of(made).text(), "on": made.effective_on.isoformat(),
        "who": made.segment or gettext("all customers")})  # fmt: skip
    return redirect("web:reserve")
