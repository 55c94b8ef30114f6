from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "dunwell.imports"
    label = "imports"
