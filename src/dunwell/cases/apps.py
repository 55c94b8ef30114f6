from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "dunwell.cases"
    default_auto_field = "django.db.models.BigAutoField"
