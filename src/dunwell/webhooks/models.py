"""Webhooks out (issue 6): a company's subscriptions and every delivery made for them.

A delivery is one event (one entry of the account history, `ledger.Activity`) for one
subscription: unique, so an event is never queued twice for the same receiver, and kept with
each attempt's outcome (the delivery log); a failed one can be replayed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.models import Company


class Subscription(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="event names, e.g. payment.applied")
    secret = models.CharField(max_length=80, help_text="signs each payload (HMAC-SHA256)")
    active = models.BooleanField(default=True)
    after_activity = models.BigIntegerField(
        default=0, help_text="history entries up to this id are queued already"
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who last deactivated or reactivated it, and when (empty until someone does).
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"webhook {self.pk} → {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Delivered")
    FAILED = "failed", _("Failed, no more retries")


class Delivery(models.Model):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="deliveries")  # fmt: skip
    activity_id = models.BigIntegerField()
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)  # fmt: skip
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "activity_id"], name="delivery_once")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.event})"
