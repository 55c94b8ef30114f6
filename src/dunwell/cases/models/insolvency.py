"""Insolvency proceedings of a customer (issue 4 point 7).

While proceedings are open the whole account is paused in dunning (`dunning.pauses`): a creditor
files a claim with the administrator instead of sending reminders. The claim is computed once, on
opening, as of the opening date: per item the principal open that day, the interest accrued to it
and the fees and costs booked; it is kept as claim lines so the filed figures never move.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.ledger.models import Customer, OpenItem


class InsolvencyKind(models.TextChoices):
    INSOLVENCY = "insolvency", _("Insolvency")
    ADMINISTRATION = "administration", _("Administration")
    LIQUIDATION = "liquidation", _("Liquidation")
    RESTRUCTURING = "restructuring", _("Restructuring")


class InsolvencyState(models.TextChoices):
    OPEN = "open", _("Open")
    FILED = "filed", _("Claim filed")
    CLOSED = "closed", _("Closed")


class Insolvency(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="insolvencies")
    kind = models.CharField(max_length=20, choices=InsolvencyKind.choices)
    state = models.CharField(max_length=10, choices=InsolvencyState.choices)
    opened_on = models.DateField(help_text="the day the proceedings were opened")
    case_reference = models.CharField(max_length=100, blank=True)
    court = models.CharField(max_length=200, blank=True)
    administrator_name = models.CharField(max_length=200, blank=True)
    administrator_contact = models.CharField(max_length=300, blank=True)
    claims_deadline = models.DateField(null=True, blank=True, help_text="claims filed by")
    filed_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    dividend_minor = models.BigIntegerField(null=True, blank=True, help_text="received on closing")
    dividend_currency = models.CharField(max_length=3, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=~models.Q(state="closed"),
                name="one_open_insolvency_a_customer",
            )
        ]
        indexes = [models.Index(fields=["company", "state"])]
        ordering = ["-opened_on", "-pk"]

    def __str__(self) -> str:
        return f"{english(self.get_kind_display).lower()} {self.pk}"


class ClaimLine(models.Model):
    """One item of the claim to file, as of the opening date, in the item's currency."""

    insolvency = models.ForeignKey(Insolvency, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    principal_minor = models.BigIntegerField(help_text="open on the opening date")
    interest_minor = models.BigIntegerField(help_text="accrued to the opening date")
    costs_minor = models.BigIntegerField(help_text="fees and costs")
    basis = models.CharField(max_length=200, blank=True, help_text="how the interest accrued")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["insolvency", "item"], name="claimed_once")]
        ordering = ["currency", "item__due_on", "item__number"]

    @property
    def total_minor(self) -> int:
        return self.principal_minor + self.interest_minor + self.costs_minor
