"""Links to the customer portal (issue 6): each message carries one for its contact.

A link is a row and a signed token. The token is `<id>.<nonce>` signed with the server's
SECRET_KEY (`django.core.signing`, salt "dunwell.portal"), so a token changed by one character
is refused before any lookup, and one cannot be made without the key even by someone who reads
the database. The row says for whom (customer, contact), until when (`expires_at`) and whether
it was taken back (`revoked_at`); `cases.services.portal` issues, resolves and revokes them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.models import Company
from dunwell.ledger.models import Contact, Customer


class PortalLink(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="portal_links")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="portal_links"
    )
    nonce = models.CharField(max_length=32)
    source = models.CharField(
        max_length=60, blank=True, help_text="what carried it: 'message 17', 'renewal of 12', …"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    renewed_at = models.DateTimeField(
        null=True, blank=True, help_text="when a fresh link was last sent in its place"
    )

    class Meta:
        indexes = [models.Index(fields=["customer", "-created_at"], name="portal_customer")]
        constraints = [
            models.UniqueConstraint(
                fields=["source"], condition=~models.Q(source=""), name="portal_one_per_source"
            )
        ]
        verbose_name = _("portal link")

    def __str__(self) -> str:
        return f"portal link {self.pk} for {self.customer_id}"
