"""Promises to pay (issue 4 point 2).

A customer promises an amount by a date, through some channel; dunning pauses (the promised
invoices, or the whole account when none are named) until the promised date plus a grace period.
What was allocated to the customer's items from the promise on decides, once the grace has run
out, whether it was kept, partly kept or broken; a payment that completes it keeps it at once.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.models import Company
from dunwell.ledger.models import Customer, OpenItem


class PromiseChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")
    PORTAL = "portal", _("Portal")
    IN_PERSON = "in_person", _("In person")
    API = "api", _("Another system, through the API")


class PromiseState(models.TextChoices):
    OPEN = "open", _("Open")
    KEPT = "kept", _("Kept")
    PARTLY_KEPT = "partly_kept", _("Partly kept")
    BROKEN = "broken", _("Broken")
    CANCELLED = "cancelled", _("Cancelled")


class PromiseToPay(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="promises")
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    promised_on = models.DateField(help_text="the money is to arrive by")
    grace_days = models.PositiveSmallIntegerField(default=3)
    promised_by = models.CharField(max_length=120, help_text="who promised, at the customer")
    channel = models.CharField(max_length=10, choices=PromiseChannel.choices)
    note = models.TextField(blank=True)
    state = models.CharField(max_length=12, choices=PromiseState.choices, default=PromiseState.OPEN)
    paid_minor = models.BigIntegerField(default=0, help_text="allocated towards it so far")
    made_on = models.DateField()
    decided_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="promise_amount_positive"
            )
        ]
        indexes = [models.Index(fields=["company", "state", "promised_on"])]
        ordering = ["-made_on", "-pk"]

    def __str__(self) -> str:
        return f"promise {self.pk}"

    @property
    def until(self) -> date:
        """The last day it pauses dunning and counts payments: the promised date plus grace."""
        return self.promised_on + timedelta(days=self.grace_days)


class PromisedItem(models.Model):
    promise = models.ForeignKey(PromiseToPay, on_delete=models.CASCADE, related_name="promised")
    item = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["promise", "item"], name="promised_once_a_promise")
        ]
