"""The worklist's stored rows (decision 0016): one per customer with anything open or pending,
refreshed set-based by `dunwell.reports.worklist.refresh_worklist`, read a page at a time."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dunwell.core.models import Company
from dunwell.ledger.models import Customer


class WorklistRow(models.Model):
    """An account as the collector's worklist shows it on `as_of`.

    `rank` orders the list in one index (`reports.rules.priority.rank`: accounts not paused first,
    then the score, then the overdue amount), so that keyset paging reads (rank, customer) alone.
    The customer's name, account number, owner, segment and currencies are copied so a page and
    its filters need no join."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", db_index=False,
    )  # fmt: skip
    account_number = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    segment = models.CharField(max_length=40, blank=True)
    currencies = models.CharField(
        max_length=60, blank=True, help_text="of the overdue, e.g. EUR,USD"
    )
    as_of = models.DateField()
    refreshed_at = models.DateTimeField()
    score = models.PositiveSmallIntegerField()
    rank = models.BigIntegerField()
    overdue_minor = models.BigIntegerField(help_text="in the company's base currency")
    oldest_days = models.IntegerField(default=0)
    broken_promises = models.PositiveSmallIntegerField(default=0)
    disputed_minor = models.BigIntegerField(default=0, help_text="open disputes, base currency")
    tasks_due = models.PositiveSmallIntegerField(default=0)
    paused_until = models.DateField(null=True, blank=True)
    components = models.JSONField(default=dict, help_text="points per component of the score")
    explanation = models.CharField(max_length=400)
    action = models.CharField(max_length=20)
    action_text = models.CharField(max_length=120)
    dispute_id = models.BigIntegerField(null=True, blank=True, help_text="the one to resolve")

    class Meta:
        indexes = [
            models.Index(
                fields=["company", "owner", "-rank", "customer"], name="worklist_owner_rank"
            ),
            models.Index(fields=["company", "-rank", "customer"], name="worklist_company_rank"),
            models.Index(
                fields=["company", "-overdue_minor", "customer"], name="worklist_company_overdue"
            ),
            models.Index(
                fields=["company", "-oldest_days", "customer"], name="worklist_company_oldest"
            ),
        ]


class ReserveRates(models.Model):
    """A controller's loss rates per aging bucket (the bad-debt reserve's provision matrix,
    `reports.rules.reserve`), from a date, for one segment or for all customers (`segment` "").

    Rows are never changed: new rates are a new row from their date, so a reserve of any past
    date is computed with the rates that stood then, and the change is on record with its reason.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    segment = models.CharField(max_length=40, blank=True, help_text='"": every other customer')
    effective_on = models.DateField()
    current = models.DecimalField(max_digits=6, decimal_places=3, help_text="percent")
    days_1_30 = models.DecimalField(max_digits=6, decimal_places=3)
    days_31_60 = models.DecimalField(max_digits=6, decimal_places=3)
    days_61_90 = models.DecimalField(max_digits=6, decimal_places=3)
    days_91_120 = models.DecimalField(max_digits=6, decimal_places=3)
    over_120 = models.DecimalField(max_digits=6, decimal_places=3)
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    PERCENT_FIELDS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_91_120",
                      "over_120")  # fmt: skip

    class Meta:
        indexes = [
            models.Index(fields=["company", "segment", "-effective_on"], name="reserve_rates_on")
        ]


class KpiSnapshot(models.Model):
    """The overview's KPI trends of a company as of a day (the twelve complete months before it,
    per currency: DSO, best possible DSO, CEI, percent current), made in the daily cycle
    (`reports.kpi_snapshot`), so that the overview reads one row instead of scanning the ledger."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    made_at = models.DateTimeField()
    series = models.JSONField(help_text="[{currency, months: [...], dso: [...], ...}]")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "as_of"], name="one_kpi_snapshot_a_day")
        ]
