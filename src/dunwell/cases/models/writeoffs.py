"""Write-offs that wait for a second person (issue 4 point 7).

A write-off above the company's threshold (`Company.write_off_approval_minor`, in the base
currency) is a request until a credit manager or an administrator other than the one who asked
approves it; the approval books it in the ledger (`ledger.services.allocations.write_off`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.models import Company
from dunwell.ledger.models import OpenItem, WriteOff


class WriteOffState(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved and written off")
    REJECTED = "rejected", _("Rejected")
    EXECUTED = "executed", _("Written off within the threshold")


class WriteOffRequest(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="+")
    amount_minor = models.BigIntegerField(help_text="in the item's currency")
    currency = models.CharField(max_length=3)
    base_minor = models.BigIntegerField(help_text="in the company's base currency")
    fx_rate = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    fx_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=WriteOffState.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_on = models.DateField()
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    write_off = models.OneToOneField(
        WriteOff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="write_off_request_positive"
            )
        ]
        indexes = [models.Index(fields=["company", "state"])]
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"write-off request {self.pk}"
