from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "dunwell.demo"
    label = "demo"
