"""Credit's routes: open sales orders reported by the order system (they count towards the
customer's exposure until closed), and each customer's credit standing: limit, exposure, hold and
risk score, so that the order system can stop an order the policy would hold."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.params import functions as param

from dunwell.api.common import (
    DETAIL_ERRORS,
    KEY,
    KEYED,
    MAYBE_CURRENCY,
    READ_ERRORS,
    WRITE_ERRORS,
    ApiError,
    Body,
    Day,
    Minor,
    Paging,
    check_choice,
    check_day,
    choice_field,
    customer_named,
    found_or_404,
    idempotent,
    key_field,
    page,
    read,
    token_of,
)
from dunwell.core import clock
from dunwell.core.models import Company
from dunwell.credit.models import CreditHold, OpenOrder, OrderState, RiskScore
from dunwell.credit.services.exposure import exposures
from dunwell.credit.services.policy import check_credit
from dunwell.ledger.models import Customer

router = Router(tags=["credit"])
OrderId = Annotated[str, param.Path(max_length=80, pattern=KEY)]
AccountNumber = Annotated[str, param.Path(max_length=40, pattern=KEY)]
ORDER_STATES = list(OrderState.values)
BANDS = ["low", "medium", "high"]


class OrderOut(Schema):
    external_id: str
    customer: str
    currency: str
    open_minor: int = Field(description="ordered and not yet invoiced")
    state: str = Field(description="open or closed (invoiced or cancelled)")
    ordered_on: date


class OrderPage(Schema):
    items: list[OrderOut]
    next: str | None


def order_row(order: OpenOrder) -> dict[str, Any]:
    return {"external_id": order.external_id, "customer": order.customer.account_number,
            "currency": order.currency, "open_minor": order.open_minor, "state": order.state,
            "ordered_on": order.ordered_on}  # fmt: skip


class OrderFilters(Paging):
    customer: str = key_field("the customer's account number", 40)
    state: str = choice_field(ORDER_STATES, "open or closed")


@router.get("/orders", response={200: OrderPage, **READ_ERRORS})
def orders(request: HttpRequest, filters: Query[OrderFilters]) -> Any:
    """The sales orders the order system reported, open or closed."""
    rows = OpenOrder.objects.filter(company=read(request)).select_related("customer")
    if filters.customer:
        rows = rows.filter(customer__account_number=filters.customer)
    if check_choice(filters.state, ORDER_STATES, "state"):
        rows = rows.filter(state=filters.state)
    return page(rows, filters, order_row)


@router.get("/orders/{external_id}", response={200: OrderOut, **DETAIL_ERRORS})
def order(request: HttpRequest, external_id: OrderId) -> Any:
    found = OpenOrder.objects.filter(company=read(request), external_id=external_id)
    return order_row(found_or_404(found.select_related("customer").first(),
                                  f"order {external_id!r}"))  # fmt: skip


class OrderIn(Body):
    external_id: str = Field(min_length=1, max_length=80, pattern=KEY)
    customer: str = Field(min_length=1, max_length=40, pattern=KEY)
    currency: str = Field("", pattern=MAYBE_CURRENCY, description="empty: the customer's")
    open_minor: Minor = Field(description="what is ordered and not yet invoiced now")
    state: str = Field("open", description="open, or closed once invoiced or cancelled")
    ordered_on: Day


class CreditOut(Schema):
    customer: str
    currency: str
    limit_minor: int | None = Field(description="empty: no limit")
    open_minor: int = Field(description="open items in the customer's currency")
    unapplied_minor: int = Field(description="cash received and not yet applied")
    orders_minor: int = Field(description="open sales orders")
    exposure_minor: int = Field(description="open - unapplied + orders")
    over_limit_minor: int
    oldest_days_past_due: int = Field(description="of the oldest undisputed invoice")
    on_hold: bool
    hold_reason: str | None
    hold_source: str | None
    score: int | None = Field(description="0-100, the higher the better payer; empty: too new")
    band: str | None = Field(description="low, medium or high risk")
    score_explanation: str | None


class OrderAnswer(OrderOut):
    credit: CreditOut


def credit_rows(company: Company, customers: list[Customer]) -> list[dict[str, Any]]:
    """The credit standing of `customers`, in their order, in five queries."""
    ids = [c.pk for c in customers]
    found = exposures(company, clock.today(company), ids)
    holds = {h.customer_id: h for h in CreditHold.objects.filter(customer_id__in=ids,
                                                                 released_on__isnull=True)}  # fmt: skip
    scores = {s.customer_id: s for s in RiskScore.objects.filter(customer_id__in=ids)}
    rows = []
    for customer in customers:
        e, hold, score = found[customer.pk], holds.get(customer.pk), scores.get(customer.pk)
        rows.append({
            "customer": customer.account_number, "currency": e.currency,
            "limit_minor": e.limit_minor, "open_minor": e.open_minor,
            "unapplied_minor": e.unapplied_minor, "orders_minor": e.orders_minor,
            "exposure_minor": e.total_minor, "over_limit_minor": e.over_limit_minor,
            "oldest_days_past_due": e.oldest_days, "on_hold": hold is not None,
            "hold_reason": hold.reason if hold else None,
            "hold_source": hold.source if hold else None,
            "score": score.value if score else None,
            "band": (score.band or None) if score else None,
            "score_explanation": score.explanation if score else None,
        })  # fmt: skip
    return rows


@router.post("/orders", response={200: OrderAnswer, 201: OrderAnswer, **WRITE_ERRORS},
             openapi_extra=KEYED)  # fmt: skip
@idempotent
def report_order(request: HttpRequest, data: OrderIn) -> tuple[int, dict[str, Any]]:
    """A sales order reported by the order system: new (201), or the same `external_id` again
    with what is open of it now (200; `closed` once invoiced or cancelled). The customer's
    credit is checked at once: the answer's `credit` says whether the policy holds it."""
    company = token_of(request).company
    check_day(data.ordered_on, "ordered_on")
    check_choice(data.state, ORDER_STATES, "state")
    customer = customer_named(company, data.customer)
    currency = (data.currency or customer.currency).upper()
    if currency != customer.currency:
        raise ApiError(400, "invalid", f"an order is in the customer's currency "
                       f"({customer.currency}), not {currency}", "currency")  # fmt: skip
    with transaction.atomic():
        existing = (OpenOrder.objects.select_for_update().filter(company=company,
                    external_id=data.external_id).first())  # fmt: skip
        if existing is not None and existing.customer_id != customer.pk:
            raise ApiError(409, "conflict", f"order {data.external_id!r} is "
                           f"{existing.customer.account_number}'s", "customer")  # fmt: skip
        values = {"customer": customer, "currency": currency, "open_minor": data.open_minor,
                  "state": data.state, "ordered_on": data.ordered_on, "reported_at": clock.now()}  # fmt: skip
        made, created = OpenOrder.objects.update_or_create(
            company=company, external_id=data.external_id, defaults=values
        )
        check_credit(company=company, on=clock.today(company), at=clock.now(),
                     customer_ids=[customer.pk])  # fmt: skip
    (standing,) = credit_rows(company, [customer])
    return (201 if created else 200), {**order_row(made), "credit": standing}


