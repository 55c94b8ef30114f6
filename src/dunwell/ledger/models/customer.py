from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.models import Company


class CustomerKind(models.TextChoices):
    """Who the debtor is changes what the law allows (B2B late-payment rules vs consumer law)."""

    BUSINESS = "business", _("Business")
    PUBLIC = "public", _("Public body")
    CONSUMER = "consumer", _("Consumer or sole trader")


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ON_HOLD = "on_hold", _("On hold")
    CLOSED = "closed", _("Closed")


class Customer(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="customers")
    account_number = models.CharField(max_length=40)
    legal_name = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=10, choices=CustomerKind.choices, default=CustomerKind.BUSINESS
    )
    country = models.CharField(max_length=2, blank=True)
    registration_id = models.CharField(max_length=40, blank=True)
    vat_id = models.CharField(max_length=30, blank=True)
    street = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="branches"
    )
    billed_to_parent = models.BooleanField(
        default=False, help_text="a branch whose invoices are billed to (and dunned at) its parent"
    )
    payment_term = models.ForeignKey(
        "terms.PaymentTerm", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3)
    language = models.CharField(max_length=8, default="en")
    time_zone = models.CharField(
        max_length=64, blank=True, help_text="IANA name, e.g. Europe/Berlin; empty: the company's"
    )
    credit_limit_minor = models.BigIntegerField(null=True, blank=True)
    segment = models.CharField(max_length=40, blank=True)
    tags = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=CustomerStatus.choices, default="active")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "account_number"], name="customer_number_unique"
            )
        ]
        indexes = [models.Index(fields=["company", "legal_name"])]
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.account_number})"


class ContactRole(models.TextChoices):
    AP_CLERK = "ap_clerk", _("AP clerk")
    AP_MANAGER = "ap_manager", _("AP manager")
    FINANCE_DIRECTOR = "finance_director", _("Finance director")
    OWNER = "owner", _("Owner or managing director")
    OTHER = "other", _("Other")


class PreferredChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")
    PHONE = "phone", _("Phone")


class Contact(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    role = models.CharField(
        max_length=20, choices=ContactRole.choices, default=ContactRole.AP_CLERK
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    preferred_channel = models.CharField(
        max_length=10, choices=PreferredChannel.choices, default=PreferredChannel.EMAIL
    )
    language = models.CharField(max_length=8, blank=True, help_text="empty: the customer's")
    receives_reminders = models.BooleanField(default=True)
    receives_escalations = models.BooleanField(default=False)
    receives_statements = models.BooleanField(default=True)
    email_bounced_on = models.DateField(
        null=True, blank=True, help_text="the mail server refused the address: letters instead"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "name", "email"], name="contact_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name
