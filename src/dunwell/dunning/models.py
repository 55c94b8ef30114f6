"""Dunning policies and their steps, the state of each item, holds, runs, decisions and the outbox.

A company has any number of named policies; a customer is dunned under the policy set on the
item, else on the customer, else by the first matching rule, else the company's default
(issue 3 point 1). Each item records the step it has reached (`ItemStep`). A run of a business
date writes, per (customer, currency, policy), a `Decision` saying what was done or why not, and
for each message its outbox rows (`Message`), one per channel; the text is rendered when a
message is delivered, from what the row records.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.models import Company
from dunwell.ledger.models import Customer, OpenItem
from dunwell.terms.rules.fees import LateFee


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")
    CALL = "call", _("Call task for the owner collector")
    TASK = "task", _("Internal task")
    HOLD = "hold", _("Credit hold")
    AGENCY = "agency", _("Proposal to place with an agency")


class Policy(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=80)
    is_default = models.BooleanField(default=False)
    min_gap_days = models.PositiveSmallIntegerField(
        default=5, help_text="days between two messages to the same customer, at least"
    )
    # What a case's escalation (cases.Escalation) sends on the next run: this step's sequence,
    # or, when empty, the step after the highest the items concerned have reached.
    broken_promise_step = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="the step a broken promise to pay sends; empty: the next"
    )
    plan_default_step = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="the step a defaulted payment plan sends; empty: the next"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="policy_name_unique"),
            models.UniqueConstraint(
                fields=["company"], condition=models.Q(is_default=True), name="one_default_policy"
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Step(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="steps")
    sequence = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=80)
    offset_days = models.SmallIntegerField(
        default=0, help_text="from the due date; negative: a courtesy reminder before it"
    )
    after_previous_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="instead: days after the previous step was reached"
    )
    channels = models.JSONField(default=list, help_text="Channel values")
    recipient_roles = models.JSONField(default=list, help_text="ContactRole values")
    cc_roles = models.JSONField(default=list, blank=True)
    template = models.SlugField(max_length=40, help_text="template code, e.g. friendly")
    min_overdue_minor = models.BigIntegerField(default=0)
    needs_approval = models.BooleanField(default=False)
    # the contractual late fee charged when the step is sent (terms.rules.fees.LateFee)
    fee_fixed_minor = models.BigIntegerField(default=0)
    fee_percent = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    fee_min_minor = models.BigIntegerField(default=0)
    fee_max_minor = models.BigIntegerField(null=True, blank=True)
    charge_interest = models.BooleanField(
        default=False, help_text="book the statutory interest accrued so far when sent"
    )
    attach_statement = models.BooleanField(
        default=True, help_text="emails carry the statement of account as a PDF"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "sequence"], name="step_sequence_unique")
        ]
        ordering = ["policy", "sequence"]

    def __str__(self) -> str:
        return f"{self.policy} {self.sequence}: {self.name}"

    def late_fee(self) -> LateFee | None:
        if not (self.fee_fixed_minor or self.fee_percent or self.fee_min_minor):
            return None
        return LateFee(self.fee_fixed_minor, self.fee_percent, self.fee_min_minor,
                       self.fee_max_minor)  # fmt: skip


class PolicyRule(models.Model):
    """Assign a policy to the customers that match every field set (by `priority`, lowest first)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="rules")
    priority = models.PositiveSmallIntegerField(default=100)
    segment = models.CharField(max_length=40, blank=True)
    tag = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=2, blank=True)
    min_open_minor = models.BigIntegerField(
        null=True, blank=True, help_text="the customer's open balance, in its currency, at least"
    )

    class Meta:
        ordering = ["priority", "id"]


class CustomerPolicy(models.Model):
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="+")


class ItemPolicy(models.Model):
    item = models.OneToOneField(OpenItem, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="+")


class ItemStep(models.Model):
    """The step an open item has reached under its policy, and when.

    A run writes a row per item it advances (a million at once). Its references carry no
    constraint in the database: they are the run's own, from rows it read, the ledger never
    deletes an item, and PROTECT and CASCADE still hold through the ORM; the policy, never
    looked up by, no index either (decision 0009). The same for the outbox's and decisions'
    policy and company."""

    company = models.ForeignKey(  # its index grows at the end: rows come in id order
        Company, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    item = models.OneToOneField(  # unique, so indexed; items are never deleted (voided)
        OpenItem, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    policy = models.ForeignKey(
        Policy, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    reached = models.PositiveSmallIntegerField()
    reached_on = models.DateField()


class Hold(models.Model):
    """ "Do not dun until": a customer (item empty) or one item, with the reason and who said so."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(
        OpenItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    until = models.DateField()
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["company", "until"])]


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Run(models.Model):
    """The daily run of one company and business date: at most one, resumed after a crash."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField()
    status = models.CharField(max_length=10, choices=RunStatus.choices)
    lease_until = models.DateTimeField(help_text="another run may take over after this")
    owner = models.CharField(max_length=40, help_text="the process that holds the lease")
    last_customer_id = models.BigIntegerField(default=0, help_text="done up to this customer")
    parts = models.PositiveSmallIntegerField(
        default=1, help_text="customers split by billed id modulo this, each part in a process"
    )
    progress = models.JSONField(default=dict, help_text="part -> done up to this customer")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "business_date"], name="one_run_a_day")
        ]


