"""Online card payment behind one interface (issue 6): the portal asks a provider for a checkout
page for some invoices; the provider's signed webhook says the money came; `workflows.cards`
books it and applies it to those invoices.

`PaymentProvider` is the interface; `StripeProvider` the implementation (Stripe Checkout
Sessions and webhooks, through the stripe library). Its webhook events are verified with the
endpoint's signing secret (HMAC-SHA256 over the timestamp and the body, at most five minutes
old): anything else is refused with `SignatureError`. The tests run the stripe library itself
against a stand-in of Stripe's API on loopback and sign their events as Stripe does; only
Stripe's servers are replaced.

Configured by STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (STRIPE_API_BASE for that stand-in):
without both, `configured()` is None and the portal offers no card payment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import stripe
from django.conf import settings

from dunwell.core.errors import DunwellError, ErrorCode

TOLERANCE_SECONDS = 300  # how old a signed event may be (Stripe's own default)


class SignatureError(DunwellError):
    """A webhook call that is not the provider's (no, a wrong or an old signature)."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INVALID, message)


class ProviderError(DunwellError):
    """The provider refused or could not be reached; the customer may try again."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.CONFLICT, message)


@dataclass(frozen=True)
class CheckoutRequest:
    reference: str  # ours, given back with the payment
    currency: str
    lines: tuple[tuple[str, int], ...]  # (what is paid, e.g. "Invoice INV-1001", minor units)
    email: str
    success_url: str
    cancel_url: str
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def amount_minor(self) -> int:
        return sum(amount for _, amount in self.lines)


@dataclass(frozen=True)
class Checkout:
    id: str
    url: str


@dataclass(frozen=True)
class Paid:
    """Money the provider confirms: its id for the payment, what and when, and our metadata."""

    event_id: str
    payment_id: str
    amount_minor: int
    currency: str
    paid_at: datetime
    metadata: Mapping[str, str]


class PaymentProvider(Protocol):
    name: str

    def checkout(self, request: CheckoutRequest) -> Checkout: ...

    def paid(self, payload: bytes, signature: str) -> Paid | None:
        """The verified event's payment; None for an event that moves no money (refused when
        the signature is not right)."""
        ...


class StripeProvider:
    name = "stripe"

    def __init__(self, api_key: str, webhook_secret: str, api_base: str = "") -> None:
        addresses: Any = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(api_key, base_addresses=addresses, max_network_retries=1)
        self.webhook_secret = webhook_secret

    def checkout(self, request: CheckoutRequest) -> Checkout:
        params: Any = {
            "mode": "payment",
            "client_reference_id": request.reference,
            "customer_email": request.email or None,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "metadata": dict(request.metadata),
            "payment_intent_data": {"metadata": dict(request.metadata)},
            "line_items": [
                {"quantity": 1, "price_data": {"currency": request.currency.lower(),
                                               "unit_amount": amount,
                                               "product_data": {"name": name}}}
                for name, amount in request.lines
            ],
        }  # fmt: skip
        try:
            session = self.client.v1.checkout.sessions.create(params=params)
        except stripe.StripeError as error:
            raise ProviderError(
                f"Stripe refused the checkout: {error.user_message or error}"
            ) from None
        return Checkout(session.id, session.url or "")

    def paid(self, payload: bytes, signature: str) -> Paid | None:
        try:
            event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret,
                                                   tolerance=TOLERANCE_SECONDS)  # fmt: skip
        except stripe.SignatureVerificationError:
            raise SignatureError("the Stripe-Signature header does not sign this body") from None
        except ValueError:
            raise SignatureError("the body is not a Stripe event") from None
        if event.type not in ("checkout.session.completed",
                              "checkout.session.async_payment_succeeded"):  # fmt: skip
            return None
        session = event.data.object.to_dict()
        if session.get("payment_status") != "paid":
            return None  # a delayed method: its async_payment_succeeded event follows
        return Paid(
            event_id=event.id,
            payment_id=str(session.get("payment_intent") or session.get("id")),
            amount_minor=int(session.get("amount_total") or 0),
            currency=str(session.get("currency") or "").upper(),
            paid_at=datetime.fromtimestamp(int(event.created), tz=UTC),
            metadata={str(k): str(v) for k, v in (session.get("metadata") or {}).items()},
        )


def configured() -> PaymentProvider | None:
    key, secret = settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET
    if not key or not secret:
        return None
    return StripeProvider(key, secret, settings.STRIPE_API_BASE)
