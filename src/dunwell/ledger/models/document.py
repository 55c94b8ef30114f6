"""Open items: invoices, credit notes, fee and interest charges share one table and one shape.

`amount_minor` is signed from the creditor's view: an invoice, fee or interest charge is positive
(the customer owes it), a credit note negative. Its open amount on any date is

    amount_minor - sum(allocation.amount_minor for allocations to it effective on or before then)

`open_minor` and `settled_on` are kept by the services for speed (the last allocation that brought
the open amount to zero, for good, sets `settled_on`); `dunwell verify` recomputes both.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.ledger.models.customer import Customer


class ItemKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")
    FEE = "fee", _("Fee")
    INTEREST = "interest", _("Interest")
    # Money paid back to the customer out of their unapplied cash (`ledger.services.refunds`):
    # a debit on the account, settled at once by REFUND allocations from the payments it came from.
    REFUND = "refund", _("Refund")


class OpenItem(models.Model):
    # Few indexes on purpose: each costs every insert of a million-row import. The company's
    # lookups go through the composite indexes that start with it; terms and users are rarely
    # deleted, so their foreign keys have none.
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=12, choices=ItemKind.choices, default=ItemKind.INVOICE)
    number = models.CharField(max_length=60)
    issued_on = models.DateField()
    due_on = models.DateField(help_text="the last due date when the item has instalments")
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField(help_text="gross, signed: credit notes are negative")
    net_minor = models.BigIntegerField(null=True, blank=True)
    tax_minor = models.BigIntegerField(null=True, blank=True)
    po_number = models.CharField(max_length=60, blank=True)
    payment_reference = models.CharField(max_length=35, blank=True)
    # The national structured reference (BE OGM, CH QRR, NO KID, FI viite) in compact form, for
    # a company in one of those countries; "" elsewhere and on credit notes. A database default
    # too, so that bulk writers that do not name it (benchmarks, old scripts) still insert.
    national_reference = models.CharField(max_length=35, blank=True, default="", db_default="")
    # The number as payment matching finds it (`core.document_numbers.lookup_key`: "INV-000123"
    # -> "123"), set where the item's values are decided (`item_row`); indexed with the company.
    number_key = models.CharField(max_length=60, blank=True, default="", db_default="")
    payment_term = models.ForeignKey(
        "terms.PaymentTerm",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    discount_until = models.DateField(null=True, blank=True, help_text="frozen at issue")
    discount_minor = models.BigIntegerField(null=True, blank=True)
    related = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="derived",
        help_text="the invoice a credit note, fee or interest charge belongs to",
        db_index=False,  # a partial index below: most items have none
    )
    has_instalments = models.BooleanField(default=False)
    description = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=200, blank=True, help_text="file or system it came from")
    # Kept by the services, checked by `dunwell verify`.
    open_minor = models.BigIntegerField()
    settled_on = models.DateField(null=True, blank=True)
    voided_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind", "number"], name="item_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("issued_on")),
                name="item_due_not_before_issue",
            ),
        ]
        indexes = [
            models.Index(fields=["payment_reference"]),
            models.Index(fields=["national_reference"], name="item_national_reference"),
            models.Index(fields=["company", "number_key"], name="item_number_key"),
            # Cash matching's last resort: the open items with exactly a payment's amount.
            models.Index(fields=["company", "currency", "open_minor"], name="item_open_amount"),
            models.Index(
                fields=["related"], condition=models.Q(related__isnull=False), name="item_related"
            ),
            # The as-of aging scan: only items not settled by the date, read from the index alone.
            models.Index(
                fields=[
                    "company",
                    "settled_on",
                    "issued_on",
                    "customer",
                    "currency",
                    "due_on",
                    "amount_minor",
                    "has_instalments",
                ],
                name="item_aging_cover",
            ),
        ]
        ordering = ["issued_on", "number"]

    def __str__(self) -> str:
        # the enum's label, not get_kind_display (which builds the choices' dict on each call:
        # 30 us, in every history entry of a batch of allocations)
        return f"{english(ItemKind(self.kind).label)} {self.number}"


class Instalment(models.Model):
    """One due date and share of an item whose terms pay it in several parts."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(OpenItem, on_delete=models.CASCADE, related_name="instalments")
    sequence = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    amount_minor = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "sequence"], name="instalment_unique")
        ]
        ordering = ["item", "sequence"]


class OpenItemLine(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(OpenItem, on_delete=models.CASCADE, related_name="lines")
    sequence = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=18, decimal_places=6, default=1)
    unit_price = models.DecimalField(max_digits=20, decimal_places=6)
    net_minor = models.BigIntegerField()
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["item", "sequence"]
