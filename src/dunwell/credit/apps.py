from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "dunwell.credit"
    default_auto_field = "django.db.models.BigAutoField"
