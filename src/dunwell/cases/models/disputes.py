"""Disputes (issue 4 point 1).

A dispute is about one or several invoices, each for its full open amount or a part; while it is
open or under investigation that amount is paused in dunning and left out of what reminders
demand (`dunning.pauses`), the rest of the account keeps its cadence. It ends resolved: by a
credit note, by an adjustment, or rejected (the amount is dunned again from where it was).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.ledger.models import Customer, OpenItem


class DisputeReason(models.TextChoices):
    PRICE = "price", _("Price")
    QUANTITY = "quantity", _("Quantity")
    QUALITY = "quality", _("Quality")
    NOT_RECEIVED = "not_received", _("Not received")
    DUPLICATE = "duplicate", _("Duplicate invoice")
    ALREADY_PAID = "already_paid", _("Already paid")
    OTHER = "other", _("Other")


class DisputeState(models.TextChoices):
    OPEN = "open", _("Open")
    INVESTIGATING = "investigating", _("Investigating")
    RESOLVED = "resolved", _("Resolved")


class Resolution(models.TextChoices):
    CREDIT_NOTE = "credit_note", _("Credit note issued")
    ADJUSTED = "adjusted", _("Adjusted")
    REJECTED = "rejected", _("Rejected")


class Dispute(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="disputes")
    reason = models.CharField(max_length=20, choices=DisputeReason.choices)
    state = models.CharField(max_length=20, choices=DisputeState.choices)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    note = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_by = models.DateField(null=True, blank=True, help_text="to be resolved by")
    opened_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["company", "state"])]
        ordering = ["-opened_on", "-pk"]

    def __str__(self) -> str:
        return f"dispute {self.pk} ({english(self.get_reason_display).lower()})"


class DisputedItem(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="+")
    amount_minor = models.BigIntegerField(help_text="the part of the item disputed")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dispute", "item"], name="disputed_once_a_dispute"),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="disputed_amount_positive"
            ),
        ]


class DisputeAttachment(models.Model):
    """A file the customer or a colleague sent about a dispute (a delivery note, a photo, an email),
    kept in the database with its name, type and checksum: it is part of the case file."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="attachments")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["added_at", "id"]

    def __str__(self) -> str:
        return self.name
