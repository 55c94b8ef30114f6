"""Receiving payments. Money not yet allocated stays on the account as unapplied cash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.core.money import Money, MoneyError, check_currency
from dunwell.ledger.models import ActivityKind, Customer, Payment, PaymentMethod
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


def record_received(
    payment: Payment,
    actor: User | None,
    at: datetime,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """The PAYMENT_RECEIVED entry; `note` (why it was recorded so, e.g. the bank-line match) is
    appended to the summary and `data` stored with it."""
    amount = Money.from_minor(payment.amount_minor, payment.currency)
    activity.record(
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
    if Payment.objects.filter(company=company, external_id=spec.external_id).exists():
        raise DunwellError(
            ErrorCode.DUPLICATE, f"payment {spec.external_id} is already recorded", field="id"
        )
    payment = build_payment(company, spec)
    payment.save()
    record_received(payment, actor, at, note, data)
    return payment
