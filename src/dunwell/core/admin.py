"""Companies and memberships in the admin: no money and no history, so editable here, with the
same checks as `dunwell company create`. FX rates are registered by the ledger, whose service
writes them (ledger/admin.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from dunwell.core.errors import DunwellError
from dunwell.core.models import Company, Membership
from dunwell.core.services.companies import (
    check_bic,
    check_company_currency,
    check_country,
    check_holidays,
    check_iban,
    check_time_zone,
)


class CompanyForm(forms.ModelForm):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    class Meta:
        model = Company
        fields = (
            "code",
            "legal_name",
            "country",
            "base_currency",
            "iban",
            "bic",
            "address",
            "vat_id",
            "time_zone",
            "holiday_country",
            "holiday_subdivision",
            "due_date_adjustment",
            "governing_law",
            "default_language",
            "kid_check",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._check(data, "country", check_country, data.get("country", ""))
        self._check(data, "base_currency", check_company_currency, data.get("base_currency", ""))
        self._check(data, "iban", check_iban, data.get("iban", ""))
        self._check(data, "bic", check_bic, data.get("bic", ""))
        self._check(
            data, "time_zone", check_time_zone, data.get("time_zone", ""), data.get("country", "")
        )
        if "holiday_country" in data:
            calendar = "-".join(
                p for p in (data["holiday_country"], data.get("holiday_subdivision", "")) if p
            )
            try:
                data["holiday_country"], data["holiday_subdivision"] = check_holidays(calendar)
            except DunwellError as exc:
                self.add_error("holiday_country", exc.message)
        return data

    def _check(
        self, data: dict[str, Any], field: str, check: Callable[..., str], *values: str
    ) -> None:
        if field not in data:  # not in this form (read-only) or already refused
            return
        try:
            data[field] = check(*values)
        except DunwellError as exc:
            self.add_error(field, exc.message)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    form = CompanyForm
    list_display = ("legal_name", "code", "country", "base_currency", "time_zone", "governing_law")
    list_filter = ("country", "base_currency", "governing_law")
    search_fields = ("legal_name", "code")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The code names the company in commands; amounts and reports are in the base currency.
        return ("code", "base_currency", "created_at") if obj is not None else ("created_at",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # its rows are the ledger: a company is never deleted from the admin


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    list_display = ("user", "company", "role")
    list_filter = ("role", "company")
    list_select_related = ("user", "company")
    search_fields = ("user__username", "user__email", "company__code", "company__legal_name")
    autocomplete_fields = ("user", "company")
