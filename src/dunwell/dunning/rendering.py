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
                       language), ``payment_reference`` (RF in groups of four),
                       ``national_reference`` the national structured reference in its printed
                       form (+++010/8068/17183+++, a KID, a viite; "" when none) and
                       ``national_label`` its name ("Structured communication", "QR reference",
                       "KID", "Viitenumero"), ``discount`` the early-payment discount still open
                       to take and ``discount_until`` its last day ("" when none applies on the
                       business date)
``total``              the sum of ``open``; ``currency`` its ISO code; ``discount_total`` the
                       discounts still open to take and ``discounted_total`` what settles all
                       then ("" when none)
``interest``           interest on the listed items up to the business date: at the contract's
                       rate when their payment terms set one (``law`` is then "the contract"),
                       else under the company's governing law ("" for a consumer, or with
                       neither); ``interest_rate`` its current rate, ``compensation`` the fixed
                       sums the statute adds, ``law`` the statute's name
``business_date``      the run's date; ``deadline`` the date the step gives to pay
``step_name``          the step's name; ``fee`` the late fee this step charged ("" when none)
``portal_link``        the address of the customer's portal page for this message's contact
                       (its own link, valid for PORTAL_LINK_DAYS; a placeholder in previews)
=====================  ============================================================================

Example (``friendly``, English): "Payment reminder: Bauer KG, €1,234.56 open".
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.template import Context, Engine, TemplateSyntaxError
from django.utils import translation
from django.utils.translation import gettext

from dunwell.cases.services import portal
from dunwell.core.formatting import format_date, format_money, format_number
from dunwell.core.payments import national_label, printed_national
from dunwell.core.references import format_rf, is_valid_rf
from dunwell.dunning.defaults import DEADLINE_DAYS, DEFAULTS
from dunwell.dunning.models import Message, Step, Template
from dunwell.dunning.rules.steps import listed
from dunwell.dunning.services.charges import fee_number
from dunwell.ledger.models import Contact, Customer, CustomerKind, ItemKind, OpenItem
from dunwell.terms.models import PaymentTerm
from dunwell.terms.rules import interest
from dunwell.terms.services import reference_rates

ENGINE = Engine(autoescape=False, string_if_invalid="")
PREVIEW_LINK = "[the customer's portal link, made when the message is sent]"
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


