"""The account's history: every interaction is a row that is never edited or deleted (invariant 5).

The rule is kept twice. In code, `Activity.save()` of a stored row, `Activity.delete()` and the
manager's `update()`, `delete()` and `bulk_update()` raise `AppendOnlyError` before any SQL
is sent; inserts (`save()` of a new row, `create`, `bulk_create`, `core.bulk.insert_instances`
used by `record_many`) work. In the database, a trigger refuses UPDATE, DELETE and TRUNCATE
(migration 0002) for whatever goes around the ORM; only the test database may bypass it so that
test teardown can flush. A mistake is answered by a CORRECTION entry (`record_correction`).
There is no path to change a row: the redaction of personal data (GDPR, a later feature) will
need one, explicit and recorded, and none exists until then. Writers live in
`ledger/services/activity.py`, one function per kind.

Kinds are numbered in ranges so that later features add theirs without renumbering:
1xx customers, 2xx documents, 3xx money, 4xx imports, 5xx dunning, 6xx cases, 7xx credit,
8xx cash application, 9xx portal.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core import append_only as core_append_only
from dunwell.core.i18n import english
from dunwell.core.models import Company

RULE = "the history is append-only: add a correcting entry"


class AppendOnlyError(core_append_only.AppendOnlyError):
    """Raised by any attempt to change or delete a history entry through the ORM."""

    rule = RULE


class ActivityQuerySet(core_append_only.AppendOnlyQuerySet["Activity"]):
    """Reads and inserts; every bulk change is refused before it reaches the database."""


class ActivityKind(models.IntegerChoices):
    CUSTOMER_CREATED = 101, _("Customer created")
    CUSTOMER_UPDATED = 102, _("Customer updated")
    INVOICE_ISSUED = 201, _("Invoice issued")
    CREDIT_NOTE_ISSUED = 202, _("Credit note issued")
    FEE_CHARGED = 203, _("Fee charged")
    INTEREST_CHARGED = 204, _("Interest charged")
    DOCUMENT_UPDATED = 205, _("Document updated")
    DOCUMENT_VOIDED = 206, _("Document voided")
    ITEM_OVERDUE = 207, _("Invoice overdue")
    PAYMENT_RECEIVED = 301, _("Payment received")
    ALLOCATED = 302, _("Payment allocated")
    ALLOCATION_REVERSED = 303, _("Allocation reversed")
    CREDIT_APPLIED = 304, _("Credit note applied")
    WRITTEN_OFF = 305, _("Written off")
    PAYMENT_VOIDED = 306, _("Payment voided")
    DISCOUNT_GRANTED = 307, _("Early-payment discount granted")
    REFUND_PAID = 308, _("Refund paid")
    IMPORTED = 401, _("File imported")
    IMPORT_CONFLICT = 402, _("Import conflict")
    DUNNING_HOLD_PLACED = 501, _("Dunning hold placed")
    DUNNING_HOLD_RELEASED = 502, _("Dunning hold released")
    CREDIT_HOLD_PLACED = 503, _("Credit hold placed")
    CREDIT_HOLD_RELEASED = 504, _("Credit hold released")
    CREDIT_LIMIT_CHANGED = 505, _("Credit limit changed")
    REMINDER_SENT = 601, _("Reminder sent")
    TASK_DONE = 602, _("Follow-up task done")
    REMINDER_WITHDRAWN = 603, _("Reminder withdrawn")
    DISPUTE_OPENED = 701, _("Dispute opened")
    DISPUTE_UPDATED = 702, _("Dispute under investigation")
    DISPUTE_RESOLVED = 703, _("Dispute resolved")
    DISPUTE_NOTE = 704, _("Dispute note")
    DISPUTE_ATTACHMENT = 705, _("Dispute attachment")
    PROMISE_MADE = 711, _("Promise to pay")
    PROMISE_KEPT = 712, _("Promise kept")
    PROMISE_PARTLY_KEPT = 713, _("Promise partly kept")
    PROMISE_BROKEN = 714, _("Promise broken")
    PROMISE_CANCELLED = 715, _("Promise cancelled")
    PLAN_AGREED = 721, _("Payment plan agreed")
    INSTALMENT_PAID = 722, _("Instalment paid")
    INSTALMENT_MISSED = 723, _("Instalment missed")
    PLAN_COMPLETED = 724, _("Payment plan completed")
    PLAN_DEFAULTED = 725, _("Payment plan defaulted")
    PLAN_CANCELLED = 726, _("Payment plan cancelled")
    CALL_LOGGED = 731, _("Call")
    NOTE_ADDED = 732, _("Note")
    REPLY_RECEIVED = 733, _("Reply from the customer")
    TASK_CREATED = 734, _("Task created")
    TASK_CLOSED = 735, _("Task closed")
    ESCALATED = 736, _("Escalated")
    INSOLVENCY_OPENED = 741, _("Insolvency proceedings")
    CLAIM_FILED = 742, _("Claim filed")
    INSOLVENCY_CLOSED = 743, _("Insolvency closed")
    WRITE_OFF_REQUESTED = 751, _("Write-off requested")
    WRITE_OFF_APPROVED = 752, _("Write-off approved")
    WRITE_OFF_REJECTED = 753, _("Write-off rejected")
    PLACED = 761, _("Placed with an agency or lawyer")
    PLACEMENT_UPDATED = 762, _("Placement updated")
    PLACEMENT_RECOVERED = 763, _("Recovered by the agency")
    PLACEMENT_RECALLED = 764, _("Placement recalled")
    PLACEMENT_CLOSED = 765, _("Placement closed")
    CASE_FILE_EXPORTED = 766, _("Case file exported")
    CORRECTION = 799, _("Correction")
    PORTAL_PLAN_REQUESTED = 901, _("Payment plan asked for in the portal")
    PORTAL_PAYMENT_REPORTED = 902, _("Payment reported in the portal")
    PORTAL_CONTACT_CORRECTED = 903, _("Contact corrected in the portal")
    PORTAL_LINK_RENEWED = 904, _("Fresh portal link sent")
    PORTAL_LINK_REVOKED = 905, _("Portal links revoked")


class Activity(core_append_only.AppendOnlyModel):
    append_only_error = AppendOnlyError

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        "ledger.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    item = models.ForeignKey(
        "ledger.OpenItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    payment = models.ForeignKey(
        "ledger.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )
    kind = models.PositiveSmallIntegerField(choices=ActivityKind.choices)
    on = models.DateField(help_text="the business date it concerns")
    recorded_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=60, default="system")
    summary = models.CharField(max_length=300)
    amount_minor = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    data = models.JSONField(default=dict, blank=True)
    key = models.CharField(  # noqa: DJ001 - NULL keeps unkeyed rows out of the unique index
        max_length=120, null=True, blank=True, help_text="idempotency key"
    )

    objects = ActivityQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "key"], name="activity_key_unique")
        ]
        indexes = [
            models.Index(fields=["company", "customer", "recorded_at"]),
            models.Index(fields=["item", "recorded_at"]),
            # The timeline marks corrected entries: a customer's corrections, found without
            # reading its other entries. Partial, so the million rows of an import add nothing;
            # `kind` in the key makes SQLite's planner prefer it (three equalities to two).
            models.Index(
                fields=["company", "customer", "kind"],
                condition=models.Q(kind=799),
                name="activity_corrections",
            ),
        ]
        ordering = ["recorded_at", "id"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.on} {english(self.get_kind_display)}: {self.summary}"
