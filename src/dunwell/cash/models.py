"""Bank statements as imported, line by line, and what became of each line (issue 5).

Nothing a bank sent is lost: every entry (each transaction of a batch entry) is a
`StatementLine`, stored once under its natural key whatever the number of imports, and stays
`unmatched` until someone or the matcher decides what it is. Money in minor units, signed from
the company's side (a credit positive). The files themselves are recorded by content hash, so a
file imported twice is recognised before it is read.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.ledger.models import Customer, OpenItem, Payment


class BankAccount(models.Model):
    """One of the company's accounts, in one currency; statements are filed by IBAN (or number)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    iban = models.CharField(max_length=34, blank=True)
    account_number = models.CharField(max_length=40, blank=True, help_text="when not an IBAN")
    currency = models.CharField(max_length=3)
    bic = models.CharField(max_length=11, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "iban", "account_number", "currency"], name="bank_account_once"
            ),
            models.CheckConstraint(
                condition=~models.Q(iban="", account_number=""), name="bank_account_identified"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.iban or self.account_number}, {self.currency})"


class StatementFile(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=12)
    size = models.PositiveIntegerField()
    statements = models.PositiveIntegerField(default=0)
    lines_new = models.PositiveIntegerField(default=0)
    lines_known = models.PositiveIntegerField(
        default=0, help_text="already stored from a file before"
    )
    imported_at = models.DateTimeField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "sha256"], name="statement_file_once")
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.format})"


class BankStatement(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="statements")
    file = models.ForeignKey(StatementFile, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=200, help_text="the statement's id and period, as filed")
    statement_id = models.CharField(max_length=100)
    opening_minor = models.BigIntegerField(null=True, blank=True)
    closing_minor = models.BigIntegerField(null=True, blank=True)
    opening_on = models.DateField(null=True, blank=True)
    closing_on = models.DateField(null=True, blank=True)
    reconciles = models.BooleanField(null=True, help_text="opening + booked entries = closing")
    entries = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="bank_statement_once")
        ]
        ordering = ["account", "closing_on", "id"]

    def __str__(self) -> str:
        return f"statement {self.statement_id} of {self.account}"


class LineState(models.TextChoices):
    UNMATCHED = "unmatched", _("Unmatched")  # waiting: no proposal good enough, in the review queue
    APPLIED = "applied", _("Applied")  # booked as a payment and allocated (in part or in full)
    IGNORED = "ignored", _("Not a receivable")  # a supplier payment, a fee, a transfer: by a person
    PENDING = "pending", _("Not booked yet")  # the bank's pending or information entries
    RETURNED = "returned", _("Returned")  # a debit that reversed an earlier payment, applied
    REFUNDED = "refunded", _("Refund")  # a debit paying back unapplied cash, recorded


