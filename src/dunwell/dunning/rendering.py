"""A message's text: its template (the company's own, else the default) filled with the ledger's
data as of the message's business date, in the customer's language. Rendered at delivery (and
for a preview), never in the run.

The variables a template can use:

=====================  ============================================================================
``company``            ``name``, ``address``, ``iban`` (in groups of four), ``bic``
``customer``           ``name``, ``account_number``
``contact_name``       the first recipient's name ("" for a letter: "Dear Sir or Madam")
``items``              every item the message lists, oldest first: ``number``, ``issued_on``,
                       ``due_on``, ``days_overdue``, ``open`` (amount and currency in the customer's
                       language), ``payment_reference`` (RF in groups of four)
``total``              the sum of ``open``; ``currency`` its ISO code
``interest``           statutory interest on the listed items up to the business date under the
                       company's governing law ("" for a consumer or a contract-only company);
                       ``interest_rate`` its current rate, ``compensation`` the fixed sums,
                       ``law`` the statute's name
``business_date``      the run's date; ``deadline`` the date the step gives to pay
``step_name``          the step's name; ``fee`` the late fee this step charged ("" when none)
``portal_link``        the customer's portal address ("" until the portal exists)
=====================  ============================================================================

Example (``friendly``, English): "Payment reminder: Bauer KG, €1,234.56 open".
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.template import Context, Engine, TemplateSyntaxError

from dunwell.core.formatting import format_date, format_money, format_number
from dunwell.core.references import format_rf, is_valid_rf
from dunwell.dunning.defaults import DEADLINE_DAYS, DEFAULTS
from dunwell.dunning.models import Message, Step, Template
from dunwell.dunning.services.charges import fee_number
from dunwell.ledger.models import CustomerKind, ItemKind, OpenItem
from dunwell.terms.rules import interest
from dunwell.terms.services import reference_rates

ENGINE = Engine(autoescape=False, string_if_invalid="")
_ONE_LINE = re.compile(
    r"[ \t\r\n]+"
)  # a subject is one line (a no-break space in 1.234,56 € stays)


class RenderError(Exception):
    """A template that cannot be rendered: the message fails with this, the others go on."""


def template_text(company_id: int, code: str, language: str) -> tuple[str, str, str]:
    """(subject, body, language used): the company's own text, else the default, else English."""
    for lang in dict.fromkeys((language, language.split("-", maxsplit=1)[0], "en")):
        own = Template.objects.filter(company_id=company_id, code=code, language=lang).first()
        if own is not None:
            return own.subject, own.body, lang
        if (code, lang) in DEFAULTS:
            subject, body = DEFAULTS[(code, lang)]
            return subject, body, lang
    raise RenderError(f"no template {code!r} in {language!r} or English")


def render(
    message: Message, *, code: str | None = None, language: str | None = None
) -> tuple[str, str]:
    """(subject, body) of `message`; another template or language for a preview."""
    code = code or message.template
    subject, body, used = template_text(message.company_id, code, language or message.language)
    context = Context(_context(message, code, used))
    try:
        return (
            _ONE_LINE.sub(" ", ENGINE.from_string(subject).render(context)).strip(),
            ENGINE.from_string(body).render(context),
        )
    except TemplateSyntaxError as error:
        raise RenderError(f"template {code!r} ({used}) cannot be rendered: {error}") from None


def _context(message: Message, code: str, locale: str) -> dict[str, Any]:
    decision = message.decision
    company, customer = message.company, message.customer
    rows = [row for row in decision.items if not row.get("paused")]
    stored = OpenItem.objects.in_bulk([row["id"] for row in rows])
    on = message.business_date
    currency = message.currency

    def money(minor: int) -> str:
        return format_money(minor, currency, locale)

    items = []
    for row in rows:
        item = stored[row["id"]]
        reference = item.payment_reference
        items.append(
            {
                "number": item.number,
                "issued_on": format_date(item.issued_on, locale),
                "due_on": format_date(item.due_on, locale),
                "days_overdue": row["days_overdue"],
                "open": money(row["open_minor"]),
                "payment_reference": format_rf(reference) if is_valid_rf(reference) else reference,
            }
        )
    step = Step.objects.filter(policy_id=message.policy_id, sequence=message.step).first()
    days = DEADLINE_DAYS.get(code, 7)
    context: dict[str, Any] = {
        "company": {
            "name": company.legal_name,
            "address": company.address,
            "iban": " ".join(company.iban[i : i + 4] for i in range(0, len(company.iban), 4)),
            "bic": company.bic,
        },
        "customer": {"name": customer.legal_name, "account_number": customer.account_number},
        "contact_name": message.recipients[0].get("name", "") if message.recipients else "",
        "items": items,
        "total": money(sum(row["open_minor"] for row in rows)),
        "currency": currency,
        "business_date": format_date(on, locale),
        "deadline": format_date(on + timedelta(days=days), locale),
        "step_name": step.name if step else "",
        "portal_link": "",
        "fee": _fee(message, locale),
        "interest": "",
        "interest_rate": "",
        "compensation": "",
        "law": "",
    }
    law = interest.STATUTES.get(company.governing_law)
    if law is not None and customer.kind != CustomerKind.CONSUMER and rows:
        context |= _law(law, rows, stored, on, locale, currency)
    return context


def _fee(message: Message, locale: str) -> str:
    number = fee_number(message.business_date, message.customer.account_number,
                        message.currency, message.step)  # fmt: skip
    fee = OpenItem.objects.filter(
        company_id=message.company_id, kind=ItemKind.FEE, number=number
    ).first()
    return format_money(fee.amount_minor, fee.currency, locale) if fee is not None else ""


def _law(
    law: interest.Statute,
    rows: list[dict[str, Any]],
    stored: dict[int, OpenItem],
    on: Any,
    locale: str,
    currency: str,
) -> dict[str, str]:
    rates = reference_rates()
    accrued, compensation, percent = 0, 0, Decimal(0)
    for row in rows:
        try:
            result = interest.statutory_interest(
                law, amount_minor=row["open_minor"], due_on=stored[row["id"]].due_on, until=on,
                rates=rates,
            )  # fmt: skip
        except interest.InterestError:
            return {}
        accrued += result.interest_minor
        compensation += result.compensation_minor
        if result.periods:
            percent = result.periods[-1].percent
    if not accrued:
        return {}
    return {
        "interest": format_money(accrued, currency, locale),
        "interest_rate": f"{format_number(percent.normalize(), locale)} %",
        "compensation": (
            format_money(compensation, law.compensation_currency, locale) if compensation else ""
        ),
        "law": law.name,
    }
