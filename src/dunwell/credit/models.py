"""Credit holds: the one model that says "sell no more on credit to this customer" (issue 3 point 4;
the credit issue adds limits and scores that place and release them too); the payment-date
models and the predictions they make (issue 7 point 3, `credit.prediction`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dunwell.core.models import Company
from dunwell.ledger.models import Customer, OpenItem


class CreditHold(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    placed_on = models.DateField()
    placed_at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    source = models.CharField(max_length=40, help_text="dunning step, credit manager, limit ...")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_on = models.DateField(null=True, blank=True)
    release_reason = models.CharField(max_length=200, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(released_on__isnull=True),
                name="one_open_credit_hold",
            )
        ]


class PredictionModel(models.Model):
    """A company's trained payment-date model (credit.prediction): the three LightGBM boosters as
    their own text format, what they were trained on and how well they fit. Kept in the database,
    never on disk: every process and every machine of a deployment reads the same model. Rows are
    never changed; a new training adds a row, and scoring uses the latest."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    trained_at = models.DateTimeField()
    as_of = models.DateField(help_text="trained on what was known at the end of this day")
    window_from = models.DateField(help_text="the earliest settlement of a training row")
    window_to = models.DateField(help_text="the latest settlement of a training row")
    rows = models.PositiveIntegerField(help_text="paid invoices trained on")
    features = models.JSONField(default=list, help_text="feature names, in the model's order")
    params = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    point_model = models.TextField(help_text="median lateness (LightGBM text format)")
    low_model = models.TextField(help_text="10th percentile of lateness")
    high_model = models.TextField(help_text="90th percentile of lateness")

    class Meta:
        indexes = [models.Index(fields=["company", "trained_at"])]


class PaymentPrediction(models.Model):
    """The predicted payment date of one open invoice, from the company's latest scoring run.

    One row per invoice open at the end of `as_of`; a scoring run replaces all of a company's rows
    at once. The reports read it set-based: the 13-week cash forecast sums `open_minor` per
    currency and week of `predicted_on` (`low_on`/`high_on` for the interval), the worklist
    orders by `lateness_days`; (company, predicted_on) is the forecast's index. `open_minor` is
    the amount open when scored: a report that wants today's amount joins the item."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    item = models.OneToOneField(OpenItem, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    model = models.ForeignKey(PredictionModel, on_delete=models.PROTECT, related_name="+")
    as_of = models.DateField(help_text="scored as of the end of this day")
    scored_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    open_minor = models.BigIntegerField(help_text="open at the end of as_of, in its currency")
    due_on = models.DateField()
    predicted_on = models.DateField(help_text="the median predicted payment date")
    low_on = models.DateField(help_text="10th percentile: paid by then one time in ten")
    high_on = models.DateField(help_text="90th percentile")
    lateness_days = models.IntegerField(help_text="predicted_on - due_on")

    class Meta:
        indexes = [
            models.Index(fields=["company", "predicted_on"], name="prediction_forecast"),
            models.Index(fields=["company", "customer"], name="prediction_customer"),
        ]
