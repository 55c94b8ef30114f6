from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dunwell.core"
    label = "core"
    verbose_name = "Companies and access"