class StatementLine(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="lines")
    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="lines")
    key = models.CharField(max_length=200, help_text="natural key: the same entry is stored once")
    entry_index = models.PositiveIntegerField(help_text="1-based, in its statement")
    part = models.PositiveSmallIntegerField(default=0, help_text="transaction of a batch entry")
    line_in_file = models.PositiveIntegerField(null=True, blank=True)
    amount_minor = models.BigIntegerField(help_text="signed: a credit positive")
    currency = models.CharField(max_length=3)
    value_on = models.DateField()
    booked_on = models.DateField(null=True, blank=True)
    reversal = models.BooleanField(default=False)
    bank_reference = models.CharField(max_length=100, blank=True)
    bank_code = models.CharField(max_length=60, blank=True)
    end_to_end_id = models.CharField(max_length=100, blank=True)
    counterparty_name = models.CharField(max_length=200, blank=True)
    counterparty_iban = models.CharField(max_length=34, blank=True)
    counterparty_account = models.CharField(max_length=60, blank=True)
    ultimate_party = models.CharField(max_length=200, blank=True)
    structured = models.JSONField(default=list, help_text="creditor references as given")
    text = models.TextField(blank=True, help_text="unstructured remittance and entry text")
    documents = models.JSONField(default=list, help_text="referred documents: number, amount...")
    charges_minor = models.BigIntegerField(null=True, blank=True)
    instructed_minor = models.BigIntegerField(null=True, blank=True)
    instructed_currency = models.CharField(max_length=3, blank=True)
    return_reason = models.CharField(max_length=10, blank=True)
    state = models.CharField(max_length=10, choices=LineState.choices)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="statement_line"
    )
    returns = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="returned_by",
        help_text="a returned debit: the applied credit line whose payment the bank took back",
    )  # fmt: skip
    refund = models.OneToOneField(
        OpenItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="a refund debit: the refund item its amount was recorded as",
    )  # fmt: skip
    rule = models.CharField(max_length=40, blank=True, help_text="what decided it")
    reason = models.CharField(max_length=500, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="statement_line_once"),
        ]
        indexes = [
            models.Index(fields=["company", "state", "value_on"]),
            models.Index(fields=["company", "counterparty_iban"]),
        ]
        ordering = ["value_on", "id"]

    def __str__(self) -> str:
        amount = Money.from_minor(self.amount_minor, self.currency)
        return f"{self.value_on} {amount} {self.counterparty_name}".strip()


class Proposal(models.Model):
    """One ranked way to apply an unmatched line, as the matcher last proposed it.

    Replaced whole each time the line is matched again; `allocations` is a list of
    {"item": id, "amount_minor", "discount_minor", "charges_minor"} (cash.rules.values).
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    line = models.ForeignKey(StatementLine, on_delete=models.CASCADE, related_name="proposals")
    rank = models.PositiveSmallIntegerField(help_text="1 = best")
    confidence = models.PositiveSmallIntegerField(help_text="per mille")
    rule = models.CharField(max_length=40)
    reason = models.CharField(max_length=500)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    allocations = models.JSONField(default=list)
    unapplied_minor = models.BigIntegerField(default=0)
    proposed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "rank"], name="proposal_rank_once"),
        ]
        ordering = ["line", "rank"]

    def __str__(self) -> str:
        return f"proposal {self.rank} for line {self.line_id} ({self.confidence / 10:.1f} %)"


class KnownAccount(models.Model):
    """A payer IBAN learned for a customer: each time a payment from it was applied to them."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    iban = models.CharField(max_length=34)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    confirmations = models.PositiveIntegerField(default=0)
    last_confirmed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "iban", "customer"], name="known_account_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.iban} -> customer {self.customer_id} ({self.confirmations})"


class Advice(models.Model):
    """A remittance advice as received (a CSV from the payer's AP system, lines pasted from an
    email): which documents one payment is for. `line` is the statement line it was found to
    describe (same amount, date within a few days, the payment reference where given); that
    line's best proposal is the advice's split, and the matcher leaves the line to it."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    payment_key = models.CharField(max_length=140, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    amount_minor = models.BigIntegerField(help_text="the payment's total")
    currency = models.CharField(max_length=3)
    source = models.CharField(max_length=300, help_text="file name and line, or pasted text")
    line = models.ForeignKey(
        StatementLine, null=True, blank=True, on_delete=models.PROTECT, related_name="advices"
    )
    note = models.CharField(max_length=500, blank=True, help_text="why no line or split, if so")
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        amount = Money.from_minor(self.amount_minor, self.currency)
        return f"advice {self.payment_key or self.pk} of {amount}"


class AdviceRow(models.Model):
    advice = models.ForeignKey(Advice, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveSmallIntegerField()
    number = models.CharField(max_length=60, help_text="the document number as the payer wrote it")
    amount_minor = models.BigIntegerField(help_text="paid on it; a credit note negative")
    discount_minor = models.BigIntegerField(default=0)
    item = models.ForeignKey(
        OpenItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["advice", "position"]
