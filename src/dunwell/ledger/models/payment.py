"""Money received from a customer. What is not allocated to open items is cash on account."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.models import Company
from dunwell.ledger.models.customer import Customer


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    CARD = "card", _("Card")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class Payment(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    external_id = models.CharField(max_length=80, help_text="natural key from the source system")
    value_on = models.DateField(help_text="the day the money reached the creditor")
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    method = models.CharField(max_length=15, choices=PaymentMethod.choices, default="transfer")
    reference = models.CharField(max_length=140, blank=True)
    payer_name = models.CharField(max_length=140, blank=True)
    payer_iban = models.CharField(max_length=34, blank=True)
    source = models.CharField(max_length=200, blank=True)
    # Kept by the services, checked by `dunwell verify`.
    unapplied_minor = models.BigIntegerField()
    settled_on = models.DateField(null=True, blank=True, help_text="fully applied from this day")
    voided_on = models.DateField(null=True, blank=True)
    void_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "external_id"], name="payment_key_unique"),
            models.CheckConstraint(condition=models.Q(amount_minor__gt=0), name="payment_positive"),
        ]
        indexes = [
            models.Index(fields=["company", "customer", "value_on"]),
            models.Index(fields=["company", "settled_on", "value_on"]),
        ]
        ordering = ["value_on", "id"]

    def __str__(self) -> str:
        return f"Payment {self.external_id} of {self.value_on}"
