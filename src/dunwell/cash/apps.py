from django.apps import AppConfig


class CashConfig(AppConfig):
    name = "dunwell.cash"
    default_auto_field = "django.db.models.BigAutoField"