class Renderer:
    """Renders the messages of one delivery pass: each template compiled once, the reference
    rates and the steps read once (a pass of thousands of reminders asks the same things)."""

    def __init__(self, *, links_at: datetime | None = None) -> None:
        """`links_at`: the delivery's time, when each message gets its own portal link (made once
        per message, `cases.services.portal.issue`); None (a preview) prints a placeholder."""
        self.links_at = links_at
        self._texts: dict[tuple[int, str, str], tuple[Any, Any, str] | RenderError] = {}
        self._steps: dict[tuple[int, int], Step | None] = {}
        self._rates: interest.Rates | None = None
        self._items: dict[int, OpenItem] = {}
        self._fees: dict[tuple[int, str], OpenItem | None] = {}
        self._terms: dict[tuple[int, int | None], PaymentTerm | None] = {}

    def prefetch(self, messages: list[Message]) -> None:
        """Read the items and fees of many messages at once (a delivery pass's chunk)."""
        ids = {row["id"] for m in messages for row in listed(m.decision.items)}
        self._items.update(OpenItem.objects.in_bulk(list(ids)))
        wanted = {(m.company_id, _fee_number(m)) for m in messages}
        for key in wanted:
            self._fees[key] = None
        fees = OpenItem.objects.filter(
            company_id__in={c for c, _ in wanted},
            kind=ItemKind.FEE,
            number__in=[n for _, n in wanted],
        )
        for fee in fees:
            self._fees[(fee.company_id, fee.number)] = fee

    def items(self, ids: list[int]) -> dict[int, OpenItem]:
        missing = [pk for pk in ids if pk not in self._items]
        if missing:
            self._items.update(OpenItem.objects.in_bulk(missing))
        return {pk: self._items[pk] for pk in ids}

    def fee(self, message: Message) -> OpenItem | None:
        key = (message.company_id, _fee_number(message))
        if key not in self._fees:
            self._fees[key] = OpenItem.objects.filter(
                company_id=message.company_id, kind=ItemKind.FEE, number=key[1]
            ).first()
        return self._fees[key]

    def render(
        self, message: Message, *, code: str | None = None, language: str | None = None
    ) -> tuple[str, str]:
        """(subject, body) of `message`; another template or language for a preview."""
        code = code or message.template
        subject, body, used = self._compiled(message.company_id, code, language or message.language)
        # plain text: a customer named "Müller & Söhne" is written so, not "&amp;"
        context = Context(_context(message, code, used, self), autoescape=False)
        return _ONE_LINE.sub(" ", subject.render(context)).strip(), body.render(context)

    def _compiled(self, company_id: int, code: str, language: str) -> tuple[Any, Any, str]:
        key = (company_id, code, language)
        if key not in self._texts:
            subject, body, used = template_text(company_id, code, language)
            try:
                compiled = ENGINE.from_string(subject), ENGINE.from_string(body), used
                self._texts[key] = compiled
            except TemplateSyntaxError as error:
                self._texts[key] = RenderError(
                    f"template {code!r} ({used}) cannot be rendered: {error}"
                )
        found = self._texts[key]
        if isinstance(found, RenderError):
            raise found
        return found

    def demand(self, message: Message) -> tuple[int, list[str]]:
        """What `message` asks to be paid: the listed items' open amounts and this step's late
        fee, with their payment references (for the letter's EPC QR code)."""
        rows = listed(message.decision.items)
        stored = self.items([row["id"] for row in rows])
        total = sum(row["open_minor"] for row in rows)
        references = [stored[row["id"]].payment_reference for row in rows]
        fee = self.fee(message)
        if fee is not None and fee.currency == message.currency and fee.open_minor > 0:
            total += fee.open_minor
            references.append(fee.payment_reference)
        return total, references

    def portal_link(self, message: Message) -> str:
        if self.links_at is None:
            return PREVIEW_LINK
        emails = [r.get("email", "") for r in message.recipients if r.get("email")]
        contact = (
            Contact.objects.filter(customer_id=message.customer_id, email__in=emails)
            .order_by("pk")
            .first()
            if emails
            else None
        )
        link = portal.issue(company=message.company, customer=message.customer, contact=contact,
                            at=self.links_at, source=f"message {message.pk}")  # fmt: skip
        return portal.address(link)

    def step(self, policy_id: int, sequence: int) -> Step | None:
        key = (policy_id, sequence)
        if key not in self._steps:
            self._steps[key] = Step.objects.filter(policy_id=policy_id, sequence=sequence).first()
        return self._steps[key]

    def term(self, item: OpenItem, customer: Customer) -> PaymentTerm | None:
        """The payment terms that set an item's contractual interest rate, or None when its
        terms (the item's, else the customer's, else the company's default) set none."""
        term_id = item.payment_term_id or customer.payment_term_id
        key = (item.company_id, term_id)
        if key not in self._terms:
            if term_id is None:
                found = PaymentTerm.objects.filter(company_id=item.company_id, is_default=True)
            else:
                found = PaymentTerm.objects.filter(pk=term_id)
            term = found.first()
            self._terms[key] = term if term and term.interest_percent is not None else None
        return self._terms[key]

    def rates(self) -> interest.Rates:
        if self._rates is None:
            self._rates = reference_rates()
        return self._rates


def render(
    message: Message, *, code: str | None = None, language: str | None = None
) -> tuple[str, str]:
    """(subject, body) of one message (a preview, a test); a delivery pass uses one `Renderer`."""
    return Renderer().render(message, code=code, language=language)


