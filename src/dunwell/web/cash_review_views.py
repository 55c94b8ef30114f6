"""The bank page's review queue (issue 5): match now, and per unmatched credit line its ranked
proposals to confirm, a split typed by hand, or "not a receivable".

Reading is for collectors and above (as the bank page); deciding for credit managers. Every
decision goes through `workflows.cash` (`apply_line`, `typed_proposal`, `ignore_line`), in its
own transaction: a refusal writes nothing and comes back as a flash naming the line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages as flash
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dunwell.cash.models import BankAccount, StatementLine
from dunwell.cash.models import Proposal as StoredProposal
from dunwell.cash.services.matching import unmatched_credits
from dunwell.core import clock
from dunwell.core.bulk import company_rows
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.formatting import format_money
from dunwell.core.models import Company, Role
from dunwell.core.templatetags.formatting import active_locale
from dunwell.ledger.models import OpenItem
from dunwell.web.access import CompanyRequest, company_view, has_role
from dunwell.web.listing import FilterForm, amount_q, back_query, date_field, paged
from dunwell.workflows.cash import (
    apply_line,
    check_undecided,
    from_stored,
    ignore_line,
    match_lines,
    typed_proposal,
)

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


# newest first by default; each ends in the primary key so that pages never overlap
LINE_SORTS = {
    "value": ("value_on", "pk"),
    "-value": ("-value_on", "-pk"),
    "amount": ("amount_minor", "-value_on", "pk"),
    "-amount": ("-amount_minor", "-value_on", "-pk"),
    "counterparty": ("counterparty_name", "-value_on", "pk"),
    "-counterparty": ("-counterparty_name", "-value_on", "-pk"),
}


class LineFilterForm(FilterForm):
    """The bank's lines: a search (payer, references and text, or an amount) and filters; the
    review queue adds whether the line has proposals."""

    q = forms.CharField(required=False, max_length=100, label=_("Search"))
    account = forms.ModelChoiceField(
        queryset=BankAccount.objects.none(), required=False, label=_("Account"),
        empty_label=_("Any"),
    )  # fmt: skip
    value_from = date_field(_("Value date from"))
    value_to = date_field(pgettext_lazy("a range of dates", "to"))

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        if isinstance(field, forms.ModelChoiceField):  # it is: narrowed for the type checker
            field.queryset = BankAccount.objects.filter(company=company).order_by("name", "pk")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.check_range("value_from", "value_to")
        return data

    def filter(self, lines: QuerySet[StatementLine]) -> QuerySet[StatementLine]:
        q, account = self.value("q").strip(), self.value("account")
        if q:
            lines = lines.filter(search_lines(q))
        if account is not None:
            lines = lines.filter(account=account)
        if self.value("value_from"):
            lines = lines.filter(value_on__gte=self.value("value_from"))
        if self.value("value_to"):
            lines = lines.filter(value_on__lte=self.value("value_to"))
        return lines


class ReviewFilterForm(LineFilterForm):
    proposals = forms.ChoiceField(required=False, label=_("Proposals"), choices=[
        ("", _("Any")), ("with", _("With proposals")), ("without", _("Without proposals")),
    ])  # fmt: skip

    def filter(self, lines: QuerySet[StatementLine]) -> QuerySet[StatementLine]:
        lines = super().filter(lines)
        proposed = Exists(StoredProposal.objects.filter(line=OuterRef("pk")))
        if self.value("proposals") == "with":
            return lines.filter(proposed)
        if self.value("proposals") == "without":
            return lines.filter(~proposed)
        return lines


def search_lines(q: str) -> Q:
    """A line by its payer, its references or text (remittance, end-to-end id), or its amount
    typed as money (`1234.50`: exactly that amount)."""
    found = (
        Q(counterparty_name__icontains=q) | Q(ultimate_party__icontains=q)
        | Q(text__icontains=q) | Q(structured__icontains=q) | Q(end_to_end_id__icontains=q)
        | Q(bank_reference__icontains=q)
    )  # fmt: skip
    amount = amount_q(q)
    return found | amount if amount is not None else found


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
    form = ReviewFilterForm(request.GET, company=company)
    lines = form.filter(unmatched_credits(company).select_related("account"))
    listing = paged(request, lines, sorts=LINE_SORTS, default="-value")
    page = listing.page
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
        "lines": listing, "form": form, "can_decide": _can_decide(request),
        "rows": [(line, shown.get(line.pk, [])) for line in page],
        "split_rows": range(SPLIT_ROWS),
        # the heading counts what waits, the pager what the search and filters found
        "waiting": unmatched_credits(company).count() if form.filtered() else page.paginator.count,
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
    """To the queue page the decision was made on: the same search, filters, sort and page (the
    form sends them as `back`, `web.listing.Listing.back`)."""
    query = back_query(request.POST.get("back", ""))
    url = reverse("web:bank_review")
    return redirect(f"{url}?{query}" if query else url)
