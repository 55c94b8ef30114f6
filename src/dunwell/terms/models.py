"""Payment terms as structured rules (never free text): lines with a basis, shares, a discount.

The arithmetic lives in `terms/rules/due_dates.py`; `PaymentTerm.to_rule()` translates a row.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import models

from dunwell.core.dates import Adjustment
from dunwell.core.models import Company
from dunwell.terms.rules.due_dates import Basis, Discount, DueRule, TermLine, Terms
from dunwell.terms.rules.interest import DayCount, RateKind


class PaymentTerm(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="payment_terms")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=120)
    is_default = models.BooleanField(default=False, help_text="used when a customer has none")
    discount_percent = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    discount_days = models.PositiveSmallIntegerField(null=True, blank=True)
    adjustment = models.CharField(
        max_length=20,
        blank=True,
        choices=[(a.value, a.value) for a in Adjustment],
        help_text="empty: the company's business-day adjustment",
    )
    # Contractual late-payment interest: when set, what dunning charges instead of the statute's
    # rate (the company answers for its being lawful: DOMAIN.md 1, "contract beats statute").
    interest_percent = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True, help_text="a year, simple"
    )
    interest_grace_days = models.PositiveSmallIntegerField(default=0)
    interest_day_count = models.CharField(
        max_length=10, choices=[(d.value, d.value) for d in DayCount], default=DayCount.ACT_365F
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="term_code_unique")]
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def to_rule(
        self, company_adjustment: str, unsaved_lines: Iterable[PaymentTermLine] | None = None
    ) -> Terms:
        """The term as a rule; `unsaved_lines` (a form's) replace the stored lines."""
        discount = None
        if self.discount_percent and self.discount_days is not None:
            discount = Discount(percent=Decimal(self.discount_percent), days=self.discount_days)
        lines = tuple(
            TermLine(
                rule=DueRule(
                    Basis(line.basis),
                    days=line.days,
                    months=line.months,
                    day_of_month=line.day_of_month,
                ),
                share=None if line.share_percent is None else Decimal(line.share_percent),
            )
            for line in (self.lines.all() if unsaved_lines is None else unsaved_lines)
        )
        return Terms(
            lines=lines,
            discount=discount,
            adjustment=Adjustment(self.adjustment or company_adjustment),
        )


class PaymentTermLine(models.Model):
    term = models.ForeignKey(PaymentTerm, on_delete=models.CASCADE, related_name="lines")
    sequence = models.PositiveSmallIntegerField(default=1)
    share_percent = models.DecimalField(
        max_digits=7, decimal_places=4, null=True, blank=True, help_text="empty: the balance"
    )
    basis = models.CharField(max_length=40, choices=[(b.value, b.value) for b in Basis])
    days = models.IntegerField(default=0)
    months = models.IntegerField(default=0)
    day_of_month = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["term", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["term", "sequence"], name="term_line_unique")
        ]


class ReferenceRate(models.Model):
    """A published reference rate (ECB, Basiszinssatz, Bank Rate) from the day it applies, shared
    by all companies; statutory interest reads it through `terms.services.reference_rates`.

    `checked_on` is the last day someone confirmed the rate was still the one in force: a
    calculation for a later day still uses it but says the rate is assumed.
    """

    kind = models.CharField(max_length=10, choices=[(k.value, k.label) for k in RateKind])
    valid_from = models.DateField()
    percent = models.DecimalField(max_digits=7, decimal_places=4)
    checked_on = models.DateField()
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "valid_from"], name="one_reference_rate_a_day"),
            models.CheckConstraint(
                condition=models.Q(checked_on__gte=models.F("valid_from")),
                name="rate_checked_after_it_applies",
            ),
        ]
        ordering = ["kind", "valid_from"]

    def __str__(self) -> str:
        return f"{self.kind} {self.percent} % from {self.valid_from}"
