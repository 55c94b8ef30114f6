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
