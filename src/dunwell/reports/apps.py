from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "dunwell.reports"
    label = "reports"
