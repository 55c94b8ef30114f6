"""Placements with a collection agency or a lawyer (issue 4 point 7).

An account (the open items of one customer in one currency, or some of them) is handed over to an
`Agency`; while the placement is open (placed, acknowledged, in progress) the placed items are not
dunned (`dunning.pauses`). The agency reports what it recovered (`PlacementRecovery`, with the
commission it earns at the placement's rate); the money itself reaches the ledger as an ordinary
payment, which a recovery may name. A placement ends recalled (dunning resumes) or closed with an
outcome. At most one open placement per customer and currency.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.models import Company
from dunwell.ledger.models import Customer, OpenItem, Payment


class AgencyKind(models.TextChoices):
    AGENCY = "agency", _("Collection agency")
    LAWYER = "lawyer", _("Lawyer")


class Agency(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=AgencyKind.choices, default=AgencyKind.AGENCY)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    commission_percent = models.DecimalField(
        max_digits=6, decimal_places=3, help_text="of what it recovers"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="agency_name_unique"),
            models.CheckConstraint(
                condition=models.Q(commission_percent__gte=0, commission_percent__lte=100),
                name="agency_commission_a_percentage",
            ),
        ]
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class PlacementState(models.TextChoices):
    PLACED = "placed", _("Placed")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged by the agency")
    IN_PROGRESS = "in_progress", _("In progress")
    RECALLED = "recalled", _("Recalled")
    CLOSED = "closed", _("Closed")


OPEN_STATES = (PlacementState.PLACED, PlacementState.ACKNOWLEDGED, PlacementState.IN_PROGRESS)


class PlacementOutcome(models.TextChoices):
    PAID_IN_FULL = "paid_in_full", _("Paid in full")
    SETTLED = "settled", _("Settled for less")
    UNCOLLECTABLE = "uncollectable", _("Uncollectable")
    RETURNED = "returned", _("Returned by the agency")


class Placement(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="placements")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="placements")
    currency = models.CharField(max_length=3)
    placed_on = models.DateField()
    placed_minor = models.BigIntegerField(help_text="the items' open amounts when placed")
    commission_percent = models.DecimalField(
        max_digits=6, decimal_places=3, help_text="the agency's rate when placed"
    )
    state = models.CharField(max_length=15, choices=PlacementState.choices)
    outcome = models.CharField(max_length=15, choices=PlacementOutcome.choices, blank=True)
    recalled_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="why it was placed")
    reason = models.TextField(blank=True, help_text="why it was recalled or closed")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "currency"],
                condition=models.Q(state__in=[s.value for s in OPEN_STATES]),
                name="one_open_placement_a_currency",
            ),
            models.CheckConstraint(
                condition=models.Q(placed_minor__gt=0), name="placement_amount_positive"
            ),
        ]
        indexes = [models.Index(fields=["company", "state"])]
        ordering = ["-placed_on", "-pk"]

    def __str__(self) -> str:
        return f"placement {self.pk} with {self.agency.name}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class PlacementItem(models.Model):
    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="+")
    amount_minor = models.BigIntegerField(help_text="open when placed")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["placement", "item"], name="placed_once_a_placement"),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="placed_amount_positive"
            ),
        ]
        ordering = ["placement", "item__due_on", "item__number"]


class PlacementRecovery(models.Model):
    """What the agency reports it collected on a day, and the commission that earns it."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, related_name="recoveries")
    amount_minor = models.BigIntegerField()
    commission_minor = models.BigIntegerField(help_text="placement's percent, rounded half up")
    recovered_on = models.DateField()
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="the ledger payment that brought the money in, when known",
    )  # fmt: skip
    note = models.TextField(blank=True)
    key = models.CharField(  # noqa: DJ001 - NULL keeps unkeyed rows out of the unique index
        max_length=64, null=True, blank=True,
        help_text="idempotency key: a form or script sent twice records the recovery once",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="recovery_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["placement", "key"],
                condition=models.Q(key__isnull=False),
                name="one_recovery_a_key",
            ),
            models.UniqueConstraint(
                fields=["payment"],
                condition=models.Q(payment__isnull=False),
                name="one_recovery_a_payment",
            ),
        ]
        ordering = ["recovered_on", "pk"]
        verbose_name_plural = "placement recoveries"
