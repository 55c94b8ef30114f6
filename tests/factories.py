"""Small builders for a test's world: a company, customers, documents, payments."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.contrib.auth.models import User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from dunwell.core.models import Company, Membership
from dunwell.core.services import two_factor
from dunwell.ledger.models import Contact, ContactRole, Customer, OpenItem, Payment
from dunwell.ledger.services.customers import CustomerInput, add_contact, create_customer
from dunwell.ledger.services.documents import ItemInput, issue_item
from dunwell.ledger.services.payments import PaymentInput, receive_payment
from dunwell.terms.rules.due_dates import Basis
from dunwell.terms.services import create_term

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def company(code: str = "acme", currency: str = "EUR", country: str = "DE") -> Company:
    made = Company.objects.create(
        code=code, legal_name=f"{code.title()} GmbH", country=country, base_currency=currency
    )
    create_term(company=made, code="net30", name="Net 30", basis=Basis.AFTER_INVOICE, days=30,
                is_default=True)  # fmt: skip
    return made


def customer(company: Company, number: str = "C001", name: str = "Bauer KG", currency: str = "EUR",
             **extra: object) -> Customer:  # fmt: skip
    spec = CustomerInput(account_number=number, legal_name=name, currency=currency, **extra)  # type: ignore[arg-type]
    return create_customer(company=company, spec=spec, actor=None, at=AT, on=AT.date())


def invoice(company: Company, customer: Customer, number: str, amount_minor: int, issued_on: date,
            due_on: date | None = None, currency: str | None = None, **extra: object) -> OpenItem:  # fmt: skip
    spec = ItemInput(customer=customer, number=number, issued_on=issued_on,
                     currency=currency or customer.currency, gross_minor=amount_minor, due_on=due_on,
                     **extra)  # type: ignore[arg-type]  # fmt: skip
    return issue_item(company=company, spec=spec, actor=None, at=AT)


def payment(company: Company, customer: Customer, key: str, amount_minor: int, value_on: date,
            currency: str | None = None) -> Payment:  # fmt: skip
    spec = PaymentInput(customer=customer, external_id=key, value_on=value_on,
                        currency=currency or customer.currency, amount_minor=amount_minor)  # fmt: skip
    return receive_payment(company=company, spec=spec, actor=None, at=AT)


def contact(customer: Customer, email: str, name: str = "AP",
            role: ContactRole = ContactRole.AP_CLERK, phone: str = "") -> Contact:  # fmt: skip
    """A contact reminders go to: the accounts-payable clerk unless another role is given."""
    return add_contact(customer=customer, actor=None, name=name, role=role, email=email,
                       phone=phone)  # fmt: skip


def member(company: Company, username: str, role: str) -> Client:
    """A test client signed in as a new user with `role` in `company`."""
    user = User.objects.create_user(username)
    Membership.objects.create(user=user, company=company, role=role)
    return signed_in(Client(), user)


def signed_in(client: Client, user: User) -> Client:
    """`client` signed in as `user`, past the second factor when the user must have one (an
    administrator): a confirmed authenticator device, its session marked verified."""
    client.force_login(user)
    if two_factor.required(user):
        device = TOTPDevice.objects.create(user=user, name="test app", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