class Outcome(models.TextChoices):
    SENT = "queued", _("Queued for delivery")
    APPROVAL = "approval", _("Awaiting approval")
    SKIPPED = "skipped", _("Skipped")
    REJECTED = "rejected", _("Rejected by a person")


class Decision(models.Model):
    """What a run decided for one (customer, currency, policy), and why. Indexed for what is
    asked of it (a run's decisions, a customer's, the company's awaiting approval): a run writes
    one per group, 100,000 at once, and each index costs every row."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(  # the unique constraint below starts with it
        Run, on_delete=models.PROTECT, related_name="decisions", db_index=False
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    policy = models.ForeignKey(
        Policy,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    step = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.CharField(max_length=300)
    items = models.JSONField(default=list, help_text="number, due date, days overdue, open")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", db_index=False,
    )  # fmt: skip
    decided_at = models.DateTimeField(null=True, blank=True, help_text="approved or rejected")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "customer", "currency", "policy"], name="one_decision_a_group"
            )
        ]


class MessageStatus(models.TextChoices):
    AWAITING_APPROVAL = "approval", _("Awaiting approval")
    PENDING = "pending", _("Pending delivery")
    SENDING = "sending", _("Being delivered")
    SENT = "sent", _("Sent")
    UNCERTAIN = "uncertain", _("Uncertain: handed over, not confirmed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    WITHDRAWN = "withdrawn", _("Withdrawn: the customer promised to pay")


class Message(models.Model):
    """One outgoing follow-up on one channel (the outbox). Unique per group, step, day and channel,
    so a re-run never queues it twice. The foreign keys whose lookups the composite indexes
    below serve carry none of their own (a run writes hundreds of thousands of rows)."""

    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )  # (company, status)
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="messages")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_index=False
    )  # (customer, business_date)
    currency = models.CharField(max_length=3)
    policy = models.ForeignKey(
        Policy, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    step = models.PositiveSmallIntegerField()
    business_date = models.DateField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    template = models.SlugField(max_length=40, db_index=False)
    language = models.CharField(max_length=8)
    recipients = models.JSONField(default=list, help_text="contacts: name, email, role")
    cc = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=MessageStatus.choices)
    created_at = models.DateTimeField()
    # delivery: the text exactly as sent, the mail server's reference, attempts and their outcome
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, blank=True, help_text="the Message-ID header")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="handed to a worker")
    claimed_by = models.CharField(max_length=40, blank=True, help_text="that worker's token")
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    statement = models.ForeignKey(
        "StatementCopy", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="the statement PDF it carried", db_index=False,
    )  # fmt: skip
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text="a call or task: the customer's owner collector",
        db_index=False,  # (assignee, status)
    )  # fmt: skip

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "currency", "policy", "step", "business_date", "channel"],
                name="one_message_a_step_a_day",
            )
        ]
        indexes = [
            models.Index(fields=["company", "status"]),
            models.Index(fields=["customer", "business_date"]),
            models.Index(fields=["assignee", "status"]),
        ]


class Template(models.Model):
    """A company's own text for a template code and language; without one the default text of
    `dunning.defaults` is used. Subject and body are Django templates (see `dunning.rendering`
    for the variables)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=40)
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "code", "language"], name="one_template_a_language"
            )
        ]


class InterestCharge(models.Model):
    """Interest booked on an invoice up to a day: the next charge books only what accrued since,
    so no period is charged twice."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="+")
    charge = models.OneToOneField(OpenItem, on_delete=models.PROTECT, related_name="+")
    until_on = models.DateField()
    amount_minor = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "until_on"], name="one_interest_charge_a_day"
            )
        ]


class StatementCopy(models.Model):
    """A customer's statement of account as of a day, laid out once as a PDF and attached to
    every email of that day (and kept as it was sent)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    as_of = models.DateField()
    language = models.CharField(max_length=8)
    filename = models.CharField(max_length=120)
    pdf = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "as_of"], name="one_statement_a_day")
        ]
