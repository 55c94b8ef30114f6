"""The webhooks' background pass (Django Tasks API), enqueued on each round of `dunwell worker`."""

from __future__ import annotations

from django_tasks import task

from dunwell.core import clock
from dunwell.core.models import Company
from dunwell.webhooks import services
from dunwell.webhooks.models import Subscription


@task()
def deliver_webhooks() -> dict[str, int]:
    """Queue the new events of every company with a subscription, then send what is due."""
    queued = 0
    for company in Company.objects.filter(
        pk__in=Subscription.objects.filter(active=True).values("company_id")
    ):
        queued += services.enqueue(company=company, at=clock.now())
    report = services.deliver(at=clock.now())
    return {"queued": queued, "sent": report.sent, "retrying": report.retrying,
            "failed": report.failed}  # fmt: skip
