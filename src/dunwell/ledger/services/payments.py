"""Receiving payments. Money not yet allocated stays on the account as unapplied cash."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, transaction

from dunwell.core.bulk import insert_instances
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.core.money import Money, MoneyError, check_currency
from dunwell.ledger.models import Activity, ActivityKind, Customer, Payment, PaymentMethod
from dunwell.ledger.services import activity


@dataclass(frozen=True)
class PaymentInput:
    customer: Customer
    external_id: str
    value_on: date
    currency: str
    amount_minor: int
    method: PaymentMethod = PaymentMethod.TRANSFER
    reference: str = ""
    payer_name: str = ""
    payer_iban: str = ""
    source: str = ""


def check_payment(spec: PaymentInput) -> None:
    try:
        check_currency(spec.currency)
    except MoneyError as exc:
        raise DunwellError(ErrorCode.UNKNOWN_CURRENCY, str(exc), field="currency") from None
    if spec.amount_minor <= 0:
        raise DunwellError(
            ErrorCode.INVALID, "a payment amount must be more than zero", field="amount"
        )


def build_payment(company: Company, spec: PaymentInput) -> Payment:
    check_payment(spec)
    return Payment(
        company=company,
        customer=spec.customer,
        external_id=spec.external_id,
        value_on=spec.value_on,
        currency=spec.currency.upper(),
        amount_minor=spec.amount_minor,
        method=spec.method,
        reference=spec.reference[:140],
        payer_name=spec.payer_name[:140],
        payer_iban=spec.payer_iban.replace(" ", "")[:34],
        source=spec.source,
        unapplied_minor=spec.amount_minor,
    )


def received_entry(
    payment: Payment,
    actor: User | None,
    at: datetime,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> Activity:
    """The PAYMENT_RECEIVED entry, unsaved; `note` (why it was recorded so, e.g. the bank-line
    match) is appended to the summary and `data` stored with it."""
    amount = Money.from_minor(payment.amount_minor, payment.currency)
    return activity.entry(
        company=payment.company,
        kind=ActivityKind.PAYMENT_RECEIVED,
        on=payment.value_on,
        at=at,
        actor=actor,
        customer=payment.customer,
        payment=payment,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        summary=f"Payment of {amount} received"
        + (f", reference {payment.reference}" if payment.reference else "")
        + (f"; {note}" if note else ""),
        data=data,
    )


@dataclass(frozen=True)
class Received:
    """A payment to record (`receive_payments`) with what its history entry says of it."""

    spec: PaymentInput
    note: str = ""
    data: dict[str, Any] | None = None


@transaction.atomic
def receive_payment(
    *,
    company: Company,
    spec: PaymentInput,
    actor: User | None,
    at: datetime,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> Payment:
    """Record a payment; the same `external_id` twice is refused (imports treat it as unchanged)."""
    return receive_payments(company=company, received=[Received(spec, note, data)], actor=actor,
                            at=at)[0]  # fmt: skip


@transaction.atomic
def receive_payments(
    *, company: Company, received: Sequence[Received], actor: User | None, at: datetime
) -> list[Payment]:
    """Record payments set-based (one insert of the payments, one of their history entries), in
    the given order. An `external_id` already recorded, or twice in the batch, refuses all."""
    ids = [r.spec.external_id for r in received]
    known = set(
        Payment.objects.filter(company=company, external_id__in=ids).values_list(
            "external_id", flat=True
        )
    )
    counts = Counter(ids)
    for external_id in ids:
        if external_id in known or counts[external_id] > 1:
            raise DunwellError(
                ErrorCode.DUPLICATE, f"payment {external_id} is already recorded", field="id"
            )
    payments = [build_payment(company, r.spec) for r in received]
    insert_instances(payments, at=at)
    keys = dict(
        Payment.objects.filter(company=company, external_id__in=ids).values_list(
            "external_id", "pk"
        )
    )
    for payment in payments:  # saved now, with the customer and company they were built with
        payment.pk = keys[payment.external_id]
        payment._state.adding, payment._state.db = False, DEFAULT_DB_ALIAS
    activity.record_many(
        [
            received_entry(p, actor, at, r.note, r.data)
            for p, r in zip(payments, received, strict=True)
        ]
    )
    return payments
