"""The collector's worklist page: the accounts in priority order, filters, keyset pages of 50,
and bulk actions on the rows ticked (assign, dunning hold, statement now), each reported per
account. The rows are the stored read model of `reports.worklist`; an action refreshes the rows
of the accounts it touched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib import messages as flash
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Role
from dunwell.core.money import Money, parse_amount
from dunwell.dunning.services.holds import place_hold
from dunwell.dunning.services.statement_requests import send_statement
from dunwell.ledger.models import Customer
from dunwell.ledger.queries import customers_for
from dunwell.ledger.services.customers import update_customer
from dunwell.reports.worklist import (
    SORTS,
    Filters,
    parse_after,
    refresh_worklist,
    worklist_page,
)
from dunwell.web.access import CompanyRequest, company_view, has_role

TRUE = ("1", "on", "yes")


def collectors(request: CompanyRequest) -> list[User]:
    return list(
        User.objects.filter(
            memberships__company=request.company,
            memberships__role__in=(Role.COLLECTOR, Role.CREDIT_MANAGER, Role.ADMIN),
        ).order_by("username")
    )


def _owner(request: CompanyRequest, asked: str) -> int | None:
    """Whose accounts: one's own by default; others' (`all`, `unassigned`, a user id) for a
    credit manager or above."""
    if not asked or asked == str(request.user.pk):
        return int(request.user.pk or 0)
    if not has_role(request.role, Role.CREDIT_MANAGER):
        raise PermissionDenied
    if asked == "all":
        return None
    if asked == "unassigned":
        return 0
    return int(asked) if asked.isdigit() else int(request.user.pk or 0)


def _filters(request: CompanyRequest, query: QueryDict) -> Filters:
    minimum = 0
    text = query.get("min_overdue", "").strip()
    if text:
        try:
            minimum = Money(parse_amount(text), request.company.base_currency).minor
        except (ValueError, ArithmeticError):
            flash.error(request, f"min overdue {text!r}: expected an amount like 1000.00")
    return Filters(
        owner=_owner(request, query.get("collector", "")),
        min_overdue_minor=minimum,
        currency=query.get("currency", "").strip()[:3],
        segment=query.get("segment", "").strip(),
        broken_promise=query.get("broken", "") in TRUE,
        dispute=query.get("dispute", "") in TRUE,
        tasks_due=query.get("tasks", "") in TRUE,
        search=query.get("q", "").strip(),
    )


@company_view()
def worklist(request: CompanyRequest) -> HttpResponse:
    """The user's accounts (or, for a credit manager, `?collector=`'s), most urgent first."""
    filters = _filters(request, request.GET)
    after = parse_after(request.GET.get("after", ""))
    number = request.GET.get("page", "1")
    sort = request.GET.get("sort", "")
    sort = sort if sort in SORTS else "priority"
    page = worklist_page(request.company, filters, page=int(number) if number.isdigit() else 1,
                         after=after, sort=sort)  # fmt: skip
    base = request.GET.copy()
    for key in ("after", "page"):
        base.pop(key, None)
    unsorted = base.copy()
    unsorted.pop("sort", None)
    next_query = base.copy()
    next_query["after"], next_query["page"] = page.next_after, str(page.number + 1)
    context = {
        "page": page,
        # the customers' address up to the id: reversed once, not twice a row (a third of the
        # page's time)
        "customer_url": reverse("web:customer", args=[0]).removesuffix("0/"),
        "filters": filters,
        "collector": request.GET.get("collector", ""),
        "query": base.urlencode(),
        "sort": sort,
        "sort_query": unsorted.urlencode(),
        "next_query": next_query.urlencode(),
        "collectors": collectors(request),
        "can_manage": has_role(request.role, Role.CREDIT_MANAGER),
        "can_act": has_role(request.role, Role.COLLECTOR),
        "today": clock.today(request.company),
        "stale": page.as_of is not None and page.as_of < clock.today(request.company),
    }
    return render(request, "web/worklist.html", context)


def _assignee(request: CompanyRequest) -> User:
    if not has_role(request.role, Role.CREDIT_MANAGER):
        raise PermissionDenied
    asked = request.POST.get("assignee", "")
    found = next((u for u in collectors(request) if str(u.pk) == asked), None)
    if found is None:
        raise DunwellError(ErrorCode.INVALID, "assign to: choose a collector of this company",
                           field="assignee")  # fmt: skip
    return found


def _until(request: CompanyRequest) -> date:
    text = request.POST.get("until", "")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DunwellError(ErrorCode.INVALID, f"hold until {text!r}: expected a date like "
                           "2026-12-31", field="until") from None  # fmt: skip


@dataclass(frozen=True)
class _Bulk:
    """What a bulk action needs beyond the accounts: checked once, before the first of them."""

    action: str
    assignee: User | None = None
    until: date | None = None
    reason: str = ""


def _act(request: CompanyRequest, bulk: _Bulk, customer: Customer) -> str:
    """One account's part of a bulk action, in its own transaction; what was done, in words."""
    on, at, actor = clock.today(request.company), clock.now(), request.user
    with transaction.atomic():
        if bulk.assignee is not None:
            to = bulk.assignee
            changed = update_customer(customer=customer, changes={"owner": to}, actor=actor,  # type: ignore[arg-type]
                                      at=at, on=on)  # fmt: skip
            return f"assigned to {to.username}" if changed else f"already {to.username}'s"
        if bulk.until is not None:
            place_hold(company=request.company, customer=customer, until=bulk.until,
                       reason=bulk.reason, on=on, at=at, actor=actor)  # type: ignore[arg-type]  # fmt: skip
            return f"dunning on hold until {bulk.until.isoformat()}"
        message, queued = send_statement(company=request.company, customer=customer, on=on,
                                         at=at, actor=actor)  # type: ignore[arg-type]  # fmt: skip
        emails = ", ".join(r["email"] for r in message.recipients)
        return f"statement queued to {emails}" if queued else "statement already queued today"


