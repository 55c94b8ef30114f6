"""The bank page's review queue (issue 5): match now, and per unmatched credit line its ranked
proposals to confirm, a split typed by hand, or "not a receivable".

Reading is for collectors and above (as the bank page); deciding for credit managers. Every
decision goes through `workflows.cash` (`apply_line`, `typed_proposal`, `ignore_line`), in its
own transaction: a refusal writes nothing and comes back as a flash naming the line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dunwell.cash.models import Proposal as StoredProposal
from dunwell.cash.models import StatementLine
from dunwell.cash.services.matching import unmatched_credits
from dunwell.core import clock
from dunwell.core.bulk import company_rows
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.formatting import format_money
from dunwell.core.models import Role
from dunwell.core.templatetags.formatting import active_locale
from dunwell.ledger.models import OpenItem
from dunwell.web.access import CompanyRequest, company_view, has_role
from dunwell.workflows.cash import (
    apply_line,
    check_undecided,
    from_stored,
    ignore_line,
    match_lines,
    typed_proposal,
)

PAGE_SIZE = 50
SPLIT_ROWS = 5  # rows of document number + amount in the split form
FIELDS = {
    "line": _("line"),
    "item": _("invoice number"),
    "amount": _("amount"),
    "discount": _("discount"),
    "customer": _("customer"),
    "reason": _("reason"),
    "proposal": _("proposal"),
}


@dataclass
class Shown:
    """A stored proposal with its allocations' items, as the queue shows it."""

    stored: StoredProposal
    allocations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def percent(self) -> str:
        return f"{self.stored.confidence / 10:.1f}"


@company_view(min_role=Role.COLLECTOR)
def review(request: CompanyRequest) -> HttpResponse:
    company = request.company
    lines = unmatched_credits(company).select_related("account").order_by("-value_on", "-pk")
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    shown: dict[int, list[Shown]] = {}
    stored = (
        StoredProposal.objects.filter(company=company, line__in=[line.pk for line in page])
        .select_related("customer")
        .order_by("line", "rank")
    )
    rows = list(stored)
    items = company_rows(OpenItem, company.pk, {a["item"] for p in rows for a in p.allocations})
    for p in rows:
        allocations = [{**a, "item": items.get(a["item"]), "item_id": a["item"]}
                       for a in p.allocations]  # fmt: skip
        shown.setdefault(p.line_id, []).append(Shown(p, allocations))
    return render(request, "web/bank_review.html", {
        "page": page, "query": "", "can_decide": _can_decide(request),
        "rows": [(line, shown.get(line.pk, [])) for line in page],
        "split_rows": range(SPLIT_ROWS), "waiting": page.paginator.count,
    })  # fmt: skip


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def match(request: CompanyRequest) -> HttpResponse:
    report = match_lines(company=request.company, at=clock.now())
    rules = ", ".join(
        gettext("%(n)s by %(rule)s") % {"n": n, "rule": rule}
        for rule, n in sorted(report.by_rule.items())
    )
    flash.success(request, gettext(
        "%(lines)s line(s) matched: %(applied)s applied automatically%(rules)s, %(queued)s "
        "waiting for review") % {"lines": report.lines, "applied": report.applied,
                                 "rules": f" ({rules})" if rules else "",
                                 "queued": report.queued})  # fmt: skip
    for error in report.errors[:20]:
        flash.warning(request, error)
    return redirect("web:bank_review")


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def confirm(request: CompanyRequest, line_id: int) -> HttpResponse:
    line = _line(request, line_id)
    try:
        check_undecided(line)
        stored = StoredProposal.objects.filter(
            company=request.company, line=line, pk=_int(request.POST.get("proposal"))
        ).first()
        if stored is None:
            raise DunwellError(ErrorCode.NOT_FOUND, "that proposal no longer stands (the line "
                               "was matched again): choose again", field="proposal")  # fmt: skip
        _apply(request, line, from_stored(stored))
    except DunwellError as error:
        _refused(request, line, error)
    return _back(request)


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def split(request: CompanyRequest, line_id: int) -> HttpResponse:
    line = _line(request, line_id)
    numbers, amounts = request.POST.getlist("number"), request.POST.getlist("amount")
    pairs = [(n.strip(), a.strip()) for n, a in zip(numbers, amounts, strict=False)
             if n.strip() or a.strip()]  # fmt: skip
    try:
        check_undecided(line)
        if any(not n for n, _ in pairs):
            raise DunwellError(ErrorCode.INVALID, "an amount without an invoice number",
                               field="item")  # fmt: skip
        proposal = typed_proposal(company=request.company, line=line, items=pairs,
                                  by=request.user.get_username())  # fmt: skip
        _apply(request, line, proposal)
    except DunwellError as error:
        _refused(request, line, error)
    return _back(request)


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def ignore(request: CompanyRequest, line_id: int) -> HttpResponse:
    line = _line(request, line_id)
    try:
        done = ignore_line(company=request.company, line=line,
                           reason=request.POST.get("reason", ""),
                           actor=request.user, at=clock.now())  # type: ignore[arg-type]  # fmt: skip
    except DunwellError as error:
        _refused(request, line, error)
    else:
        flash.success(request, gettext("Statement line %(pk)s (%(line)s) is not a receivable: "
                                       "%(reason)s") % {"pk": line.pk, "line": _describe(line),
                                                        "reason": done.reason})  # fmt: skip
    return _back(request)


def _apply(request: CompanyRequest, line: StatementLine, proposal: Any) -> None:
    payment = apply_line(company=request.company, line=line, proposal=proposal,
                         actor=request.user, at=clock.now())  # type: ignore[arg-type]  # fmt: skip
    flash.success(request, gettext("Statement line %(pk)s (%(line)s) applied to %(customer)s: "
                                   "%(reason)s") % {"pk": line.pk, "line": _describe(line),
                                                    "customer": payment.customer.legal_name,
                                                    "reason": proposal.reason})  # fmt: skip


def _refused(request: CompanyRequest, line: StatementLine, error: DunwellError) -> None:
    name = FIELDS.get(error.context.get("field", ""), "")
    flash.error(request, gettext("Statement line %(pk)s (%(line)s), %(field)s: %(error)s")
                % {"pk": line.pk, "line": _describe(line), "field": name or gettext("line"),
                   "error": error.message})  # fmt: skip


def _describe(line: StatementLine) -> str:
    amount = format_money(line.amount_minor, line.currency, active_locale())
    return f"{line.value_on:%Y-%m-%d} {amount} {line.counterparty_name}".strip()


def _line(request: CompanyRequest, line_id: int) -> StatementLine:
    """The company's line, or 404 (another company's id included)."""
    return get_object_or_404(StatementLine.objects.filter(company=request.company), pk=line_id)


def _int(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


def _can_decide(request: CompanyRequest) -> bool:
    return has_role(request.role, Role.CREDIT_MANAGER)


def _back(request: CompanyRequest) -> HttpResponse:
    """To the queue page the decision was made on (only `page` is carried over)."""
    page = request.POST.get("page", "")
    url = reverse("web:bank_review")
    return redirect(f"{url}?{urlencode({'page': page})}" if page.isdigit() else url)
