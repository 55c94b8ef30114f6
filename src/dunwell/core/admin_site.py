"""The Django admin: for superusers only, and read-only for the ledger's tables.

Every change to money goes through the services, so that it reaches the account's history
(invariants 4 and 5); the admin therefore shows those tables and never writes them, and staff who
are not superusers work in Dunwell's own pages instead. See docs/decisions/0004-admin-read-only.md.

`dunwell.core.apps.AdminConfig` makes `SuperuserAdminSite` the default site, so `admin.site`,
`@admin.register` and the `/admin/` URL stay Django's usual ones.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import get_language, gettext_lazy, to_locale

from dunwell.core.formatting import format_money


class SuperuserLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": gettext_lazy(
            "Please enter the username and password of a superuser account. "
            "The admin is for superusers; everyone else works in Dunwell's own pages."
        ),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)  # active; is_staff is not enough
        if not user.is_superuser:
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class SuperuserAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Dunwell administration")
    site_title = gettext_lazy("Dunwell admin")
    index_title = gettext_lazy("Tables (ledger tables are read-only)")
    login_form = SuperuserLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and getattr(user, "is_superuser", False))


def _never(self: Any, request: HttpRequest, obj: Any = None) -> bool:
    return False


def _every_field(self: Any, request: HttpRequest, obj: Any = None) -> Any:
    """Shown, never editable: the fields listed, else every stored one."""
    return self.fields or [field.name for field in self.opts.concrete_fields]


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    """Rows that carry money or history: viewed, never added, changed or deleted here.

    Without the change permission Django shows the change form read-only with no save button and
    answers a POST with 403; without the delete permission it drops the bulk delete action.
    """

    show_full_result_count = False  # a second COUNT(*) over 10^5 rows on every changelist

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    has_change_permission = has_delete_permission = _never
    get_readonly_fields = _every_field


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    has_change_permission = has_delete_permission = _never
    get_readonly_fields = _every_field


def money_column(
    field: str, description: str, currency: str = "currency"
) -> Callable[[Any, Model], str]:
    """An admin column showing integer minor units as an amount ("€1,234.56", "1.234,56 €").

    `currency` names the attribute holding the code, dotted for a related row ("item.currency").
    """
    currency_of = attrgetter(currency)

    @admin.display(description=description, ordering=field)
    def show(model_admin: Any, obj: Model) -> str:
        minor = getattr(obj, field)
        code = currency_of(obj)
        if minor is None or not code:
            return str(model_admin.get_empty_value_display())
        return format_money(minor, code, to_locale(get_language() or "en"))

    return show
