"""Payment terms in the admin: definitions, not postings, so editable here.

An invoice's due dates and discount are fixed when it is issued, so editing a term changes only
the invoices issued after. A term and its lines are checked together with the same rules that
compute due dates (`terms.rules.due_dates`), so an impossible definition is refused on save.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet

from dunwell.core.admin_site import ReadOnlyAdmin
from dunwell.core.dates import Adjustment
from dunwell.terms.models import PaymentTerm, PaymentTermLine, ReferenceRate
from dunwell.terms.rules.due_dates import TermsError


class TermLinesFormSet(BaseInlineFormSet):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        term: PaymentTerm = self.instance
        lines = sorted(
            (
                form.instance
                for form in self.forms
                if form.cleaned_data and not form.cleaned_data.get("DELETE")
            ),
            key=lambda line: line.sequence,
        )
        fallback = term.company.due_date_adjustment if term.company_id else Adjustment.NONE.value
        try:
            term.to_rule(fallback, unsaved_lines=lines)
        except TermsError as exc:
            raise forms.ValidationError(str(exc)) from None


class PaymentTermLineInline(admin.TabularInline):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    model = PaymentTermLine
    formset = TermLinesFormSet
    extra = 0
    min_num = 1


@admin.register(PaymentTerm)
class PaymentTermAdmin(admin.ModelAdmin):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    list_display = ("code", "name", "company", "is_default", "discount_percent", "discount_days",
                    "interest_percent")  # fmt: skip
    list_filter = ("company", "is_default")
    list_select_related = ("company",)
    search_fields = ("code", "name")
    inlines = (PaymentTermLineInline,)

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        return ("company",) if obj is not None else ()


@admin.register(ReferenceRate)
class ReferenceRateAdmin(ReadOnlyAdmin):
    """Shown, not edited: `dunwell rates add` records and confirms them (checked in one place)."""

    list_display = ("kind", "valid_from", "percent", "checked_on", "source")
    list_filter = ("kind",)
