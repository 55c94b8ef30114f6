"""Credit limits set by a person, with a reason, on record; credit applications and their
decisions; periodic credit reviews as tasks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cases.models import Task, TaskKind, TaskState
from dunwell.cases.services.tasks import create_task
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company, Membership, Role
from dunwell.core.money import Money
from dunwell.credit.models import (
    ApplicationState,
    CreditApplication,
    CreditHold,
    CreditLimitChange,
    RiskScore,
)
from dunwell.credit.rules.limits import Financials, Suggestion, suggest
from dunwell.credit.rules.score import Band, months_before
from dunwell.credit.services.policy import check_credit, policy_of
from dunwell.ledger.models import ActivityKind, Customer
from dunwell.ledger.services import activity

REVIEW_SOURCE = "credit review"


def _money(minor: int | None, currency: str) -> str:
    return "no limit" if minor is None else str(Money.from_minor(minor, currency))


@transaction.atomic
def set_limit(
    *,
    company: Company,
    customer: Customer,
    limit_minor: int | None,
    reason: str,
    actor: User | None,
    on: date,
    at: datetime,
    source: str = "by hand",
) -> CreditLimitChange:
    """The customer's new limit (None: no limit), on record with why; the policy's holds are
    checked again for the customer at once (a raised limit releases an over-limit hold). The
    limit it already has, set again, records nothing and returns the change that set it."""
    if not reason.strip():
        raise DunwellError(ErrorCode.INVALID, "a credit limit needs a reason", field="reason")
    if limit_minor is not None and limit_minor < 0:
        raise DunwellError(ErrorCode.INVALID, "a credit limit cannot be negative", field="limit")
    if customer.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"{customer.account_number} is not "
                           f"{company.code}'s")  # fmt: skip
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    previous = locked.credit_limit_minor
    latest = CreditLimitChange.objects.filter(customer=customer).order_by("-at", "-pk").first()
    if previous == limit_minor and latest is not None and latest.limit_minor == limit_minor:
        return latest  # the same limit again (a re-run): nothing new to record
    Customer.objects.filter(pk=customer.pk).update(credit_limit_minor=limit_minor)
    customer.credit_limit_minor = limit_minor
    change = CreditLimitChange.objects.create(
        company=company, customer=customer, previous_minor=previous, limit_minor=limit_minor,
        currency=customer.currency, on=on, at=at, reason=reason.strip()[:200],
        source=source[:40], by=activity.stored_actor(actor),
    )  # fmt: skip
    activity.record(company=company, kind=ActivityKind.CREDIT_LIMIT_CHANGED, on=on, at=at,
                    actor=actor, customer=customer,
                    summary=f"credit limit {_money(previous, customer.currency)} -> "
                            f"{_money(limit_minor, customer.currency)}: {reason.strip()}",
                    data={"previous_minor": previous, "limit_minor": limit_minor,
                          "source": source})  # fmt: skip
    check_credit(company=company, on=on, at=at, customer_ids=[customer.pk])
    return change


@dataclass(frozen=True)
class ApplicationInput:
    requested_minor: int
    received_on: date
    net_worth_minor: int | None = None
    working_capital_minor: int | None = None
    annual_sales_minor: int | None = None
    monthly_purchases_minor: int | None = None
    terms_days: int | None = None
    expected_delay_days: int = 0
    trade_references: tuple[dict[str, Any], ...] = ()
    bureau: str = ""
    bureau_score: str = ""
    bureau_limit_minor: int | None = None
    bureau_report_on: date | None = None


REFERENCE_FIELDS = {"name", "contact", "high_credit_minor", "terms", "pays"}


def record_application(
    *, company: Company, customer: Customer, spec: ApplicationInput, actor: User | None,
    at: datetime,
) -> CreditApplication:  # fmt: skip
    if spec.requested_minor <= 0:
        raise DunwellError(ErrorCode.INVALID, "the limit asked for must be more than zero",
                           field="requested")  # fmt: skip
    for n, reference in enumerate(spec.trade_references, start=1):
        unknown = set(reference) - REFERENCE_FIELDS
        if unknown or not str(reference.get("name", "")).strip():
            raise DunwellError(ErrorCode.INVALID, f"trade reference {n}: needs a name and only "
                               f"{', '.join(sorted(REFERENCE_FIELDS))}"
                               + (f" (not {', '.join(sorted(unknown))})" if unknown else ""),
                               field="trade_references")  # fmt: skip
        high = reference.get("high_credit_minor")
        if high is not None and (not isinstance(high, int) or high < 0):
            raise DunwellError(ErrorCode.INVALID, f"trade reference {n}: high_credit_minor must "
                               "be a whole number of cents, zero or more",
                               field="trade_references")  # fmt: skip
    stated = {
        "received_on": spec.received_on, "requested_minor": spec.requested_minor,
        "net_worth_minor": spec.net_worth_minor,
        "working_capital_minor": spec.working_capital_minor,
        "annual_sales_minor": spec.annual_sales_minor,
        "monthly_purchases_minor": spec.monthly_purchases_minor, "terms_days": spec.terms_days,
        "expected_delay_days": spec.expected_delay_days,
        "trade_references": list(spec.trade_references), "bureau": spec.bureau,
        "bureau_score": spec.bureau_score, "bureau_limit_minor": spec.bureau_limit_minor,
        "bureau_report_on": spec.bureau_report_on,
    }  # fmt: skip
    with transaction.atomic():
        # one at a time per customer, so that the same application sent twice is recorded once
        Customer.objects.select_for_update().values_list("pk", flat=True).get(pk=customer.pk)
        same = CreditApplication.objects.filter(company=company, customer=customer, **stated)
        found = same.order_by("pk").first()
        if found is not None:
            return found
        return CreditApplication.objects.create(
            company=company, customer=customer, currency=customer.currency, created_at=at,
            created_by=activity.stored_actor(actor), **stated,
        )  # fmt: skip


def suggestion(application: CreditApplication) -> Suggestion:
    """What DOMAIN.md §6.1's methods make of the application (a suggestion, not a decision)."""
    references = [int(r["high_credit_minor"]) for r in application.trade_references
                  if r.get("high_credit_minor") is not None]  # fmt: skip
    return suggest(Financials(
        net_worth_minor=application.net_worth_minor,
        working_capital_minor=application.working_capital_minor,
        annual_sales_minor=application.annual_sales_minor,
        reference_limits_minor=references,
        monthly_purchases_minor=application.monthly_purchases_minor,
        terms_days=application.terms_days, expected_delay_days=application.expected_delay_days,
        external_limit_minor=application.bureau_limit_minor,
    ))  # fmt: skip


