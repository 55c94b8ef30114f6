from django.apps import AppConfig


class DunningConfig(AppConfig):
    name = "dunwell.dunning"
    default_auto_field = "django.db.models.BigAutoField"
