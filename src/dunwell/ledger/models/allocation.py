"""Allocations: what reduced an open item's open amount, when it took effect, and when it was known.

Every reduction of an open item is an allocation row, whatever its source: a payment, a credit
note, a write-off, a void or an early-payment discount. Rows are never changed in substance; undoing
one is a new row with the opposite amount (`reversal_of`). A credit note applied to an invoice is
two rows, one on each item, so that each item's open amount is its own sum.

`effective_on` is the business date it counts from (a back-dated aging is exact); `recorded_at` is
the moment it was entered (a report "as it was known" on a past day filters on it).
`target_due_on` and `target_settled_on` copy the item's dates so that aging reads this table alone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.ledger.models.customer import Customer
from dunwell.ledger.models.document import OpenItem
from dunwell.ledger.models.payment import Payment


class AllocationKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    CREDIT = "credit", _("Credit note applied")
    DISCOUNT = "discount", _("Early-payment discount")
    WRITE_OFF = "write_off", _("Write-off")
    VOID = "void", _("Void")
    REFUND = "refund", _("Refund of unapplied cash")  # a payment's cash on a refund item


class WriteOff(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="write_offs")
    amount_minor = models.BigIntegerField()
    on = models.DateField()
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class Allocation(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3, help_text="the target item's currency")
    target = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="allocations")
    kind = models.CharField(max_length=10, choices=AllocationKind.choices)
    amount_minor = models.BigIntegerField(help_text="reduces the target's open amount (signed)")
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    payment_amount_minor = models.BigIntegerField(
        null=True, blank=True, help_text="in the payment's currency"
    )
    fx_rate = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    fx_on = models.DateField(null=True, blank=True)
    counter_item = models.ForeignKey(
        OpenItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the other side of a credit-note application",
    )
    write_off = models.ForeignKey(
        WriteOff, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    effective_on = models.DateField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    # Copies of the target's dates (see the module docstring).
    target_due_on = models.DateField()
    target_settled_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["target", "effective_on"]),
            models.Index(fields=["payment", "effective_on"]),
            models.Index(
                fields=[
                    "company",
                    "target_settled_on",
                    "effective_on",
                    "customer",
                    "currency",
                    "target_due_on",
                    "amount_minor",
                ],
                name="allocation_aging_cover",
            ),
        ]
        ordering = ["effective_on", "id"]

    def __str__(self) -> str:
        amount = Money.from_minor(self.amount_minor, self.currency)
        return f"{english(self.get_kind_display)} of {amount} to item {self.target_id}"