@transaction.atomic
def decide_application(
    *, application: CreditApplication, approve: bool, limit_minor: int | None, reason: str,
    actor: User | None, on: date, at: datetime,
) -> CreditApplication:  # fmt: skip
    """Approve (the limit is set, source "application N") or decline, once, with a reason."""
    locked = CreditApplication.objects.select_for_update().get(pk=application.pk)
    if locked.state != ApplicationState.RECEIVED:
        raise DunwellError(ErrorCode.CONFLICT, f"application {locked.pk} was already "
                           f"{locked.state} on {locked.decided_on}")  # fmt: skip
    if not reason.strip():
        raise DunwellError(ErrorCode.INVALID, "a decision needs a reason", field="reason")
    if approve and (limit_minor is None or limit_minor <= 0):
        raise DunwellError(ErrorCode.INVALID, "an approval needs the limit granted",
                           field="limit")  # fmt: skip
    locked.state = ApplicationState.APPROVED if approve else ApplicationState.DECLINED
    locked.decided_minor = limit_minor if approve else None
    locked.decided_on, locked.decision_reason = on, reason.strip()[:200]
    locked.decided_by = activity.stored_actor(actor)
    locked.save(update_fields=["state", "decided_minor", "decided_on", "decision_reason",
                               "decided_by"])  # fmt: skip
    if approve:
        set_limit(company=locked.company, customer=locked.customer, limit_minor=limit_minor,
                  reason=reason, actor=actor, on=on, at=at,
                  source=f"application {locked.pk}")  # fmt: skip
    return locked


def _reviewer(company: Company) -> User | None:
    """The company's first credit manager (by name), who reviews limits."""
    found = (
        Membership.objects.filter(company=company, role=Role.CREDIT_MANAGER)
        .select_related("user")
        .order_by("user__username")
        .first()
    )
    return found.user if found is not None else None


def schedule_reviews(*, company: Company, on: date, at: datetime) -> int:
    """A review task for each customer with a limit or a hold whose last review (limit change,
    review task done, or else its creation here) is older than the policy's months (fewer for a high-risk score); the
    number of tasks made. A review already open is not doubled; a re-run on the day makes none."""
    policy = policy_of(company)
    limited = set(Customer.objects.filter(company=company, credit_limit_minor__isnull=False)
                  .values_list("pk", flat=True))  # fmt: skip
    limited |= set(CreditHold.objects.filter(company=company, released_on__isnull=True)
                   .values_list("customer_id", flat=True))  # fmt: skip
    if not limited:
        return 0
    last: dict[int, date] = {}
    for customer_id, changed_on in CreditLimitChange.objects.filter(
        company=company, customer_id__in=limited
    ).values_list("customer_id", "on"):
        last[customer_id] = max(last.get(customer_id, changed_on), changed_on)
    reviews = Task.objects.filter(company=company, kind=TaskKind.REVIEW, source=REVIEW_SOURCE,
                                  customer_id__in=limited)  # fmt: skip
    open_reviews = set(reviews.filter(state=TaskState.OPEN).values_list("customer_id", flat=True))
    for customer_id, done_at in reviews.filter(state=TaskState.DONE).values_list(
        "customer_id", "done_at"
    ):
        if done_at is not None:
            last[customer_id] = max(last.get(customer_id, done_at.date()), done_at.date())
    high = set(RiskScore.objects.filter(company=company, band=Band.HIGH.value)
               .values_list("customer_id", flat=True))  # fmt: skip
    # never changed nor reviewed: as good as reviewed when it became a customer here
    for pk, created_at in Customer.objects.filter(pk__in=limited - set(last)).values_list(
        "pk", "created_at"
    ):
        last[pk] = created_at.date()
    due = []
    for customer_id in limited - open_reviews:
        months = policy.high_risk_review_months if customer_id in high else policy.review_months
        if last[customer_id] <= months_before(on, months):
            due.append(customer_id)
    reviewer = _reviewer(company)
    customers = Customer.objects.in_bulk(due)
    for customer_id in sorted(due):
        customer = customers[customer_id]
        limit = _money(customer.credit_limit_minor, customer.currency)
        create_task(company=company, customer=customer, kind=TaskKind.REVIEW,
                    title=f"Credit review: {customer.legal_name} (limit {limit})", due_on=on,
                    assignee=reviewer, source=REVIEW_SOURCE,
                    key=f"credit-review:{customer_id}:{on.isoformat()}", actor=None, at=at,
                    on=on)  # fmt: skip
    return len(due)
