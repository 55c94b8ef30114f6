"""Forms of the staff pages: they parse and validate input, the views pass it to queries/services."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from dunwell.imports.services.common import Options
from dunwell.imports.services.run import KINDS
from dunwell.ledger.models import CustomerStatus
from dunwell.ledger.rules.aging import check_bounds
from dunwell.reports.aging import DEFAULT_BOUNDS
from dunwell.web.listing import FilterForm


class CustomerFilterForm(FilterForm):
    q = forms.CharField(required=False, label=_("Search"))
    segment = forms.ChoiceField(required=False, label=_("Segment"))
    status = forms.ChoiceField(
        required=False, label=_("Status"), choices=[("", _("Any")), *CustomerStatus.choices]
    )
    overdue = forms.BooleanField(required=False, label=_("Only overdue"))

    def __init__(self, *args: Any, segments: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ChoiceField", self.fields["segment"])
        field.choices = [("", _("Any")), *((s, s) for s in segments)]


class AsOfForm(forms.Form):
    as_of = forms.DateField(required=False, label=_("As of"), input_formats=["%Y-%m-%d"])

    def as_of_or(self, today: date) -> date:
        return (self.cleaned_data.get("as_of") if self.is_valid() else None) or today


class AgingForm(AsOfForm):
    buckets = forms.CharField(required=False, label=_("Buckets (days)"))

    def clean_buckets(self) -> tuple[int, ...]:
        raw = self.cleaned_data.get("buckets") or ""
        if not raw.strip():
            return DEFAULT_BOUNDS
        try:
            return check_bounds([int(part) for part in raw.split(",")])
        except ValueError:
            raise forms.ValidationError(
                _("Enter increasing whole days separated by commas, e.g. 30,60,90.")
            ) from None

    def bounds(self) -> tuple[int, ...]:
        if not self.is_valid():
            return DEFAULT_BOUNDS
        return tuple(self.cleaned_data.get("buckets") or DEFAULT_BOUNDS)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What"), choices=[(k, k) for k in KINDS])
    upload = MultipleFileField(label=_("File(s)"), help_text=_("Several files for e-invoices."))
    date_format = forms.ChoiceField(
        label=_("Date format"),
        choices=[("iso", "2026-01-31"), ("dmy", "31.01.2026"), ("mdy", "01/31/2026")],
    )
    decimal_sep = forms.ChoiceField(
        label=_("Decimal separator"), choices=[(".", "1,234.56"), (",", "1.234,56")]
    )
    dry_run = forms.BooleanField(required=False, label=_("Dry run (store nothing)"))
    keep_valid = forms.BooleanField(required=False, label=_("Keep valid rows when some fail"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        files = data.get("upload") or []
        if len(files) > 1 and data.get("kind") != "einvoice":
            raise forms.ValidationError(_("Only e-invoices can be imported several at a time."))
        return data

    def uploads(self) -> list[tuple[str, bytes]]:
        return [(f.name or "upload", f.read()) for f in self.cleaned_data["upload"]]

    def options(self) -> Options:
        decimal = self.cleaned_data["decimal_sep"]
        return Options(
            date_format=self.cleaned_data["date_format"],
            decimal_sep=decimal,
            thousands_sep="," if decimal == "." else ".",
            dry_run=self.cleaned_data["dry_run"],
            keep_valid=self.cleaned_data["keep_valid"],
        )
