"""Placements on the customer page (credit managers place, follow and end them) and the case
file download; the section's rows come from `section`, through the `case_placements` tag."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from dunwell.cases.models import (
    OPEN_STATES,
    Agency,
    AgencyKind,
    Placement,
    PlacementOutcome,
    PlacementState,
)
from dunwell.cases.services.placements import (
    close_placement,
    place_account,
    recall_placement,
    record_case_file_export,
    record_recovery,
    totals,
    update_placement_status,
)
from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Role
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.ledger.models import Customer
from dunwell.reports.case_file import build
from dunwell.web.access import CompanyRequest, access_customer, company_view, has_role
from dunwell.web.forms import AsOfForm

SHOWN = 10  # placements on the customer page, newest first


def section(request: CompanyRequest, customer: Customer) -> dict[str, Any]:
    """What the customer page's placement section shows (the customer is already scoped)."""
    placements = list(
        Placement.objects.filter(company=request.company, customer=customer)
        .select_related("agency")
        .prefetch_related("items__item")[:SHOWN]
    )
    sums = totals(p.pk for p in placements)
    can_act = has_role(getattr(request, "role", None), Role.CREDIT_MANAGER)
    return {
        "rows": [
            {"placement": p, "recovered": sums.get(p.pk, (0, 0))[0],
             "commission": sums.get(p.pk, (0, 0))[1],
             # a fresh idempotency key per page: the recovery form sent twice books once
             "recovery_key": uuid.uuid4().hex if can_act and p.is_open else ""}
            for p in placements
        ],
        "can_act": can_act,
        "agencies": Agency.objects.filter(company=request.company, active=True) if can_act else [],
        "has_open": any(p.is_open for p in placements),
        "moves": [PlacementState.ACKNOWLEDGED, PlacementState.IN_PROGRESS],
        "outcomes": PlacementOutcome.choices,
        "kinds": AgencyKind.choices,
    }  # fmt: skip


@require_GET
@company_view(min_role=Role.CREDIT_MANAGER)
def case_file(request: CompanyRequest, customer_id: int) -> HttpResponse:
    """The case file as of `?as_of=` (default today) as a ZIP; the export goes in the history."""
    found = access_customer(request, customer_id)
    as_of = AsOfForm(request.GET).as_of_or(clock.today(request.company))
    made = build(request.company, found, as_of)
    record_case_file_export(company=request.company, customer=found, as_of=as_of,
                            files=made.files, sha256=made.sha256,
                            on=clock.today(request.company), at=clock.now(),
                            actor=request.user)  # type: ignore[arg-type]  # fmt: skip
    response = HttpResponse(made.data, content_type="application/zip")
    # `case_file_name` keeps to letters, digits, dots and dashes: nothing to quote.
    response["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    return response


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def place(request: CompanyRequest, customer_id: int) -> HttpResponse:
    """Place everything open in the customer's currency (or the one asked) with an agency."""
    found = access_customer(request, customer_id)
    agency_id = request.POST.get("agency", "")
    agency = (
        Agency.objects.filter(company=request.company, pk=agency_id).first()
        if agency_id.isdigit()
        else None
    )
    if agency is None:
        flash.error(request, "choose an agency or a lawyer to place the account with")
        return redirect("web:customer", customer_id=found.pk)
    try:
        placement = place_account(
            company=request.company, customer=found, agency=agency,
            currency=request.POST.get("currency", "").strip().upper() or None,
            on=clock.today(request.company), at=clock.now(), actor=request.user,  # type: ignore[arg-type]
            note=request.POST.get("note", ""),
        )  # fmt: skip
    except DunwellError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, f"{found}: placed with {agency.name} "
                               f"({Money.from_minor(placement.placed_minor, placement.currency)})")  # fmt: skip
    return redirect("web:customer", customer_id=found.pk)


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def act(request: CompanyRequest, placement_id: int) -> HttpResponse:
    """One step of an open placement: `action` is status, recovered, recall or close."""
    placement = get_object_or_404(
        Placement.objects.filter(company=request.company, state__in=OPEN_STATES).select_related(
            "agency", "customer", "company"
        ),
        pk=placement_id,
    )
    try:
        done = _act(request, placement, request.POST.get("action", ""))
    except DunwellError as error:
        if error.code == ErrorCode.DUPLICATE and error.context.get("field") == "key":
            flash.warning(request, error.message)  # the first submission did it: no failure
        else:
            flash.error(request, error.message)
    except (MoneyError, ValueError) as error:
        flash.error(request, str(error))
    else:
        flash.success(request, f"placement {placement.pk} with {placement.agency.name}: {done}")
    return redirect("web:customer", customer_id=placement.customer_id)


def _act(request: CompanyRequest, placement: Placement, action: str) -> str:
    post, user = request.POST, request.user
    on, at = clock.today(request.company), clock.now()
    if action == "status":
        moved = update_placement_status(placement=placement, state=post.get("state", ""),
                                        note=post.get("note", ""), on=on, at=at,
                                        actor=user)  # type: ignore[arg-type]  # fmt: skip
        return english(moved.get_state_display).lower()
    if action == "recovered":
        amount = Money(parse_amount(post.get("amount", "")), placement.currency).minor
        day = date.fromisoformat(post["on"]) if post.get("on") else on
        recovery = record_recovery(placement=placement, amount_minor=amount, on=day, at=at,
                                   actor=user, note=post.get("note", ""),  # type: ignore[arg-type]
                                   key=post.get("key") or None)  # fmt: skip
        return (f"recovered {Money.from_minor(recovery.amount_minor, placement.currency)}, "
                f"commission {Money.from_minor(recovery.commission_minor, placement.currency)}")  # fmt: skip
    if action == "recall":
        recall_placement(placement=placement, reason=post.get("reason", ""), on=on, at=at,
                         actor=user)  # type: ignore[arg-type]  # fmt: skip
        return "recalled"
    if action == "close":
        closed = close_placement(placement=placement, outcome=post.get("outcome", ""),
                                 note=post.get("note", ""), on=on, at=at, actor=user)  # type: ignore[arg-type]  # fmt: skip
        return f"closed ({english(closed.get_outcome_display).lower()})"
    raise ValueError(f"unknown action {action!r}: expected status, recovered, recall or close")