ACTIONS = ("assign", "hold", "statement")


@require_POST
@company_view(min_role=Role.COLLECTOR)
def bulk(request: CompanyRequest) -> HttpResponse:
    """Assign, hold or send a statement for the ticked accounts (or the one a row's button
    names); the outcome of each account is flashed, the rows touched are refreshed."""
    back = reverse("web:worklist") + "?" + request.POST.get("query", "")
    single = request.POST.get("single", "")
    action, _, one = single.partition(":") if single else (request.POST.get("action", ""), "", "")
    ids = [one] if one else request.POST.getlist("customer")
    wanted = [int(i) for i in ids if i.isdigit()]
    if action not in ACTIONS or not wanted:
        flash.error(request, "choose an action and at least one account")
        return redirect(back)
    customers = list(
        customers_for(request.company).filter(pk__in=wanted).order_by("account_number")
    )
    if len(customers) != len(set(wanted)):
        raise Http404("no such customer")
    try:
        spec = _Bulk(action=action)
        if action == "assign":
            spec = _Bulk(action=action, assignee=_assignee(request))
        elif action == "hold":
            spec = _Bulk(
                action=action, until=_until(request), reason=request.POST.get("reason", "")
            )
    except DunwellError as error:
        flash.error(request, error.message)
        return redirect(back)
    for customer in customers:
        try:
            done = _act(request, spec, customer)
            flash.success(request, f"{customer.account_number}: {done}")
        except DunwellError as error:
            flash.error(request, f"{customer.account_number}: {error.message}")
    refresh_worklist(company=request.company, on=clock.today(request.company), at=clock.now(),
                     customer_ids=[c.pk for c in customers])  # fmt: skip
    return redirect(back)


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def refresh(request: CompanyRequest) -> HttpResponse:
    """Recompute the whole company's worklist now (it is also refreshed after each night's run)."""
    count = refresh_worklist(company=request.company, on=clock.today(request.company),
                             at=clock.now())  # fmt: skip
    flash.success(request, f"worklist refreshed: {count} accounts")
    return redirect(reverse("web:worklist") + "?" + request.POST.get("query", ""))
