"""Credit (issue 3 point 4, issue 7 points 2 and 3): the hold that says "sell no more on credit to
this customer", the limits and their history, the open orders that add to the exposure, the risk
scores, the policy that places and releases holds by itself, credit applications, and the
payment-date models with the predictions they make (`credit.prediction`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
    override_until = models.DateField(
        null=True, blank=True,
        help_text="released by a person against the policy: no automatic hold again until then",
    )  # fmt: skip

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


class CreditPolicy(models.Model):
    """When holds are placed and released by themselves, and how often limits are reviewed; a
    company without a row of its own has the defaults."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+")
    hold_over_limit = models.BooleanField(default=True, help_text="hold when exposure > limit")
    hold_after_days = models.PositiveSmallIntegerField(
        null=True, blank=True, default=60,
        help_text="hold when an undisputed invoice is more than this many days past due (empty: never)",
    )  # fmt: skip
    review_months = models.PositiveSmallIntegerField(default=12)
    high_risk_review_months = models.PositiveSmallIntegerField(default=3)
    override_days = models.PositiveSmallIntegerField(
        default=30, help_text="how long a person's release keeps the automatic hold away"
    )


class CreditLimitChange(models.Model):
    """Each change of a customer's limit (the current one is `Customer.credit_limit_minor`)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    previous_minor = models.BigIntegerField(null=True, blank=True)
    limit_minor = models.BigIntegerField(null=True, blank=True, help_text="empty: no limit")
    currency = models.CharField(max_length=3)
    on = models.DateField()
    at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    source = models.CharField(max_length=40, help_text="by hand, application 7, review ...")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["customer", "-on"], name="credit_limit_changes")]


class OrderState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class OpenOrder(models.Model):
    """A sales order not yet invoiced, reported by the order system through the API: its open
    amount counts towards the customer's exposure until it is closed (invoiced or cancelled)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(max_length=80)
    currency = models.CharField(max_length=3)
    open_minor = models.BigIntegerField(help_text="ordered and not yet invoiced")
    state = models.CharField(max_length=6, choices=OrderState.choices, default=OrderState.OPEN)
    ordered_on = models.DateField()
    reported_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "external_id"], name="one_order_per_id"),
            models.CheckConstraint(
                condition=models.Q(open_minor__gte=0), name="order_open_positive"
            ),
        ]
        indexes = [models.Index(fields=["customer", "state"], name="open_orders")]


class RiskScore(models.Model):
    """A customer's current risk score (`credit.rules.score`), refreshed set-based."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    scored_at = models.DateTimeField()
    value = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="empty: too little history"
    )
    band = models.CharField(max_length=6, blank=True)
    payment_index = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    dbt_days = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    experiences = models.PositiveIntegerField(default=0)
    components = models.JSONField(default=dict)
    explanation = models.CharField(max_length=300)

    class Meta:
        indexes = [models.Index(fields=["company", "value"], name="risk_scores")]


class ApplicationState(models.TextChoices):
    RECEIVED = "received", _("Received")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class CreditApplication(models.Model):
    """A new customer's application for credit: what it states, the trade references and the
    bureau's figures, and the credit manager's decision (approval sets the limit)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField()
    currency = models.CharField(max_length=3)
    requested_minor = models.BigIntegerField()
    net_worth_minor = models.BigIntegerField(null=True, blank=True)
    working_capital_minor = models.BigIntegerField(null=True, blank=True)
    annual_sales_minor = models.BigIntegerField(null=True, blank=True)
    monthly_purchases_minor = models.BigIntegerField(null=True, blank=True)
    terms_days = models.PositiveSmallIntegerField(null=True, blank=True)
    expected_delay_days = models.PositiveSmallIntegerField(default=0)
    trade_references = models.JSONField(
        default=list, help_text="[{name, contact, high_credit_minor, terms, pays}]"
    )
    bureau = models.CharField(max_length=80, blank=True, help_text="e.g. Creditreform, D&B")
    bureau_score = models.CharField(max_length=20, blank=True, help_text="as the bureau gives it")
    bureau_limit_minor = models.BigIntegerField(null=True, blank=True)
    bureau_report_on = models.DateField(null=True, blank=True)
    state = models.CharField(
        max_length=8, choices=ApplicationState.choices, default=ApplicationState.RECEIVED
    )
    decided_minor = models.BigIntegerField(null=True, blank=True)
    decided_on = models.DateField(null=True, blank=True)
    decision_reason = models.CharField(max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
