from __future__ import annotations

from datetime import datetime

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "dunwell.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dunwell.dunning.tasks import every_round  # noqa: PLC0415 - once the apps are loaded

        every_round(_enqueue_pass)


def _enqueue_pass(now: datetime) -> None:
    from dunwell.webhooks.tasks import deliver_webhooks  # noqa: PLC0415

    deliver_webhooks.enqueue()
