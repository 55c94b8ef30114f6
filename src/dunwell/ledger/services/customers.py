"""Customers and contacts: created and updated here so that every change reaches the history.

Registration and VAT ids are checked with python-stdnum when the customer's country is known:
a number that fails its country's check digits is refused with the format expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from stdnum import get_cc_module
from stdnum.exceptions import ValidationError

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.core.money import MoneyError, check_currency
from dunwell.ledger.models import ActivityKind, Contact, Customer, CustomerKind
from dunwell.ledger.services import activity

# Fields a later export from the accounting system may change without a conflict.
UPDATABLE = (
    "legal_name",
    "kind",
    "country",
    "registration_id",
    "vat_id",
    "street",
    "postal_code",
    "city",
    "language",
    "time_zone",
    "segment",
    "credit_limit_minor",
    "tags",
    "billed_to_parent",
)
# Changed by a person through `update_customer` only (the collector's worklist assigns the
# owner), never by an import or the admin's form, which work from UPDATABLE.
ASSIGNABLE = ("owner",)


def clean_time_zone(name: str) -> str:
    """An IANA time zone name as the zone database spells it, or "" (the company's zone)."""
    name = name.strip()
    if not name:
        return ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DunwellError(
            ErrorCode.INVALID,
            f"time zone {name!r}: expected an IANA name like Europe/Berlin or America/New_York",
            field="time_zone",
        ) from None
    return name


def clean_vat_id(vat_id: str, country: str) -> str:
    """The compact VAT id, or a refusal naming the expected format (EU VAT ids carry a prefix)."""
    if not vat_id:
        return ""
    compact = vat_id.replace(" ", "").replace(".", "").replace("-", "").upper()
    prefix = compact[:2] if compact[:2].isalpha() else country.upper()
    module = get_cc_module(prefix.lower(), "vat") if prefix else None
    if module is None:
        return compact
    try:
        return str(module.validate(compact))
    except ValidationError as exc:
        raise DunwellError(
            ErrorCode.INVALID,
            f"VAT id {vat_id!r} is not a valid {prefix} VAT number ({exc})",
            field="vat_id",
        ) from None


def clean_registration_id(registration_id: str, country: str) -> str:
    if not registration_id or not country:
        return registration_id.strip()
    for kind in ("companyid", "orgnr", "hrn", "siren", "kvk", "ytunnus", "cvr", "crn"):
        module = get_cc_module(country.lower(), kind)
        if module is None:
            continue
        try:
            return str(module.validate(registration_id))
        except ValidationError as exc:
            raise DunwellError(
                ErrorCode.INVALID,
                f"registration id {registration_id!r} is not a valid {country.upper()} "
                f"{getattr(module, 'name', kind)} ({exc})",
                field="registration_id",
            ) from None
    return registration_id.strip()


@dataclass(frozen=True)
class CustomerInput:
    account_number: str
    legal_name: str
    currency: str
    kind: str = CustomerKind.BUSINESS
    country: str = ""
    registration_id: str = ""
    vat_id: str = ""
    street: str = ""
    postal_code: str = ""
    city: str = ""
    language: str = "en"
    time_zone: str = ""
    segment: str = ""
    credit_limit_minor: int | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    parent_account: str = ""
    billed_to_parent: bool = False


def customer_values(spec: CustomerInput) -> dict[str, Any]:
    """Checked, normalised field values; raises DunwellError naming the field."""
    if not spec.account_number.strip():
        raise DunwellError(
            ErrorCode.INVALID, "a customer needs an account number", field="account_number"
        )
    if not spec.legal_name.strip():
        raise DunwellError(ErrorCode.INVALID, "a customer needs a legal name", field="legal_name")
    try:
        currency = check_currency(spec.currency)
    except MoneyError as exc:
        raise DunwellError(ErrorCode.UNKNOWN_CURRENCY, str(exc), field="currency") from None
    if spec.kind not in CustomerKind.values:
        raise DunwellError(
            ErrorCode.INVALID,
            f"kind {spec.kind!r}: expected one of {', '.join(CustomerKind.values)}",
            field="kind",
        )
    country = spec.country.strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        raise DunwellError(
            ErrorCode.INVALID, f"country {spec.country!r}: expected a code like DE", field="country"
        )
    return {
        "legal_name": spec.legal_name.strip(),
        "kind": spec.kind,
        "country": country,
        "registration_id": clean_registration_id(spec.registration_id, country),
        "vat_id": clean_vat_id(spec.vat_id, country),
        "street": spec.street.strip(),
        "postal_code": spec.postal_code.strip(),
        "city": spec.city.strip(),
        "language": (spec.language or "en").lower(),
        "time_zone": clean_time_zone(spec.time_zone),
        "segment": spec.segment.strip(),
        "credit_limit_minor": spec.credit_limit_minor,
        "tags": list(spec.tags),
        "billed_to_parent": spec.billed_to_parent,
        "currency": currency,
    }


@transaction.atomic
def create_customer(
    *, company: Company, spec: CustomerInput, actor: User | None, at: datetime, on: date
) -> Customer:
    if Customer.objects.filter(
        company=company, account_number=spec.account_number.strip()
    ).exists():
        raise DunwellError(
            ErrorCode.DUPLICATE,
            f"customer {spec.account_number} already exists",
            field="account_number",
        )
    values = customer_values(spec)
    parent = None
    if spec.parent_account:
        parent = Customer.objects.filter(
            company=company, account_number=spec.parent_account
        ).first()
        if parent is None:
            raise DunwellError(
                ErrorCode.UNKNOWN_CUSTOMER,
                f"parent customer {spec.parent_account} does not exist",
                field="parent_account",
            )
    customer = Customer.objects.create(
        company=company, account_number=spec.account_number.strip(), parent=parent, **values
    )
    activity.record(
        company=company,
        kind=ActivityKind.CUSTOMER_CREATED,
        on=on,
        at=at,
        actor=actor,
        customer=customer,
        summary=f"Customer {customer.legal_name} created",
    )
    return customer


@transaction.atomic
def update_customer(
    *,
    customer: Customer,
    changes: dict[str, Any],
    actor: User | None,
    at: datetime,
    on: date,
) -> list[str]:
    """Apply changes to updatable fields; returns the names of the fields that changed."""
    changed = [
        name
        for name, value in changes.items()
        if (name in UPDATABLE or name in ASSIGNABLE) and getattr(customer, name) != value
    ]
    if not changed:
        return []
    before = {name: getattr(customer, name) for name in changed}
    for name in changed:
        setattr(customer, name, changes[name])
    customer.save(update_fields=[*changed, "updated_at"])
    activity.record(
        company=customer.company,
        kind=ActivityKind.CUSTOMER_UPDATED,
        on=on,
        at=at,
        actor=actor,
        customer=customer,
        summary=f"Customer updated: {', '.join(changed)}",
        data={
            "before": {k: str(v) for k, v in before.items()},
            "after": {k: str(changes[k]) for k in changed},
        },
    )
    return changed


@transaction.atomic
def add_contact(*, customer: Customer, actor: User | None, **fields: Any) -> Contact:
    return Contact.objects.create(company=customer.company, customer=customer, **fields)


@transaction.atomic
def save_contact(
    *, customer: Customer, contact: Contact | None, name: str, email: str, phone: str
) -> tuple[Contact, dict[str, tuple[str, str]]]:
    """Correct `contact` (None: add one) of `customer` to these values, checked: the contact and
    what changed, field by field (before, after). The caller records why in the history."""
    name, email, phone = name.strip(), email.strip().lower(), phone.strip()
    if not name:
        raise DunwellError(ErrorCode.INVALID, "a contact needs a name", field="name")
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            raise DunwellError(ErrorCode.INVALID, f"{email!r} is not an email address",
                               field="email") from None  # fmt: skip
    if len(phone) > 40 or any(c not in "+0123456789 ()-/." for c in phone):
        raise DunwellError(ErrorCode.INVALID, f"{phone!r} is not a phone number", field="phone")
    wanted = {"name": name[:200], "email": email, "phone": phone}
    if contact is None:
        made = Contact.objects.create(company=customer.company, customer=customer, **wanted)
        return made, {k: ("", v) for k, v in wanted.items() if v}
    if contact.customer_id != customer.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, "no such contact on this account")
    changed = {k: (str(getattr(contact, k)), v) for k, v in wanted.items()
               if getattr(contact, k) != v}  # fmt: skip
    if changed:
        for key, (_, value) in changed.items():
            setattr(contact, key, value)
        if "email" in changed:
            contact.email_bounced_on = None  # a new address has not bounced
        contact.save(update_fields=[*changed, "email_bounced_on"])
    return contact, changed
