"""Replies from the customer, pasted or forwarded (issue 4 point 7): kept as received, logged in
the history, and turned into a dispute (or a promise) in one step."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dunwell.cases.models.disputes import Dispute
from dunwell.cases.models.promises import PromiseToPay
from dunwell.core.models import Company
from dunwell.ledger.models import Customer


class CustomerReply(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="replies")
    received_at = models.DateTimeField()
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True, help_text="the text, from text/plain or the HTML")
    raw = models.TextField(blank=True, help_text="the message as pasted or forwarded")
    message_id = models.CharField(max_length=300, blank=True)
    in_reply_to = models.CharField(max_length=300, blank=True)
    dispute = models.ForeignKey(
        Dispute, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    promise = models.ForeignKey(
        PromiseToPay, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    logged_at = models.DateTimeField()
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "message_id"],
                condition=~models.Q(message_id=""),
                name="reply_logged_once",
            )
        ]
        indexes = [models.Index(fields=["customer", "received_at"])]
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"reply {self.pk}"
