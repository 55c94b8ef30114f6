from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    name = "dunwell.core"
    label = "core"
    verbose_name = "Companies and access"
    default = True  # this module also holds the admin's config

    def ready(self) -> None:
        from dunwell.core import lookups  # noqa: PLC0415 - once the apps are loaded

        lookups.register()


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with Dunwell's site: superusers only, ledger tables read-only."""

    default = False
    default_site = "dunwell.core.admin_site.SuperuserAdminSite"
