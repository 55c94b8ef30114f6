"""Credit holds: the one model that says "sell no more on credit to this customer" (issue 3 point 4;
the credit issue adds limits and scores that place and release them too)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dunwell.core.models import Company
from dunwell.ledger.models import Customer


class CreditHold(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    placed_on = models.DateField()
    placed_at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    source = models.CharField(max_length=40, help_text="dunning step, credit manager, limit ...")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_on = models.DateField(null=True, blank=True)
    release_reason = models.CharField(max_length=200, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(released_on__isnull=True),
                name="one_open_credit_hold",
            )
        ]
