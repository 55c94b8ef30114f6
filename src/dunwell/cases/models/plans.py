"""Payment plans (issue 4 point 3).

An instalment schedule agreed for overdue debt: the invoices it covers (each for all that was open
when it was agreed), n equal instalments or custom dates and amounts that add up to the debt plus
any interest or fee the plan charges. While the plan is current the covered invoices are not
dunned; an instalment not paid by its date plus the plan's grace is missed, and the plan defaults
(the invoices are dunned again, escalated); when every instalment is paid the plan is completed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.models import Company
from dunwell.ledger.models import Customer, OpenItem


class PlanState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    DEFAULTED = "defaulted", _("Defaulted")
    CANCELLED = "cancelled", _("Cancelled")


class InstalmentState(models.TextChoices):
    DUE = "due", _("Due")
    PAID = "paid", _("Paid")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    MISSED = "missed", _("Missed")


class PaymentPlan(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="plans")
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=10, choices=PlanState.choices, default=PlanState.ACTIVE)
    principal_minor = models.BigIntegerField(help_text="the covered debt when agreed")
    interest_percent = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True, help_text="a year, simple"
    )
    interest_minor = models.BigIntegerField(default=0)
    fee_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(help_text="principal + interest + fee: the instalments")
    grace_days = models.PositiveSmallIntegerField(default=5)
    agreed_on = models.DateField()
    agreed_by = models.CharField(
        max_length=120, blank=True, help_text="who agreed, at the customer"
    )
    note = models.TextField(blank=True)
    ended_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["company", "state"])]
        ordering = ["-agreed_on", "-pk"]

    def __str__(self) -> str:
        return f"payment plan {self.pk}"


class PlanItem(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="covered")
    item = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="+")
    amount_minor = models.BigIntegerField(help_text="open when the plan was agreed")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "item"], name="planned_once_a_plan")]


class PlanInstalment(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    sequence = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    amount_minor = models.BigIntegerField()
    paid_minor = models.BigIntegerField(default=0)
    state = models.CharField(
        max_length=12, choices=InstalmentState.choices, default=InstalmentState.DUE
    )
    settled_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "sequence"], name="instalment_sequence_unique"),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="instalment_amount_positive"
            ),
        ]
        ordering = ["plan", "sequence"]
