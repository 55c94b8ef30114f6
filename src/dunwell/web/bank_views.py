"""The bank page: statement files imported from the browser, the accounts, and the lines they
hold, by state (`cash`); matching and the review queue build on it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages as flash
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dunwell.cash.models import BankAccount, LineState, StatementFile, StatementLine
from dunwell.cash.services.statements import ImportReport, import_statements
from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.models import Role
from dunwell.formats.bank import FORMATS
from dunwell.formats.errors import FileRejected
from dunwell.web.access import CompanyRequest, company_view, has_role
from dunwell.web.cash_review_views import LINE_SORTS, LineFilterForm
from dunwell.web.forms import MultipleFileField
from dunwell.web.listing import paged, without

ACCOUNT_SORTS = {"name": ("name", "pk"), "-name": ("-name", "-pk")}
FILE_SORTS = {"imported": ("imported_at", "pk"), "-imported": ("-imported_at", "-pk")}
MAX_UPLOAD = 50 * 1024 * 1024  # a year of camt.053 for a busy account is a few MB


class StatementUploadForm(forms.Form):
    upload = MultipleFileField(label=_("Statement file(s)"),
                               help_text=_("camt.053, camt.054, MT940, OFX, BAI2 or CSV"))  # fmt: skip
    file_format = forms.ChoiceField(label=_("Format"), required=False,
                                    choices=[("", _("recognise from the content"))] +
                                    [(f, f) for f in FORMATS])  # fmt: skip
    account = forms.ModelChoiceField(label=_("Account (for files that name none, as CSV)"),
                                     queryset=BankAccount.objects.none(), required=False)  # fmt: skip
    dry_run = forms.BooleanField(required=False, label=_("Dry run (store nothing)"))

    def __init__(self, *args: Any, company: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        if isinstance(field, forms.ModelChoiceField):  # it is: narrowed for the type checker
            field.queryset = BankAccount.objects.filter(company=company).order_by("pk")

    def clean_upload(self) -> list[Any]:
        files = self.cleaned_data["upload"]
        for upload in files:
            if upload.size > MAX_UPLOAD:
                raise forms.ValidationError(
                    gettext("%(name)s: %(size)s MB is more than the 50 MB a statement may have")
                    % {"name": upload.name, "size": upload.size // (1024 * 1024)}
                )
        return list(files)


@company_view(min_role=Role.COLLECTOR)
def bank(request: CompanyRequest) -> HttpResponse:
    company = request.company
    can_import = has_role(request.role, Role.CREDIT_MANAGER)
    reports: list[ImportReport] = []
    form = StatementUploadForm(company=company)
    if request.method == "POST":
        if not can_import:
            return HttpResponse(status=403)
        form = StatementUploadForm(request.POST, request.FILES, company=company)
        if form.is_valid():
            reports = _import(request, form)
            if reports and not form.cleaned_data["dry_run"]:
                return redirect("web:bank")
    state = request.GET.get("state", "")
    filters = LineFilterForm(request.GET, company=company)
    lines = filters.filter(StatementLine.objects.filter(company=company)).select_related(
        "account", "customer", "payment", "decided_by"
    )
    # the tabs count the lines the search and filters find, in each state
    counts = dict(lines.order_by().values_list("state").annotate(n=Count("pk")))
    if state in LineState.values:
        lines = lines.filter(state=state)
    accounts = BankAccount.objects.filter(company=company)
    files = StatementFile.objects.filter(company=company)
    return render(request, "web/bank.html", {
        "form": form, "filters": filters, "can_import": can_import, "reports": reports,
        "accounts": paged(request, accounts, sorts=ACCOUNT_SORTS, default="name", prefix="a"),
        "files": paged(request, files, sorts=FILE_SORTS, default="-imported", prefix="f"),
        "lines": paged(request, lines, sorts=LINE_SORTS, default="-value"), "state": state,
        "states": [(s.value, s.label, counts.get(s.value, 0)) for s in LineState],
        "tab_query": without(request.GET, "state", "page"),
    })  # fmt: skip


def _import(request: CompanyRequest, form: StatementUploadForm) -> list[ImportReport]:
    reports = []
    for upload in form.cleaned_data["upload"]:
        name = upload.name or "upload"
        try:
            report = import_statements(
                company=request.company, data=upload.read(), file_name=name, at=clock.now(),
                actor=request.user,  # type: ignore[arg-type]
                file_format=form.cleaned_data["file_format"] or None,
                account=form.cleaned_data["account"], dry_run=form.cleaned_data["dry_run"],
            )  # fmt: skip
        except FileRejected as rejected:
            for error in rejected.errors[:20]:
                flash.error(request, str(error))
            flash.error(request, gettext("%(name)s: nothing was imported") % {"name": name})
            continue
        except DunwellError as error:
            flash.error(request, error.message)
            flash.error(request, gettext("%(name)s: nothing was imported") % {"name": name})
            continue
        reports.append(report)
        if report.duplicate_file:
            flash.info(request, gettext("%(name)s was imported before: nothing changed")
                       % {"name": name})  # fmt: skip
        elif not report.dry_run:
            flash.success(request, gettext("%(name)s: %(statements)s statement(s), %(new)s new "
                                           "line(s), %(known)s already known")
                          % {"name": name, "statements": len(report.statements),
                             "new": report.lines_new, "known": report.lines_known})  # fmt: skip
    return reports
