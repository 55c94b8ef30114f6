"""A card payment the provider confirmed (`cash.providers.Paid`): booked once and applied.

The checkout was asked for by a portal link (`start_checkout`) with the company, the customer,
the link and the invoices in its metadata. When the provider's signed webhook says the money
came, `record_card_payment` books a payment (method card, external id "<provider>:<its id>",
so a webhook delivered twice books it once), applies it to those invoices, oldest due first,
and leaves what is over as unapplied cash; promises and plans follow (`apply_payments`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction

from dunwell.cases.models import PortalLink
from dunwell.cash.providers import Checkout, CheckoutRequest, Paid, PaymentProvider
from dunwell.core.dates import date_in
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.ledger.models import Customer, OpenItem, Payment, PaymentMethod
from dunwell.ledger.services.allocations import Share
from dunwell.ledger.services.payments import PaymentInput, receive_payment
from dunwell.workflows.payments import apply_payments
from dunwell.workflows.portal import in_one_currency


def start_checkout(
    *,
    link: PortalLink,
    items: Sequence[OpenItem],
    provider: PaymentProvider,
    success_url: str,
    cancel_url: str,
) -> Checkout:
    """A checkout page for what is open on these invoices (one currency)."""
    checked, currency = in_one_currency(link, items, "a card payment")
    request = CheckoutRequest(
        reference=f"portal-{link.pk}-{uuid.uuid4().hex[:12]}",
        currency=currency,
        lines=tuple((f"{english(i.get_kind_display)} {i.number}", i.open_minor) for i in checked),
        email=link.contact.email if link.contact else "",
        success_url=success_url,
        cancel_url=cancel_url,
        metadata={"company": str(link.company_id), "customer": str(link.customer_id),
                  "link": str(link.pk), "items": ",".join(str(i.pk) for i in checked)},
    )  # fmt: skip
    return provider.checkout(request)


@transaction.atomic
def record_card_payment(*, paid: Paid, provider: str, at: datetime) -> Payment | None:
    """Book and apply `paid`; None when it was booked before (the same event again)."""
    try:
        company = Company.objects.get(pk=int(paid.metadata.get("company", "0")))
        customer = Customer.objects.get(pk=int(paid.metadata.get("customer", "0")),
                                        company=company)  # fmt: skip
    except (Company.DoesNotExist, Customer.DoesNotExist, ValueError):
        raise DunwellError(ErrorCode.NOT_FOUND, f"{provider} payment {paid.payment_id}: its "
                           "metadata names no customer of ours") from None  # fmt: skip
    external_id = f"{provider}:{paid.payment_id}"
    if Payment.objects.filter(company=company, external_id=external_id).exists():
        return None
    spec = PaymentInput(customer=customer, external_id=external_id,
                        value_on=date_in(company.time_zone, paid.paid_at), currency=paid.currency,
                        amount_minor=paid.amount_minor, method=PaymentMethod.CARD,
                        reference=paid.payment_id, source=provider)  # fmt: skip
    try:
        with transaction.atomic():
            payment = receive_payment(company=company, spec=spec, actor=None, at=at,
                                      note=f"card payment through {provider} in the portal",
                                      data={"event": paid.event_id})  # fmt: skip
    except IntegrityError:  # a concurrent delivery of the same event booked it
        return None
    ids = [int(i) for i in paid.metadata.get("items", "").split(",") if i.isdigit()]
    left = payment.amount_minor
    shares = []
    for item in OpenItem.objects.filter(pk__in=ids, company=company, customer=customer,
                                        currency=payment.currency, open_minor__gt=0,
                                        voided_on__isnull=True).order_by("due_on", "pk"):  # fmt: skip
        share = min(left, item.open_minor)
        if share <= 0:
            break
        shares.append(Share(payment.pk, item.pk, share))
        left -= share
    apply_payments(company=company, shares=shares, actor=None, at=at)
    return payment
