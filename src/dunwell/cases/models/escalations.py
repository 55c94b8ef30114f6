"""A case's request to the dunning run: "this account broke its word, act now".

A broken promise or a defaulted payment plan writes one `Escalation` (once: its `key`); the next
dunning run of the company takes every escalation not yet acted on and sends the step its policy
configures for it (or the next step when none is set), then marks it acted on. `cases` never
imports `dunning`: this table is the interface between them, like `dunning.pauses` the other way.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.models import Company
from dunwell.ledger.models import Customer


class EscalationSource(models.TextChoices):
    BROKEN_PROMISE = "broken_promise", _("Broken promise")
    PLAN_DEFAULT = "plan_default", _("Payment plan defaulted")


class Escalation(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=20, choices=EscalationSource.choices)
    reason = models.CharField(max_length=200)
    item_ids = models.JSONField(default=list, help_text="the items concerned; empty: the account")
    raised_on = models.DateField()
    created_at = models.DateTimeField()
    acted_on = models.DateField(null=True, blank=True, help_text="the run that acted on it")
    key = models.CharField(max_length=80, help_text="e.g. promise-12: one escalation per cause")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "key"], name="escalation_key_unique")
        ]
        indexes = [
            models.Index(
                fields=["company", "raised_on"],
                condition=models.Q(acted_on__isnull=True),
                name="escalation_pending",
            )
        ]
