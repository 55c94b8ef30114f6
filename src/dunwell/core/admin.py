"""Companies and memberships in the admin: no money and no history, so editable here, with the
same checks as `dunwell company create`. FX rates are registered by the ledger, whose service
writes them (ledger/admin.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axes.models import AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from dunwell.core import clock
from dunwell.core.admin_site import ReadOnlyAdmin
from dunwell.core.errors import DunwellError
from dunwell.core.models import AuditEvent, Company, Membership
from dunwell.core.services.companies import (
    check_bic,
    check_company_currency,
    check_country,
    check_holidays,
    check_iban,
    check_time_zone,
    grant_access,
    revoke_access,
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
    """Roles are granted, changed and revoked through the services, so that each change is in
    the security log with the superuser who made it."""

    list_display = ("user", "company", "role")
    list_filter = ("role", "company")
    list_select_related = ("user", "company")
    search_fields = ("user__username", "user__email", "company__code", "company__legal_name")
    autocomplete_fields = ("user", "company")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("user", "company") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        membership, _ = grant_access(company=obj.company, user=obj.user, role=obj.role,
                                     at=clock.now(), actor=_superuser(request))  # fmt: skip
        obj.pk = membership.pk

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        revoke_access(company=obj.company, user=obj.user, at=clock.now(),
                      actor=_superuser(request))  # fmt: skip

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("user", "company"):
            self.delete_model(request, membership)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "username", "company", "actor_name", "ip", "detail")
    list_filter = ("kind", "company")
    search_fields = ("username", "actor_name", "ip", "detail")
    date_hierarchy = "at"


# django-axes' access logs stay off (sign-ins are in the security log above); its attempts stay:
# deleting a user's attempts lifts a lock-out before the cool-off ends.
admin.site.unregister(AccessLog)
admin.site.unregister(AccessFailureLog)


def _superuser(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None
