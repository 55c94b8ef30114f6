"""Companies (the creditors) and who may work in them: created and checked here, for the
`dunwell company` command and the admin alike.

Every value is checked where a person can still correct it, with a message that names what was
expected: a country is an ISO 3166-1 code that CLDR knows, a currency an ISO 4217 code, a time zone
an IANA name, an IBAN and a BIC pass python-stdnum's checks, a holiday calendar is one the
`holidays` package has. Errors carry the field they concern, so a command can name its option and a
form its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from zoneinfo import available_timezones

import holidays
from babel import Locale
from babel.core import get_global
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.eu.vat import MEMBER_STATES
from stdnum.exceptions import ValidationError as NumberError

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import AuditKind, Company, GoverningLaw, Membership, Role
from dunwell.core.money import MoneyError, check_currency
from dunwell.core.references import KidCheck
from dunwell.core.services import audit

# CLDR names these two-letter regions as well, but they are not ISO 3166-1 countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


@dataclass(frozen=True)
class CompanyInput:
    name: str
    country: str
    currency: str
    code: str = ""  # default: the name as a slug ("Acme GmbH" -> "acme-gmbh")
    time_zone: str = ""  # default: the country's time zone, when it has only one
    iban: str = ""
    bic: str = ""
    holidays: str = ""  # "DE" or "DE-BY"; empty: weekends only
    law: str = ""  # default: the country's own late-payment law, else EU or contract only
    kid_check: str = "mod10"  # Norway: the KID check agreed with the bank, mod10 or mod11


def _invalid(field: str, message: str) -> DunwellError:
    return DunwellError(ErrorCode.INVALID, message, field=field)


@cache
def _countries() -> dict[str, str]:
    territories = Locale("en").territories
    return {
        code: str(name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


def check_country(code: str) -> str:
    upper = code.strip().upper()
    if upper not in _countries():
        raise _invalid(
            "country",
            f"{code!r} is not an ISO 3166-1 country code: expected two letters such as DE",
        )
    return upper


def country_name(code: str) -> str:
    return _countries().get(code, code)


def check_company_currency(code: str) -> str:
    try:
        return check_currency(code.strip())
    except MoneyError as exc:
        raise DunwellError(ErrorCode.UNKNOWN_CURRENCY, str(exc), field="currency") from None


def check_time_zone(name: str, country: str) -> str:
    """An IANA time zone; without one, the country's, when CLDR lists only one for it."""
    if not name.strip():
        zones = get_global("territory_zones").get(country, [])
        if len(zones) != 1:
            listed = ", ".join(zones[:5]) + (", ..." if len(zones) > 5 else "")
            raise _invalid(
                "time_zone",
                f"{country_name(country)} has {len(zones)} time zones ({listed}): "
                "name one, e.g. Europe/Berlin",
            )
        name = zones[0]
    if name.strip() not in available_timezones():
        raise _invalid(
            "time_zone", f"{name!r} is not a time zone: expected an IANA name such as Europe/Berlin"
        )
    return name.strip()


def _reason(exc: NumberError) -> str:
    """python-stdnum's sentence as a clause: "The number has an invalid length." -> "invalid length"."""
    text = str(exc).strip().rstrip(".")
    return text.removeprefix("The number has an ").removeprefix("The number's ").lower()


def check_iban(iban: str) -> str:
    if not iban.strip():
        return ""
    try:
        return str(stdnum_iban.validate(iban))
    except NumberError as exc:
        raise _invalid(
            "iban",
            f"{iban!r} is not a valid IBAN ({_reason(exc)}): expected e.g. DE89370400440532013000",
        ) from None


def check_bic(bic: str) -> str:
    if not bic.strip():
        return ""
    try:
        return str(stdnum_bic.validate(bic))
    except NumberError as exc:
        raise _invalid(
            "bic", f"{bic!r} is not a valid BIC ({_reason(exc)}): expected 8 or 11 characters"
        ) from None


def check_holidays(calendar: str) -> tuple[str, str]:
    """("DE", "BY") for "DE-BY"; ("", "") for none (weekends only)."""
    if not calendar.strip():
        return "", ""
    country, _, subdivision = calendar.strip().upper().partition("-")
    supported = holidays.list_supported_countries()
    if len(country) != 2 or country not in supported:
        raise _invalid(
            "holidays", f"no holiday calendar for {calendar!r}: expected a country such as DE"
        )
    if subdivision and subdivision not in supported[country]:
        known = ", ".join(supported[country]) or "none"
        raise _invalid(
            "holidays",
            f"{country} has no subdivision {subdivision!r} (known: {known}); "
            "expected e.g. DE-BY, or the country alone",
        )
    return country, subdivision


def default_law(country: str) -> str:
    """The country's own late-payment law if Dunwell knows it, else the EU's, else the contract's."""
    own = "UK" if country == "GB" else country
    if own in GoverningLaw.values:
        return own
    if country.lower() in MEMBER_STATES:
        return GoverningLaw.EU.value
    return GoverningLaw.CONTRACT.value


def check_law(law: str, country: str) -> str:
    if not law.strip():
        return default_law(country)
    upper = law.strip().upper()
    if upper not in GoverningLaw.values:
        raise _invalid(
            "law", f"no governing law {law!r}: expected one of {', '.join(GoverningLaw.values)}"
        )
    return upper


