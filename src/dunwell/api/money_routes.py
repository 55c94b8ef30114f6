"""The money's routes: payments (read, and received from another system), allocations (what
settled which item), and the account history (activities)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.params import functions as param
from pydantic import ConfigDict, StrictBool

from dunwell.api.common import (
    DETAIL_ERRORS,
    KEY,
    KEYED,
    MAYBE_CURRENCY,
    READ_ERRORS,
    WRITE_ERRORS,
    Amount,
    ApiError,
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
from dunwell.core import clock
from dunwell.ledger.models import (
    Activity,
    ActivityKind,
    Allocation,
    AllocationKind,
    Payment,
    PaymentMethod,
)
from dunwell.ledger.services.payments import PaymentInput
from dunwell.workflows.payments import receive_and_apply

router = Router()

ExternalId = Annotated[str, param.Path(max_length=80, pattern=KEY)]
MAX_NAMED = 500  # invoices one payment names


# -- allocations -------------------------------------------------------------------------------


class AllocationOut(Schema):
    id: int
    kind: str = Field(description="payment, credit, discount, write_off, void or refund")
    customer: str
    item: str = Field(description="the number of the item it settled")
    item_kind: str
    currency: str = Field(description="the item's")
    amount_minor: int = Field(description="what it took off the item's open amount (signed)")
    payment: str | None = Field(description="the payment's external id")
    payment_currency: str | None
    payment_amount_minor: int | None = Field(description="in the payment's currency")
    fx_rate: str | None = Field(description="units of the item's currency for one of the "
                                "payment's, when they differ (exact decimal)")  # fmt: skip
    counter_item: str | None = Field(description="the other side of a credit-note application")
    reversal_of: int | None
    effective_on: date
    recorded_at: datetime
    note: str


class AllocationPage(Schema):
    items: list[AllocationOut]
    next: str | None


def allocation_row(a: Allocation) -> dict[str, Any]:
    paid = a.payment
    return {"id": a.pk, "kind": a.kind, "customer": a.customer.account_number,
            "item": a.target.number, "item_kind": a.target.kind, "currency": a.currency,
            "amount_minor": a.amount_minor, "payment": paid.external_id if paid else None,
            "payment_currency": paid.currency if paid else None,
            "payment_amount_minor": a.payment_amount_minor,
            "fx_rate": None if a.fx_rate is None else str(a.fx_rate),
            "counter_item": a.counter_item.number if a.counter_item else None,
            "reversal_of": a.reversal_of_id, "effective_on": a.effective_on,
            "recorded_at": a.recorded_at, "note": a.note}  # fmt: skip


ALLOCATION_KINDS = list(AllocationKind.values)


def allocations_of(company: Any) -> Any:
    return Allocation.objects.filter(company=company).select_related(
        "customer", "target", "payment", "counter_item")  # fmt: skip


class AllocationFilters(Paging):
    customer: str = key_field("the customer's account number", 40)
    item: str = key_field("the number of the item settled")
    payment: str = key_field("the payment's external id", 80)
    kind: str = choice_field(ALLOCATION_KINDS, "what settled the item")
    effective_from: Day | None = None
    effective_to: Day | None = None


@router.get("/allocations", response={200: AllocationPage, **READ_ERRORS}, tags=["payments"])
def allocations(request: HttpRequest, filters: Query[AllocationFilters]) -> Any:
    """What settled which item, by how much, from which day: payments, credit notes applied,
    discounts, write-offs, voids, refunds; a reversal is a row of the opposite sign."""
    rows = allocations_of(read(request))
    if filters.customer:
        rows = rows.filter(customer__account_number=filters.customer)
    if filters.item:
        rows = rows.filter(target__number=filters.item)
    if filters.payment:
        rows = rows.filter(payment__external_id=filters.payment)
    if check_choice(filters.kind, ALLOCATION_KINDS, "kind"):
        rows = rows.filter(kind=filters.kind)
    rows = in_range(rows, "effective_on", filters.effective_from, filters.effective_to)
    return page(rows, filters, allocation_row)


@router.get("/allocations/{allocation_id}", response={200: AllocationOut, **DETAIL_ERRORS},
            tags=["payments"])  # fmt: skip
def allocation(request: HttpRequest, allocation_id: RecordId) -> Any:
    found = allocations_of(read(request)).filter(pk=allocation_id).first()
    return allocation_row(found_or_404(found, f"allocation {allocation_id}"))


# -- payments ----------------------------------------------------------------------------------


class PaymentOut(Schema):
    external_id: str
    customer: str
    value_on: date
    currency: str
    amount_minor: int
    unapplied_minor: int = Field(description="not yet allocated: cash on the account")
    method: str
    reference: str
    payer_name: str
    settled_on: date | None = Field(description="fully applied from this day")
    voided_on: date | None
    void_reason: str


class PaymentPage(Schema):
    items: list[PaymentOut]
    next: str | None


def payment_row(p: Payment) -> dict[str, Any]:
    return {"external_id": p.external_id, "customer": p.customer.account_number,
            "value_on": p.value_on, "currency": p.currency, "amount_minor": p.amount_minor,
            "unapplied_minor": p.unapplied_minor, "method": p.method, "reference": p.reference,
            "payer_name": p.payer_name, "settled_on": p.settled_on, "voided_on": p.voided_on,
            "void_reason": p.void_reason}  # fmt: skip


class PaymentFilters(Paging):
    customer: str = key_field("the customer's account number", 40)
    currency: str = Field("", pattern=MAYBE_CURRENCY, description="ISO 4217, e.g. EUR")
    unapplied: bool | None = Field(None, description="true: some of it is not yet allocated")
    voided: bool | None = None
    value_from: Day | None = None
    value_to: Day | None = None


@router.get("/payments", response={200: PaymentPage, **READ_ERRORS}, tags=["payments"])
def payments(request: HttpRequest, filters: Query[PaymentFilters]) -> Any:
    """Payments received, with what of each is still unapplied."""
    rows = Payment.objects.filter(company=read(request)).select_related("customer")
    if filters.customer:
        rows = rows.filter(customer__account_number=filters.customer)
    if filters.currency:
        rows = rows.filter(currency=filters.currency.upper())
    if filters.unapplied is not None:
        rows = rows.filter(unapplied_minor__gt=0) if filters.unapplied else rows.filter(
            unapplied_minor=0)  # fmt: skip
    if filters.voided is not None:
        rows = rows.filter(voided_on__isnull=not filters.voided)
    rows = in_range(rows, "value_on", filters.value_from, filters.value_to)
    return page(rows, filters, payment_row)


@router.get("/payments/{rest:external_id}", response={200: PaymentOut, **DETAIL_ERRORS},
            tags=["payments"])  # fmt: skip
def payment(request: HttpRequest, external_id: ExternalId) -> Any:
    rows = Payment.objects.filter(company=read(request), external_id=external_id)
    return payment_row(found_or_404(rows.select_related("customer").first(),
                                    f"payment {external_id!r}"))  # fmt: skip


class Applied(Body):
    number: str = Field(max_length=60, pattern=KEY)
    amount_minor: Amount | None = Field(None, description="in the invoice's currency; empty: "
                                        "what is open, as far as the payment reaches")  # fmt: skip


class PaymentIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer": "C001",
                    "external_id": "ERP-4711",
                    "value_on": "2026-11-20",
                    "amount_minor": 60000,
                    "invoices": [{"number": "INV-1"}],
                }
            ]
        }
    )

    customer: str = Field(max_length=40, pattern=KEY, description="the account number")
    external_id: str = Field(min_length=1, max_length=80, pattern=KEY,
                             description="the payment's id in the other system (unique)")  # fmt: skip
    value_on: Day = Field(description="the day the money arrived")
    amount_minor: Amount
    currency: str = Field("", pattern=MAYBE_CURRENCY, description="empty: the customer's")
    method: PaymentMethod = PaymentMethod.TRANSFER
    reference: str = Field("", max_length=140, pattern=KEY)
    payer_name: str = Field("", max_length=140, pattern=KEY)
    payer_iban: str = Field("", max_length=34, pattern=KEY)
    invoices: list[Applied] = Field([], max_length=MAX_NAMED,
                                    description="apply it to these, in this order")  # fmt: skip
    oldest_first: StrictBool = Field(False, description="without invoices: apply it to the open "
                               "invoices oldest due first (else it stays unapplied)")  # fmt: skip


class PaymentAnswer(PaymentOut):
    allocations: list[AllocationOut]


@router.post("/payments", response={201: PaymentAnswer, **WRITE_ERRORS}, openapi_extra=KEYED,
             tags=["payments"])  # fmt: skip
@idempotent
def record_payment(request: HttpRequest, data: PaymentIn) -> tuple[int, dict[str, Any]]:
    """A payment received (e.g. booked in the ERP), applied to the invoices named, or oldest
    first; the promises and plan instalments it pays are kept at once. The same
    `external_id` again is 409."""
    token = token_of(request)
    company = token.company
    check_day(data.value_on, "value_on")
    if data.invoices and data.oldest_first:
        raise ApiError(400, "invalid", "name invoices or ask for oldest_first, not both",
                       "oldest_first")  # fmt: skip
    found = customer_named(company, data.customer)
    items = items_named(company, found, [i.number for i in data.invoices])
    spec = PaymentInput(
        customer=found, external_id=data.external_id, value_on=data.value_on,
        currency=(data.currency or found.currency).upper(), amount_minor=data.amount_minor,
        method=data.method, reference=data.reference, payer_name=data.payer_name,
        payer_iban=data.payer_iban, source=f"API: {token.name}",
    )  # fmt: skip
    made, rows = receive_and_apply(
        company=company, spec=spec,
        items=[(item, named.amount_minor) for item, named in zip(items, data.invoices, strict=True)],
        oldest_first=data.oldest_first, actor=None, at=clock.now(),
    )  # fmt: skip
    applied = allocations_of(company).filter(pk__in=[r.pk for r in rows]).order_by("pk")
    return 201, {**payment_row(made), "allocations": [allocation_row(a) for a in applied]}


# -- the history -------------------------------------------------------------------------------

# The stable machine name of each kind of entry: its name in `ActivityKind`, in lower case.
ACTIVITY_KINDS = [kind.name.lower() for kind in ActivityKind]


class ActivityOut(Schema):
    id: int
    kind: str = Field(description="what happened, by a stable name: invoice_issued, …")
    on: date = Field(description="the business date it concerns")
    recorded_at: datetime
    customer: str | None
    item: str | None = Field(description="the number of the document it concerns")
    payment: str | None = Field(description="the external id of the payment it concerns")
    actor: str
    summary: str
    amount_minor: int | None
    currency: str


class ActivityPage(Schema):
    items: list[ActivityOut]
    next: str | None


def activity_row(a: Activity) -> dict[str, Any]:
    return {"id": a.pk, "kind": ActivityKind(a.kind).name.lower(), "on": a.on,
            "recorded_at": a.recorded_at,
            "customer": a.customer.account_number if a.customer else None,
            "item": a.item.number if a.item else None,
            "payment": a.payment.external_id if a.payment else None, "actor": a.actor_label,
            "summary": a.summary, "amount_minor": a.amount_minor, "currency": a.currency}  # fmt: skip


def activities_of(company: Any) -> Any:
    return Activity.objects.filter(company=company).select_related("customer", "item", "payment")


class ActivityFilters(Paging):
    customer: str = key_field("the customer's account number", 40)
    item: str = key_field("the number of the document")
    kind: str = choice_field(ACTIVITY_KINDS, "what happened")
    on_from: Day | None = None
    on_to: Day | None = None


@router.get("/activities", response={200: ActivityPage, **READ_ERRORS}, tags=["history"])
def activities(request: HttpRequest, filters: Query[ActivityFilters]) -> Any:
    """The accounts' history, append-only, in the order it was recorded: every document,
    payment, reminder, call, promise, dispute and correction."""
    rows = activities_of(read(request))
    if filters.customer:
        rows = rows.filter(customer__account_number=filters.customer)
    if filters.item:
        rows = rows.filter(item__number=filters.item)
    if check_choice(filters.kind, ACTIVITY_KINDS, "kind"):
        rows = rows.filter(kind=ActivityKind[filters.kind.upper()])
    rows = in_range(rows, "on", filters.on_from, filters.on_to)
    return page(rows, filters, activity_row)


@router.get("/activities/{activity_id}", response={200: ActivityOut, **DETAIL_ERRORS},
            tags=["history"])  # fmt: skip
def activity(request: HttpRequest, activity_id: RecordId) -> Any:
    found = activities_of(read(request)).filter(pk=activity_id).first()
    return activity_row(found_or_404(found, f"activity {activity_id}"))
