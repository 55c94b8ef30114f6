"""The tenants (companies, i.e. creditor entities) and who may see each of them, in which role.

Company lives in `core` because every other app scopes by it (invariant 3); see
docs/decisions/0002-company-in-core.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dunwell.core.append_only import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet
from dunwell.core.dates import Adjustment


class GoverningLaw(models.TextChoices):
    EU = "EU", _("EU Late Payment Directive 2011/7/EU")
    UK = "UK", _("UK Late Payment of Commercial Debts (Interest) Act 1998")
    DE = "DE", _("Germany, BGB §§ 286, 288")
    FR = "FR", _("France, Code de commerce L441-10")
    NL = "NL", _("Netherlands, BW 6:119a")
    FI = "FI", _("Finland, Interest Act")
    US = "US", _("United States, contractual")
    CONTRACT = "CONTRACT", _("Contract only")


class Company(models.Model):
    """A creditor: the legal entity whose receivables these are."""

    code = models.SlugField(max_length=40, unique=True)
    legal_name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    base_currency = models.CharField(max_length=3)
    iban = models.CharField(max_length=34, blank=True)
    bic = models.CharField(max_length=11, blank=True)
    address = models.TextField(blank=True)
    vat_id = models.CharField(max_length=30, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    holiday_country = models.CharField(max_length=2, blank=True, help_text="empty: weekends only")
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    due_date_adjustment = models.CharField(
        max_length=20, choices=[(a.value, a.name.replace("_", " ").lower()) for a in Adjustment],
        default=Adjustment.NONE.value,
    )  # fmt: skip
    governing_law = models.CharField(max_length=10, choices=GoverningLaw.choices, default="EU")
    default_language = models.CharField(max_length=8, default="en")
    kid_check = models.CharField(
        max_length=5,
        choices=[("mod10", "MOD10 (Luhn)"), ("mod11", "MOD11")],
        default="mod10",
        help_text="Norway: how the KID references on invoices are checked, as agreed with the bank",
    )
    write_off_approval_minor = models.BigIntegerField(
        default=500_00,
        help_text="write-offs above this (in the base currency) need a second person's approval",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return self.legal_name


class Role(models.TextChoices):
    """What a user may do in one company. Ordered from most to least power."""

    # "Administrator" is also the insolvency administrator (Insolvenzverwalter) in the UI
    ADMIN = "admin", pgettext_lazy("user role", "Administrator")
    CREDIT_MANAGER = "credit_manager", _("Credit manager")
    COLLECTOR = "collector", _("Collector")
    VIEWER = "viewer", _("Viewer")


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="one_role_per_company")
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.company} ({self.role})"


class FxRate(models.Model):
    """A dated exchange rate, shared by all companies: 1 `base` = `rate` `quote`."""

    on = models.DateField()
    base = models.CharField(max_length=3)
    quote = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=20, decimal_places=10)
    source = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["on", "base", "quote"], name="one_rate_per_day")
        ]
        indexes = [models.Index(fields=["base", "quote", "on"])]

    def __str__(self) -> str:
        return f"{self.on} 1 {self.base} = {self.rate} {self.quote}"


class AuditKind(models.TextChoices):
    """What the security log records: who got in, who was kept out, who may do what."""

    SIGNED_IN = "signed_in", _("Signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
    SIGNED_OUT = "signed_out", _("Signed out")
    LOCKED_OUT = "locked_out", _("Locked out after repeated failures")
    TWO_FACTOR_ENABLED = "two_factor_enabled", _("Two-factor sign-in set up")
    TWO_FACTOR_FAILED = "two_factor_failed", _("Two-factor code refused")
    TWO_FACTOR_RESET = "two_factor_reset", _("Two-factor sign-in removed")
    USER_CREATED = "user_created", _("User created")
    ROLE_GRANTED = "role_granted", _("Role granted")
    ROLE_CHANGED = "role_changed", _("Role changed")
    ACCESS_REVOKED = "access_revoked", _("Access revoked")


class AuditEventError(AppendOnlyError):
    rule = "the security log is append-only"


class AuditEvent(AppendOnlyModel):
    """One entry of the security log, append-only like the account history (`core.append_only`;
    the database refuses updates and deletes too, migration core 0004). The user is kept by id and by name: a user deleted
    later still shows under the name they had; `company` is set for role changes and for events
    of a user who works in exactly one company at the time."""

    at = models.DateTimeField()
    kind = models.CharField(max_length=24, choices=AuditKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True,
        blank=True, related_name="+",
    )  # fmt: skip
    username = models.CharField(max_length=150, blank=True)
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True,
        blank=True, related_name="+",
    )  # fmt: skip
    actor_name = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    append_only_error = AuditEventError
    objects = AppendOnlyQuerySet["AuditEvent"].as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["company", "-at"], name="audit_company_at"),
            models.Index(fields=["user", "-at"], name="audit_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"