def check_kid_check(method: str) -> str:
    """How a Norwegian company's KID references are checked: mod10 (Luhn) or mod11."""
    lower = method.strip().lower()
    if lower not in {k.value for k in KidCheck}:
        raise _invalid("kid_check", f"no KID check {method!r}: expected mod10 or mod11")
    return lower


def check_code(code: str, name: str) -> str:
    slug = slugify(code.strip() or name)[:40].strip("-")
    if not slug:
        raise _invalid("code", f"cannot make a code from {name!r}: give one, e.g. acme")
    if Company.objects.filter(code=slug).exists():
        raise DunwellError(
            ErrorCode.DUPLICATE, f"a company with the code {slug!r} exists already", field="code"
        )
    return slug


@transaction.atomic
def create_company(*, spec: CompanyInput) -> Company:
    if not spec.name.strip():
        raise _invalid("name", "a company needs a legal name")
    country = check_country(spec.country)
    holiday_country, subdivision = check_holidays(spec.holidays)
    return Company.objects.create(
        code=check_code(spec.code, spec.name),
        legal_name=spec.name.strip(),
        country=country,
        base_currency=check_company_currency(spec.currency),
        time_zone=check_time_zone(spec.time_zone, country),
        iban=check_iban(spec.iban),
        bic=check_bic(spec.bic),
        holiday_country=holiday_country,
        holiday_subdivision=subdivision,
        governing_law=check_law(spec.law, country),
        kid_check=check_kid_check(spec.kid_check),
    )


def access_company(key: str) -> Company:
    """A company by its code, or by its id when `key` is a number."""
    found = Company.objects.filter(code=key).first()
    if found is None and key.isdigit():
        found = Company.objects.filter(pk=int(key)).first()
    if found is None:
        known = ", ".join(Company.objects.values_list("code", flat=True)[:20]) or "none yet"
        raise DunwellError(
            ErrorCode.NOT_FOUND, f"no company {key!r} (known: {known})", field="company"
        )
    return found


def check_role(role: str) -> Role:
    if role not in Role.values:
        raise _invalid("role", f"no role {role!r}: expected one of {', '.join(Role.values)}")
    return Role(role)


@transaction.atomic
def create_user(*, username: str, password: str, at: datetime, actor: User | None = None) -> User:
    """A user who signs in to the staff pages (not to the admin, which is for superusers)."""
    if User.objects.filter(username=username).exists():
        raise DunwellError(
            ErrorCode.DUPLICATE, f"the user {username!r} exists already", field="user"
        )
    user = User(username=username)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise _invalid("password", f"the password is refused: {' '.join(exc.messages)}") from None
    user.set_password(password)
    user.save()
    audit.record(AuditKind.USER_CREATED, at=at, user=user, actor=actor)
    return user


@transaction.atomic
def grant_access(
    *, company: Company, user: User, role: str, at: datetime, actor: User | None = None
) -> tuple[Membership, str]:
    """Give `user` the `role` in `company`: "created", "changed" (another role before) or
    "unchanged". Granting the same role twice changes nothing; the other two are in the
    security log with who did it."""
    checked = check_role(role)
    membership, created = Membership.objects.select_for_update().get_or_create(
        user=user, company=company, defaults={"role": checked}
    )
    if created:
        audit.record(AuditKind.ROLE_GRANTED, at=at, user=user, company=company, actor=actor,
                     detail=f"{english(checked.label).lower()} in {company.code}")  # fmt: skip
        return membership, "created"
    if membership.role == checked:
        return membership, "unchanged"
    before = Role(membership.role)
    membership.role = checked
    membership.save(update_fields=["role"])
    audit.record(AuditKind.ROLE_CHANGED, at=at, user=user, company=company, actor=actor,
                 detail=f"{english(before.label).lower()} -> {english(checked.label).lower()} "
                 f"in {company.code}")  # fmt: skip
    return membership, "changed"


@transaction.atomic
def revoke_access(*, company: Company, user: User, at: datetime, actor: User | None = None) -> bool:
    """Take away `user`'s role in `company`; False when they had none there."""
    membership = Membership.objects.select_for_update().filter(user=user, company=company).first()
    if membership is None:
        return False
    role = Role(membership.role)
    membership.delete()
    audit.record(AuditKind.ACCESS_REVOKED, at=at, user=user, company=company, actor=actor,
                 detail=f"was {english(role.label).lower()} in {company.code}")  # fmt: skip
    return True


@transaction.atomic
def set_write_off_threshold(*, company: Company, amount_minor: int) -> Company:
    """Write-offs above `amount_minor` (in the base currency) need a second person's approval."""
    if amount_minor < 0:
        raise _invalid("write_off_approval", "the write-off threshold cannot be negative")
    company.write_off_approval_minor = amount_minor
    company.save(update_fields=["write_off_approval_minor"])
    return company


@transaction.atomic
def set_kid_check(*, company: Company, method: str) -> Company:
    """The KID check of the invoices issued from now on (those issued keep theirs)."""
    company.kid_check = check_kid_check(method)
    company.save(update_fields=["kid_check"])
    return company
