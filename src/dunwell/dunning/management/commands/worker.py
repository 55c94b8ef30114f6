"""`dunwell worker`: runs the background tasks and the daily schedule, until stopped.

Every `--interval` seconds it (1) enqueues what is due: for each company, once its local time has
passed DUNNING_RUN_HOUR on a business day, the day's cycle (`dunning.tasks.daily_cycle`; a run
already done is not enqueued again), a delivery pass over the outbox and what the apps above
registered (`dunning.tasks.every_round`: the webhooks' delivery pass); then (2) works through
the task queue (django-tasks-db: several workers may run at once, each task is claimed by one).
`--once` does one round and stops (cron, tests). Alternatively run `dunwell db_worker` and call
`dunwell dunning run` from cron; both paths are idempotent.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django_tasks_db.management.commands.db_worker import Worker

from dunwell.core import clock
from dunwell.core.dates import is_business_day
from dunwell.core.models import Company
from dunwell.dunning.models import Run, RunStatus
from dunwell.dunning.tasks import EVERY_ROUND, daily_cycle, deliver_outbox
from dunwell.terms.services import holidays_for


def due_cycles(now: datetime) -> list[tuple[str, str]]:
    """(company code, business date) of each company whose daily cycle is due and not done."""
    due = []
    for company in Company.objects.all():
        local = now.astimezone(ZoneInfo(company.time_zone or "UTC"))
        today = local.date()
        if local.hour < settings.DUNNING_RUN_HOUR:
            continue
        if not is_business_day(today, holidays_for(company, range(today.year, today.year + 1))):
            continue
        if Run.objects.filter(company=company, business_date=today, status=RunStatus.DONE).exists():
            continue
        due.append((company.code, today.isoformat()))
    return due


class Command(BaseCommand):
    help = "Run background tasks and the daily dunning schedule (Ctrl-C stops)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between rounds")
        parser.add_argument("--once", action="store_true", help="one round, then stop")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = f"dunwell-{uuid.uuid4().hex[:8]}"
        enqueued: set[tuple[str, str]] = set()
        while True:
            now = clock.now()
            for key in due_cycles(now):
                if key not in enqueued:  # the run itself is idempotent: this only saves work
                    daily_cycle.enqueue(*key)
                    enqueued.add(key)
                    self.stdout.write(f"{now:%Y-%m-%d %H:%M} enqueued the daily cycle of {key[0]}")
            deliver_outbox.enqueue()
            for step in EVERY_ROUND:
                step(now)
            Worker(queue_names=["*"], interval=0, batch=True, backend_name="default",
                   startup_delay=False, max_tasks=None, worker_id=worker_id,
                   excluded_queue_names=[]).run()  # fmt: skip
            if options["once"]:
                return
            time.sleep(options["interval"])
