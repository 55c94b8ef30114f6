"""Tasks for people that are not a dunning step's own: calls to make by hand, the next action a
logged call set, alerts (a broken promise, a missed instalment) and reviews, each in one collector's
queue (the customer's owner when none is named; unassigned when the customer has none).

The call tasks a dunning step creates stay outbox rows of `dunning` (`Message`, channel call);
the collector's queue shows both.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.ledger.models import Customer


class TaskKind(models.TextChoices):
    CALL = "call", _("Call")
    FOLLOW_UP = "follow_up", _("Follow-up")
    ALERT = "alert", _("Alert")
    REVIEW = "review", _("Review")


class TaskState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Task(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="case_tasks")
    kind = models.CharField(max_length=12, choices=TaskKind.choices)
    title = models.CharField(max_length=200)
    due_on = models.DateField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.OPEN)
    source = models.CharField(
        max_length=40, blank=True, help_text="what made it: by hand, call 12, promise 3, plan 4"
    )
    note = models.TextField(blank=True, help_text="what was done, when done")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    key = models.CharField(  # noqa: DJ001 - NULL keeps unkeyed rows out of the unique index
        max_length=80, null=True, blank=True, help_text="idempotency key of an automatic task"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "key"], name="case_task_key_unique")
        ]
        indexes = [
            models.Index(fields=["company", "state", "due_on"]),
            models.Index(fields=["assignee", "state"]),
        ]
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"{english(self.get_kind_display)} {self.pk}: {self.title}"
