from django.apps import AppConfig


class TermsConfig(AppConfig):
    name = "dunwell.terms"
    label = "terms"
    verbose_name = "Payment terms"
