from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "dunwell.web"
    label = "web"