class CreditPage(Schema):
    items: list[CreditOut]
    next: str | None


class CreditFilters(Paging):
    customer: str = key_field("the customer's account number", 40)
    band: str = choice_field(BANDS, "low, medium or high risk")
    on_hold: bool | None = None


@router.get("/credit", response={200: CreditPage, **READ_ERRORS})
def credit(request: HttpRequest, filters: Query[CreditFilters]) -> Any:
    """Each customer's credit standing: limit, exposure, hold, risk score."""
    company = read(request)
    rows = Customer.objects.filter(company=company)
    if filters.customer:
        rows = rows.filter(account_number=filters.customer)
    if check_choice(filters.band, BANDS, "band"):
        rows = rows.filter(pk__in=RiskScore.objects.filter(company=company, band=filters.band)
                           .values("customer_id"))  # fmt: skip
    if filters.on_hold is not None:
        held = CreditHold.objects.filter(company=company, released_on__isnull=True)
        rows = (rows.filter(pk__in=held.values("customer_id")) if filters.on_hold
                else rows.exclude(pk__in=held.values("customer_id")))  # fmt: skip
    answer = page(rows, filters, lambda c: c)
    answer["items"] = credit_rows(company, answer["items"])
    return answer


@router.get("/credit/{account_number}", response={200: CreditOut, **DETAIL_ERRORS})
def credit_of(request: HttpRequest, account_number: AccountNumber) -> Any:
    """One customer's credit standing."""
    company = read(request)
    (row,) = credit_rows(company, [customer_named(company, account_number, "account_number")])
    return row
