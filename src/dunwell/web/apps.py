from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "dunwell.web"
    label = "web"

    def ready(self) -> None:
        # `dunwell case` topics that run workflows (the cases app may not import them).
        from dunwell.cases.cli.base import register_topic  # noqa: PLC0415 - once the apps are loaded
        from dunwell.workflows.cli import insolvency  # noqa: PLC0415

        register_topic(insolvency)

        from dunwell.web import security  # noqa: PLC0415

        security.connect()