def _context(message: Message, code: str, locale: str, renderer: Renderer) -> dict[str, Any]:
    decision = message.decision
    company, customer = message.company, message.customer
    rows = listed(decision.items)
    stored = renderer.items([row["id"] for row in rows])
    on = message.business_date
    currency = message.currency

    def money(minor: int) -> str:
        return format_money(minor, currency, locale)

    with translation.override(locale):
        label = national_label(company.country)
    items, deductible = [], 0
    for row in rows:
        item = stored[row["id"]]
        reference = item.payment_reference
        discount, until = _discount_left(item, row["open_minor"], on)
        deductible += discount
        items.append(
            {
                "number": item.number,
                "issued_on": format_date(item.issued_on, locale),
                "due_on": format_date(item.due_on, locale),
                "days_overdue": row["days_overdue"],
                "open": money(row["open_minor"]),
                "payment_reference": format_rf(reference) if is_valid_rf(reference) else reference,
                "national_reference": printed_national(item.national_reference, company.country),
                "national_label": label if item.national_reference else "",
                "discount": money(discount) if discount else "",
                "discount_until": format_date(until, locale) if until else "",
            }
        )
    total = sum(row["open_minor"] for row in rows)
    step = renderer.step(message.policy_id, message.step)
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
        "total": money(total),
        "discount_total": money(deductible) if deductible else "",
        "discounted_total": money(total - deductible) if deductible else "",
        "currency": currency,
        "business_date": format_date(on, locale),
        "deadline": format_date(on + timedelta(days=days), locale),
        "step_name": step.name if step else "",
        "portal_link": renderer.portal_link(message),
        "fee": _fee(renderer.fee(message), locale),
        "interest": "",
        "interest_rate": "",
        "compensation": "",
        "law": "",
    }
    # A message whose items' terms set a contractual rate names that (and what it gives on
    # those items); otherwise the statute's interest and compensation.
    contract_rows: list[tuple[dict[str, Any], PaymentTerm | None]] = []
    statute_rows: list[tuple[dict[str, Any], PaymentTerm | None]] = []
    for row in rows:
        term = renderer.term(stored[row["id"]], customer)
        (contract_rows if term is not None else statute_rows).append((row, term))
    law = interest.STATUTES.get(company.governing_law)
    if law is not None and customer.kind == CustomerKind.CONSUMER:
        law = None
    statutory = [row for row, _ in statute_rows]
    if law is not None and statutory and not contract_rows:
        context |= _law(law, statutory, stored, on, locale, currency, renderer.rates())
    elif contract_rows:
        context |= _contract(contract_rows, stored, on, locale, currency)
    return context


def _contract(
    rows: list[tuple[dict[str, Any], PaymentTerm | None]],
    stored: dict[int, OpenItem],
    on: date,
    locale: str,
    currency: str,
) -> dict[str, str]:
    """The interest the payment terms' contractual rate gives on the listed items (the rate
    dunning charges for them, `charges._Accrual`)."""
    accrued, rates = 0, []
    for row, term in rows:
        if term is None or term.interest_percent is None:
            continue
        percent = Decimal(term.interest_percent)
        try:
            accrued += interest.contractual_interest(
                annual_percent=percent, amount_minor=row["open_minor"],
                due_on=stored[row["id"]].due_on, until=on, grace_days=term.interest_grace_days,
                day_count=interest.DayCount(term.interest_day_count),
            ).interest_minor  # fmt: skip
        except interest.InterestError:
            continue
        rates.append(f"{format_number(percent.normalize(), locale)} %")
    if not accrued:
        return {}
    with translation.override(locale):
        contract = gettext("the contract")
    return {
        "interest": format_money(accrued, currency, locale),
        "interest_rate": ", ".join(dict.fromkeys(rates)),
        "compensation": "",
        "law": contract,
    }


def _discount_left(item: OpenItem, open_minor: int, on: date) -> tuple[int, date | None]:
    """The early-payment discount the customer may still deduct from an item on day `on`, and
    its last day; (0, None) when none applies."""
    until = item.discount_until
    if until is None or not item.discount_minor or on > until or open_minor <= item.discount_minor:
        return 0, None
    return item.discount_minor, until


def _fee_number(message: Message) -> str:
    return fee_number(message.business_date, message.customer.account_number, message.currency,
                      message.step)  # fmt: skip


def _fee(fee: OpenItem | None, locale: str) -> str:
    return format_money(fee.amount_minor, fee.currency, locale) if fee is not None else ""


def _law(
    law: interest.Statute,
    rows: list[dict[str, Any]],
    stored: dict[int, OpenItem],
    on: Any,
    locale: str,
    currency: str,
    rates: interest.Rates,
) -> dict[str, str]:
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
