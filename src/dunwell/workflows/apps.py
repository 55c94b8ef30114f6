from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    """The use-cases spanning several apps. No tables; an app so that its command-line topics
    (logging a call: cases and dunning at once) join `dunwell case` without cases importing it."""

    name = "dunwell.workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # imported here: they import models, which are not loaded before ready()
        from dunwell.cases.cli.base import register_topic  # noqa: PLC0415
        from dunwell.workflows.cli import calls, commitments  # noqa: PLC0415

        register_topic(calls)
        register_topic(commitments)
