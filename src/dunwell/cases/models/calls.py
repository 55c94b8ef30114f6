"""Calls a collector made or took (issue 4: calls and tasks): who was called, the outcome, what
was said and when to act next. A call that answers a dunning step's call task names it by its
outbox id (`message_id`: cases does not import dunning); what the call led to (a promise, a
dispute, a follow-up task) is linked.

A wrong contact is not a field of the ledger's `Contact`: the call log is the flag. A contact is
flagged while the latest call logged to it had the outcome wrong contact (`queries` in
`cases.services.calls`), so a later good call clears it and the history says who found out when.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.cases.models.disputes import Dispute
from dunwell.cases.models.promises import PromiseToPay
from dunwell.cases.models.tasks import Task
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.ledger.models import Contact, Customer


class CallDirection(models.TextChoices):
    OUT = "out", _("Outgoing")
    IN = "in", _("Incoming")


class CallOutcome(models.TextChoices):
    NO_ANSWER = "no_answer", _("No answer")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    WRONG_CONTACT = "wrong_contact", _("Wrong contact")
    PROMISE = "promise", _("Spoke: promise to pay")
    DISPUTE = "dispute", _("Spoke: dispute")
    WILL_PAY = "will_pay", _("Spoke: will pay")
    REFUSES = "refuses", _("Spoke: refuses to pay")
    OTHER = "other", _("Spoke: other")


class CallLog(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="calls")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    phone = models.CharField(max_length=40, blank=True)
    direction = models.CharField(
        max_length=3, choices=CallDirection.choices, default=CallDirection.OUT
    )
    outcome = models.CharField(max_length=16, choices=CallOutcome.choices)
    note = models.TextField(blank=True)
    next_action_on = models.DateField(null=True, blank=True)
    follow_up = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message_id = models.BigIntegerField(
        null=True, blank=True, help_text="the dunning step's call task this call answered"
    )
    promise = models.ForeignKey(
        PromiseToPay, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dispute = models.ForeignKey(
        Dispute, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    called_at = models.DateTimeField()
    on = models.DateField(help_text="the business date it was logged")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            # a step's call task is answered by one call (a second log for it is refused)
            models.UniqueConstraint(fields=["company", "message_id"], name="one_call_a_step_task")
        ]
        indexes = [models.Index(fields=["customer", "called_at"])]
        ordering = ["-called_at", "-pk"]

    def __str__(self) -> str:
        return f"call {self.pk} ({english(self.get_outcome_display).lower()})"
