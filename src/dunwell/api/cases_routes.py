"""The cases' routes: disputes, promises to pay (read, and opened by another system) and
payment plans with their instalments."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from dunwell.api.common import (
    CURRENCY,
    DETAIL_ERRORS,
    KEY,
    KEYED,
    READ_ERRORS,
    TEXT,
    WRITE_ERRORS,
    Amount,
    Body,
    Day,
    Paging,
    RecordId,
    check_choice,
    check_day,
    choice_field,
    customer_named,
    found_or_404,
    idempotent,
    in_range,
    items_named,
    key_field,
    page,
    read,
    token_of,
)
from dunwell.cases.models import (
    Dispute,
    DisputeReason,
    DisputeState,
    PaymentPlan,
    PlanState,
    PromiseState,
    PromiseToPay,
)
from dunwell.cases.services.disputes import open_dispute
from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.workflows.promises import open_promise

router = Router(tags=["cases"])

MAX_NAMED = 500  # invoices one dispute or promise names


# -- disputes ----------------------------------------------------------------------------------


class DisputedOut(Schema):
    invoice: str
    currency: str
    amount_minor: int = Field(description="the part of the invoice disputed")


class DisputeOut(Schema):
    id: int
    customer: str
    reason: str
    state: str
    resolution: str = Field(description="once resolved: credit_note, adjusted or rejected")
    note: str
    opened_on: date
    due_by: date | None = Field(description="to be resolved by")
    resolved_on: date | None
    items: list[DisputedOut]


class DisputePage(Schema):
    items: list[DisputeOut]
    next: str | None


def dispute_row(d: Dispute) -> dict[str, Any]:
    return {"id": d.pk, "customer": d.customer.account_number, "reason": d.reason,
            "state": d.state, "resolution": d.resolution, "note": d.note,
            "opened_on": d.opened_on, "due_by": d.due_by, "resolved_on": d.resolved_on,
            "items": [{"invoice": p.item.number, "currency": p.item.currency,
                       "amount_minor": p.amount_minor} for p in d.items.all()]}  # fmt: skip


def disputes_of(company: Company) -> Any:
    return (Dispute.objects.filter(company=company).select_related("customer")
            .prefetch_related("items__item"))  # fmt: skip


DISPUTE_STATES, REASONS = list(DisputeState.values), list(DisputeReason.values)


class DisputeFilters(Paging):
    customer: str = key_field("the customer's account number", 40)
    state: str = choice_field(DISPUTE_STATES, "open, investigating or resolved")
    reason: str = choice_field(REASONS, "what the customer disputes")
    opened_from: Day | None = None
    opened_to: Day | None = None


@router.get("/disputes", response={200: DisputePage, **READ_ERRORS})
def disputes(request: HttpRequest, filters: Query[DisputeFilters]) -> Any:
    """Disputes with the invoices and amounts in dispute (paused in dunning while not resolved)."""
    rows = disputes_of(read(request))
    if filters.customer:
        rows = rows.filter(customer__account_number=filters.customer)
    if check_choice(filters.state, DISPUTE_STATES, "state"):
        rows = rows.filter(state=filters.state)
    if check_choice(filters.reason, REASONS, "reason"):
        rows = rows.filter(reason=filters.reason)
    rows = in_range(rows, "opened_on", filters.opened_from, filters.opened_to)
    return page(rows, filters, dispute_row)


@router.get("/disputes/{dispute_id}", response={200: DisputeOut, **DETAIL_ERRORS})
def dispute(request: HttpRequest, dispute_id: RecordId) -> Any:
    found = disputes_of(read(request)).filter(pk=dispute_id).first()
    return dispute_row(found_or_404(found, f"dispute {dispute_id}"))


class DisputedIn(Body):
    number: str = Field(max_length=60, pattern=KEY)
    amount_minor: Amount | None = Field(None, description="the part disputed; empty: all open")


class DisputeIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer": "C001",
                    "invoices": [{"number": "INV-2", "amount_minor": 10000}],
                    "reason": "quantity",
                    "comment": "2 of 10 pallets missing",
                }
            ]
        }
    )

    customer: str = Field(max_length=40, pattern=KEY, description="the account number")
    invoices: list[DisputedIn] = Field(min_length=1, max_length=MAX_NAMED)
    reason: DisputeReason
    comment: str = Field("", max_length=2000, pattern=TEXT)
    due_by: Day | None = Field(None, description="to be resolved by")


@router.post("/disputes", response={201: DisputeOut, **WRITE_ERRORS}, openapi_extra=KEYED)
@idempotent
def raise_dispute(request: HttpRequest, data: DisputeIn) -> tuple[int, dict[str, Any]]:
    """A dispute about invoices (each in full, or a part): dunning pauses for those amounts
    until it is resolved; the rest of the account keeps its cadence."""
    company = token_of(request).company
    check_day(data.due_by, "due_by")
    found = customer_named(company, data.customer)
    if len({i.number for i in data.invoices}) != len(data.invoices):
        raise DunwellError(ErrorCode.INVALID, "an invoice is named twice", field="invoices")
    items = items_named(company, found, [i.number for i in data.invoices])
    made = open_dispute(
        company=company, customer=found,
        items=[(item, named.amount_minor) for item, named in zip(items, data.invoices, strict=True)],
        reason=data.reason, note=data.comment.strip(), due_by=data.due_by, actor=None,
        on=clock.today(company), at=clock.now(),
    )  # fmt: skip
    return 201, dispute_row(disputes_of(company).get(pk=made.pk))


# -- promises to pay ---------------------------------------------------------------------------


class PromiseOut(Schema):
    id: int
    customer: str
    amount_minor: int
    currency: str
    promised_on: date = Field(description="the money is to arrive by")
    state: str
    grace_days: int
    promised_by: str
    channel: str
    paid_minor: int = Field(description="allocated towards it so far")
    made_on: date
    decided_on: date | None
    invoices: list[str] = Field(description="empty: the account in its currency")
    note: str


class PromisePage(Schema):
    items: list[PromiseOut]
    next: str | None


def promise_row(p: PromiseToPay) -> dict[str, Any]:
    return {"id": p.pk, "customer": p.customer.account_number, "amount_minor": p.amount_minor,
            "currency": p.currency, "promised_on": p.promised_on, "state": p.state,
            "grace_days": p.grace_days, "promised_by": p.promised_by, "channel": p.channel,
            "paid_minor": p.paid_minor, "made_on": p.made_on, "decided_on": p.decided_on,
            "invoices": sorted(i.item.number for i in p.promised.all()), "note": p.note}  # fmt: skip


def promises_of(company: Company) -> Any:
    return (PromiseToPay.objects.filter(company=company).select_related("customer")
            .prefetch_related("promised__item"))  # fmt: skip


PROMISE_STATES = list(PromiseState.values)


class PromiseFilters(Paging):
    customer: str = key_field("the customer's account number", 40)
    state: str = choice_field(PROMISE_STATES, "open, kept, partly_kept, broken or cancelled")
    promised_from: Day | None = None
    promised_to: Day | None = None


@router.get("/promises", response={200: PromisePage, **READ_ERRORS})
def promises(request: HttpRequest, filters: Query[PromiseFilters]) -> Any:
    """Promises to pay, whatever their channel, with what has been paid towards each."""
    rows = promises_of(read(request))
    if filters.customer:
        rows = rows.filter(customer__account_number=filters.customer)
    if check_choice(filters.state, PROMISE_STATES, "state"):
        rows = rows.filter(state=filters.state)
    rows = in_range(rows, "promised_on", filters.promised_from, filters.promised_to)
    return page(rows, filters, promise_row)


@router.get("/promises/{promise_id}", response={200: PromiseOut, **DETAIL_ERRORS})
def promise(request: HttpRequest, promise_id: RecordId) -> Any:
    found = promises_of(read(request)).filter(pk=promise_id).first()
    return promise_row(found_or_404(found, f"promise {promise_id}"))


class PromiseIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer": "C001",
                    "invoices": ["INV-2"],
                    "amount_minor": 30000,
                    "currency": "EUR",
                    "promised_on": "2026-12-04",
                    "promised_by": "Petra Bauer",
                }
            ]
        }
    )

    customer: str = Field(max_length=40, pattern=KEY, description="the account number")
    invoices: list[Annotated[str, Field(max_length=60, pattern=KEY)]] = Field(
        [], max_length=MAX_NAMED, description="empty: the account in `currency`")  # fmt: skip
    amount_minor: Amount
    currency: str = Field(pattern=CURRENCY)
    promised_on: Day
    promised_by: str = Field(min_length=1, max_length=120, pattern=KEY,
                             description="who promised, at the customer")  # fmt: skip
    note: str = Field("", max_length=2000, pattern=TEXT)


@router.post("/promises", response={201: PromiseOut, **WRITE_ERRORS}, openapi_extra=KEYED)
@idempotent
def make_promise(request: HttpRequest, data: PromiseIn) -> tuple[int, dict[str, Any]]:
    """A promise to pay (channel "api"); reminders not yet sent for its invoices are withdrawn."""
    company = token_of(request).company
    check_day(data.promised_on, "promised_on")
    found = customer_named(company, data.customer)
    items = items_named(company, found, sorted(set(data.invoices)))
    made = open_promise(company=company, customer=found, amount_minor=data.amount_minor,
                        currency=data.currency.upper(), promised_on=data.promised_on,
                        promised_by=data.promised_by, channel="api", items=items,
                        note=data.note, actor=None, on=clock.today(company), at=clock.now())  # fmt: skip
    return 201, promise_row(promises_of(company).get(pk=made.pk))


# -- payment plans -----------------------------------------------------------------------------


class PlannedOut(Schema):
    invoice: str
    amount_minor: int = Field(description="open when the plan was agreed")


class InstalmentOut(Schema):
    sequence: int
    due_on: date
    amount_minor: int
    paid_minor: int
    state: str = Field(description="due, paid, partly_paid or missed")
    settled_on: date | None


class PlanOut(Schema):
    id: int
    customer: str
    currency: str
    state: str
    principal_minor: int = Field(description="the covered debt when agreed")
    interest_minor: int
    fee_minor: int
    total_minor: int = Field(description="principal + interest + fee: the instalments")
    interest_percent: str | None = Field(description="a year, simple (exact decimal)")
    grace_days: int
    agreed_on: date
    agreed_by: str
    ended_on: date | None
    note: str
    invoices: list[PlannedOut]
    instalments: list[InstalmentOut]


class PlanPage(Schema):
    items: list[PlanOut]
    next: str | None


def plan_row(p: PaymentPlan) -> dict[str, Any]:
    return {"id": p.pk, "customer": p.customer.account_number, "currency": p.currency,
            "state": p.state, "principal_minor": p.principal_minor,
            "interest_minor": p.interest_minor, "fee_minor": p.fee_minor,
            "total_minor": p.total_minor,
            "interest_percent": None if p.interest_percent is None else str(p.interest_percent),
            "grace_days": p.grace_days, "agreed_on": p.agreed_on, "agreed_by": p.agreed_by,
            "ended_on": p.ended_on, "note": p.note,
            "invoices": [{"invoice": c.item.number, "amount_minor": c.amount_minor}
                         for c in p.covered.all()],
            "instalments": [{"sequence": i.sequence, "due_on": i.due_on,
                             "amount_minor": i.amount_minor, "paid_minor": i.paid_minor,
                             "state": i.state, "settled_on": i.settled_on}
                            for i in p.instalments.all()]}  # fmt: skip


def plans_of(company: Company) -> Any:
    return (PaymentPlan.objects.filter(company=company).select_related("customer")
            .prefetch_related("covered__item", "instalments"))  # fmt: skip


PLAN_STATES = list(PlanState.values)


class PlanFilters(Paging):
    customer: str = key_field("the customer's account number", 40)
    state: str = choice_field(PLAN_STATES, "proposed, active, completed, defaulted or cancelled")
    agreed_from: Day | None = None
    agreed_to: Day | None = None


@router.get("/plans", response={200: PlanPage, **READ_ERRORS})
def plans(request: HttpRequest, filters: Query[PlanFilters]) -> Any:
    """Payment plans: the invoices each covers and its instalments, paid or not."""
    rows = plans_of(read(request))
    if filters.customer:
        rows = rows.filter(customer__account_number=filters.customer)
    if check_choice(filters.state, PLAN_STATES, "state"):
        rows = rows.filter(state=filters.state)
    rows = in_range(rows, "agreed_on", filters.agreed_from, filters.agreed_to)
    return page(rows, filters, plan_row)


@router.get("/plans/{plan_id}", response={200: PlanOut, **DETAIL_ERRORS})
def plan(request: HttpRequest, plan_id: RecordId) -> Any:
    found = plans_of(read(request)).filter(pk=plan_id).first()
    return plan_row(found_or_404(found, f"plan {plan_id}"))
