"""The case file of a customer: what a collection agency or a lawyer needs, as one ZIP.

    01-statement-<account>-<as of>.pdf   the statement of account as of the day
    02-documents/<kind>-<number>.pdf     every item open on the day, and every item placed
    03-contract-terms.html               payment terms, the governing law's interest rule, rates
    04-interest-and-fees.csv / .html     fees and interest booked; interest accrued to the day
    05-history.csv / .html               the account's history, with every message as sent
    06-contacts.csv                      who the customer's contacts are
    manifest.json                        each file: size, SHA-256, what it covers; the claim

The same ledger and the same `as_of` give the same bytes: files in a fixed order, each dated
`as_of` at midnight, PDFs without a creation time. So the history leaves out earlier exports of
the case file itself (they are about the file, not the account) and anything dated after `as_of`.
Interest accrues as `dunwell interest calc` computes it: the contract's rate where the payment
terms set one, else the statute of the company's governing law, on the invoice's gross amount,
reduced by each payment and credit note from its value date.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from dunwell.cases.models import Placement, PlacementItem
from dunwell.cases.services.placements import totals
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import Money, exponent
from dunwell.core.pdf import write_pdf
from dunwell.dunning.models import Message, MessageStatus
from dunwell.ledger.models import (
    Activity,
    ActivityKind,
    Allocation,
    Customer,
    CustomerKind,
    ItemKind,
    OpenItem,
)
from dunwell.ledger.printing import (
    document_language,
    filename_part,
    invoice_context,
    render_document,
    statement_pdf,
)
from dunwell.ledger.queries import ItemAsOf, open_items
from dunwell.terms.models import PaymentTerm
from dunwell.terms.rules import interest
from dunwell.terms.rules.text import describe
from dunwell.terms.services import applicable_term, reference_rates

SENT = (MessageStatus.SENT, MessageStatus.UNCERTAIN)
CHARGES = (ItemKind.FEE, ItemKind.INTEREST)


@dataclass(frozen=True)
class Part:
    path: str
    data: bytes
    covers: str


@dataclass(frozen=True)
class CaseFile:
    data: bytes
    files: int  # in the ZIP, the manifest included
    sha256: str
    filename: str


def case_file(company: Company, customer: Customer, as_of: date) -> bytes:
    return build(company, customer, as_of).data


def case_file_name(customer: Customer, as_of: date) -> str:
    return f"case-file-{filename_part(customer.account_number)}-{as_of.isoformat()}.zip"


def build(company: Company, customer: Customer, as_of: date) -> CaseFile:
    if customer.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"{customer} is not {company.code}'s")
    language = document_language(customer, company)
    rows = open_items(company, customer, as_of)
    documents = _documents(customer, rows, as_of)
    parts = [
        Part(f"01-statement-{filename_part(customer.account_number)}-{as_of.isoformat()}.pdf",
             statement_pdf(customer, as_of), f"statement of account as of {as_of.isoformat()}"),
        *(_document_part(company, item, language) for item in documents),
        Part("03-contract-terms.html", _terms(company, customer, documents, language).encode(),
             "payment terms of the customer and its invoices; the interest rule that applies"),
        *_interest_parts(company, customer, rows, as_of, language),
        *_history_parts(company, customer, as_of, language),
        Part("06-contacts.csv", _contacts_csv(customer), "the customer's contacts"),
    ]  # fmt: skip
    manifest = _manifest(company, customer, as_of, parts)
    parts.append(Part("manifest.json", manifest, "this list"))
    data = _zip(parts, as_of)
    return CaseFile(data, len(parts), hashlib.sha256(data).hexdigest(),
                    case_file_name(customer, as_of))  # fmt: skip


def _zip(parts: list[Part], as_of: date) -> bytes:
    stamp = (max(as_of.year, 1980), as_of.month, as_of.day, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in parts:
            info = zipfile.ZipInfo(part.path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, wherever it is built
            info.external_attr = 0o644 << 16
            archive.writestr(info, part.data)
    return buffer.getvalue()


def _manifest(company: Company, customer: Customer, as_of: date, parts: list[Part]) -> bytes:
    payload = {
        "as_of": as_of.isoformat(),
        "creditor": {"code": company.code, "name": company.legal_name},
        "customer": {"account_number": customer.account_number, "name": customer.legal_name},
        "placements": _placements(customer, as_of),
        "files": [
            {"path": p.path, "size": len(p.data), "sha256": hashlib.sha256(p.data).hexdigest(),
             "covers": p.covers}
            for p in parts
        ],
    }  # fmt: skip
    return (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode()


def _placements(customer: Customer, as_of: date) -> list[dict[str, Any]]:
    placements = list(
        Placement.objects.filter(customer=customer, placed_on__lte=as_of)
        .select_related("agency")
        .prefetch_related("items__item")
        .order_by("placed_on", "pk")
    )
    sums = totals(p.pk for p in placements)
    return [
        {
            "id": p.pk, "agency": p.agency.name, "kind": p.agency.kind, "state": p.state,
            "outcome": p.outcome, "placed_on": p.placed_on.isoformat(), "currency": p.currency,
            "placed": _major(p.placed_minor, p.currency),
            "recovered": _major(sums.get(p.pk, (0, 0))[0], p.currency),
            "items": [{"number": i.item.number, "amount": _major(i.amount_minor, p.currency)}
                      for i in p.items.all()],
        }
        for p in placements
    ]  # fmt: skip


# -- the documents -------------------------------------------------------------------------------


def _documents(customer: Customer, rows: list[ItemAsOf], as_of: date) -> list[OpenItem]:
    """Every item open on `as_of` and every item ever placed by then, oldest first."""
    placed = PlacementItem.objects.filter(
        placement__customer=customer, placement__placed_on__lte=as_of
    ).values_list("item_id", flat=True)
    found = {row.item.pk: row.item for row in rows}
    missing = set(placed) - set(found)
    if missing:
        found |= {i.pk: i for i in OpenItem.objects.filter(pk__in=missing)}
    chosen = [i for i in found.values() if not i.voided_on or i.pk in missing]
    return sorted(chosen, key=lambda i: (i.issued_on, i.kind, i.number))


def _document_part(company: Company, item: OpenItem, language: str) -> Part:
    html = render_document("documents/invoice.html", invoice_context(item, company), language)
    return Part(f"02-documents/{item.kind}-{filename_part(item.number)}.pdf", write_pdf(html),
                f"{english(item.get_kind_display).lower()} {item.number} of {item.issued_on.isoformat()}")  # fmt: skip


def _terms(company: Company, customer: Customer, items: list[OpenItem], language: str) -> str:
    default = applicable_term(company, None)
    own = customer.payment_term
    terms: dict[int, PaymentTerm] = {}
    for term in [own, default, *(i.payment_term for i in items)]:
        if term is not None:
            terms.setdefault(term.pk, term)
    law = interest.STATUTES.get(company.governing_law)
    context = {
        "company": company,
        "customer": customer,
        "law_label": company.get_governing_law_display,  # the template calls it in `language`
        "statute": law,
        "consumer": customer.kind == CustomerKind.CONSUMER,
        "compensation": (
            [(_major(t.below_minor, law.compensation_currency) if t.below_minor else None,
              _major(t.amount_minor, law.compensation_currency)) for t in law.compensation]
            if law else []
        ),
        "customer_term": own or default,
        "terms": [_term_row(company, t) for t in sorted(terms.values(), key=lambda t: t.code)],
        "items": [
            {"item": i, "term": (i.payment_term or own or default)} for i in items
        ],
    }  # fmt: skip
    return render_document("case_file/terms.html", context, language)


def _term_row(company: Company, term: PaymentTerm) -> dict[str, Any]:
    return {
        "term": term,
        "described": describe(term.to_rule(company.due_date_adjustment)),
        "interest": (
            f"{Decimal(term.interest_percent).normalize():f} % a year, {term.interest_day_count}"
            + (f", {term.interest_grace_days} days' grace" if term.interest_grace_days else "")
            if term.interest_percent is not None
            else ""
        ),
    }


# -- interest and fees ---------------------------------------------------------------------------


def _interest_parts(
    company: Company, customer: Customer, rows: list[ItemAsOf], as_of: date, language: str
) -> list[Part]:
    charges = list(
        OpenItem.objects.filter(customer=customer, kind__in=CHARGES, issued_on__lte=as_of,
                                voided_on__isnull=True)
        .select_related("related")
        .order_by("issued_on", "number")
    )  # fmt: skip
    open_on = {row.item.pk: row.open_minor for row in rows}
    accruals = _accruals(company, customer, rows, as_of)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["line", "number", "invoice", "from", "to", "days", "base", "rate_percent",
                     "amount", "booked", "outstanding", "currency", "basis"])  # fmt: skip
    for c in charges:
        writer.writerow([c.kind, c.number, c.related.number if c.related else "",
                         c.issued_on.isoformat(), c.due_on.isoformat(), "", "", "",
                         _major(c.amount_minor, c.currency), "",
                         _major(open_on.get(c.pk, 0), c.currency), c.currency, c.description])  # fmt: skip
    for a in accruals:
        for p in a["periods"]:
            writer.writerow(["accrual period", "", a["number"], p["from"], p["to"], p["days"],
                             p["base"], p["rate"], p["interest"], "", "", a["currency"],
                             p["reason"]])  # fmt: skip
        writer.writerow(["accrued to as of", "", a["number"], a["due_on"], as_of.isoformat(),
                         a["days_late"], a["open"], "", a["accrued"], a["booked"], a["unbooked"],
                         a["currency"], a["basis"]])  # fmt: skip
    html = render_document("case_file/interest.html", {
        "customer": customer, "company": company, "as_of": as_of,
        "charges": [{"item": c, "open": open_on.get(c.pk, 0)} for c in charges],
        "accruals": accruals,
    }, language)  # fmt: skip
    covers = f"fees and interest booked; interest accrued to {as_of.isoformat()} per invoice"
    return [Part("04-interest-and-fees.csv", out.getvalue().encode(), covers),
            Part("04-interest-and-fees.html", html.encode(), covers)]  # fmt: skip


def _accruals(
    company: Company, customer: Customer, rows: list[ItemAsOf], as_of: date
) -> list[dict[str, Any]]:
    """Per invoice overdue on `as_of`: the interest accrued to that day, what of it is booked.

    In the CSV a booked charge's `outstanding` is what is open of it; an accrual's is the part
    of the accrued interest not yet booked (what may still be claimed)."""
    overdue = [r for r in rows if r.item.kind == ItemKind.INVOICE and r.item.due_on < as_of
               and r.open_minor > 0]  # fmt: skip
    ids = [r.item.pk for r in overdue]
    reductions: dict[int, list[interest.Reduction]] = {}
    for target, on, amount in Allocation.objects.filter(
        target_id__in=ids, effective_on__lte=as_of
    ).values_list("target_id", "effective_on", "amount_minor"):
        reductions.setdefault(target, []).append(interest.Reduction(on, amount))
    booked: dict[int, int] = {}
    for related, amount in OpenItem.objects.filter(
        related_id__in=ids, kind=ItemKind.INTEREST, issued_on__lte=as_of, voided_on__isnull=True
    ).values_list("related_id", "amount_minor"):
        booked[related] = booked.get(related, 0) + amount
    law = interest.STATUTES.get(company.governing_law)
    default = applicable_term(company, None)
    rates: interest.Rates | None = None
    found = []
    for row in overdue:
        invoice = row.item
        term = invoice.payment_term or customer.payment_term or default
        parts = sorted(reductions.get(invoice.pk, []), key=lambda r: r.on)
        try:
            if term is not None and term.interest_percent is not None:
                percent = Decimal(term.interest_percent)
                result = interest.contractual_interest(
                    annual_percent=percent, amount_minor=invoice.amount_minor,
                    due_on=invoice.due_on, until=as_of, grace_days=term.interest_grace_days,
                    reductions=parts, day_count=interest.DayCount(term.interest_day_count),
                )  # fmt: skip
                basis = f"contract: {percent.normalize():f} % a year ({term.name})"
            elif law is not None and customer.kind != CustomerKind.CONSUMER:
                rates = rates or reference_rates()
                result = interest.statutory_interest(
                    law, amount_minor=invoice.amount_minor, due_on=invoice.due_on, until=as_of,
                    rates=rates, reductions=parts,
                )  # fmt: skip
                basis = f"{law.name} ({law.citation})"
            else:
                continue
        except interest.InterestError as error:
            found.append(_accrual_row(invoice, row.open_minor, None, str(error), 0, as_of))
            continue
        found.append(_accrual_row(invoice, row.open_minor, result, basis,
                                  booked.get(invoice.pk, 0), as_of))  # fmt: skip
    return found


def _accrual_row(
    invoice: OpenItem,
    open_minor: int,
    result: interest.Interest | None,
    basis: str,
    booked: int,
    as_of: date,
) -> dict[str, Any]:
    currency = invoice.currency
    accrued = result.interest_minor if result else 0
    compensation = result.compensation_minor if result else 0
    return {
        "number": invoice.number, "currency": currency, "due_on": invoice.due_on.isoformat(),
        "days_late": (as_of - invoice.due_on).days, "open": _major(open_minor, currency),
        "basis": basis, "accrued": _major(accrued, currency), "booked": _major(booked, currency),
        "unbooked": _major(max(accrued - booked, 0), currency),
        "compensation": (_major(compensation, result.compensation_currency)
                         if result and compensation else ""),
        "compensation_currency": result.compensation_currency if result else "",
        "periods": [
            {"from": p.start.isoformat(), "to": p.end.isoformat(), "days": p.days,
             "base": _major(p.base_minor, currency), "rate": f"{p.percent.normalize():f}",
             "interest": _major(p.interest_minor, currency, places=4), "reason": p.reason}
            for p in (result.periods if result else ())
        ],
        "notes": list(result.notes) if result else [],
    }  # fmt: skip


# -- history and contacts ------------------------------------------------------------------------

HISTORY_COLUMNS = ["on", "recorded_at", "kind", "actor", "item", "amount", "currency", "summary",
                   "channel", "recipients", "subject", "text"]  # fmt: skip


def _history_parts(company: Company, customer: Customer, as_of: date, language: str) -> list[Part]:
    entries = list(
        Activity.objects.filter(company=company, customer=customer, on__lte=as_of)
        .exclude(kind=ActivityKind.CASE_FILE_EXPORTED)
        .select_related("item")
        .order_by("recorded_at", "id")
    )
    messages = {
        m.pk: m
        for m in Message.objects.filter(customer=customer, status__in=SENT,
                                        business_date__lte=as_of)
    }  # fmt: skip
    rows = [_history_row(e, messages) for e in entries]
    told = {row["message"] for row in rows if row["message"]}
    # A message without its history entry (an uncertain delivery): listed on its own.
    rows.extend(
        _message_row(m)
        for m in sorted(messages.values(), key=lambda m: (m.business_date, m.pk))
        if m.pk not in told
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for row in rows:
        writer.writerow([row[c] for c in HISTORY_COLUMNS])
    html = render_document("case_file/history.html",
                           {"customer": customer, "company": company, "as_of": as_of,
                            "rows": rows}, language)  # fmt: skip
    covers = "the account's history to the day, with the text of every message and letter sent"
    return [Part("05-history.csv", out.getvalue().encode(), covers),
            Part("05-history.html", html.encode(), covers)]  # fmt: skip


def _history_row(entry: Activity, messages: dict[int, Message]) -> dict[str, Any]:
    data = entry.data or {}
    message_id = data.get("message")
    message = messages.get(message_id) if isinstance(message_id, int) else None
    recipients = data.get("to") or (
        [r.get("email") or r.get("name", "") for r in message.recipients] if message else []
    )
    return {
        "on": entry.on.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "kind": english(entry.get_kind_display),
        "actor": entry.actor_label,
        "item": entry.item.number if entry.item else "",
        "amount": _major(entry.amount_minor, entry.currency) if entry.amount_minor is not None
        and entry.currency else "",
        "currency": entry.currency,
        "summary": entry.summary,
        "channel": english(message.get_channel_display) if message else "",
        "recipients": ", ".join(recipients),
        "subject": data.get("subject", message.subject if message else ""),
        "text": data.get("body", message.body if message else ""),
        "message": message.pk if message else None,
    }  # fmt: skip


def _message_row(message: Message) -> dict[str, Any]:
    return {
        "on": message.business_date.isoformat(),
        "recorded_at": (message.sent_at or message.created_at).isoformat(),
        "kind": f"Message ({english(message.get_status_display).lower()})",
        "actor": "system", "item": "", "amount": "", "currency": message.currency,
        "summary": message.subject, "channel": english(message.get_channel_display),
        "recipients": ", ".join(r.get("email") or r.get("name", "") for r in message.recipients),
        "subject": message.subject, "text": message.body, "message": message.pk,
    }  # fmt: skip


def _contacts_csv(customer: Customer) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "role", "email", "phone", "preferred_channel", "language",
                     "receives_reminders", "email_bounced_on"])  # fmt: skip
    for c in customer.contacts.order_by("name", "pk"):
        writer.writerow([c.name, english(c.get_role_display), c.email, c.phone,
                         english(c.get_preferred_channel_display), c.language or customer.language,
                         "yes" if c.receives_reminders else "no",
                         c.email_bounced_on.isoformat() if c.email_bounced_on else ""])  # fmt: skip
    return out.getvalue().encode()


def _major(minor: int | Decimal, currency: str, places: int | None = None) -> str:
    if isinstance(minor, int):
        if places is None:
            return str(Money.from_minor(minor, currency).amount)
        minor = Decimal(minor)
    value = minor.scaleb(-exponent(currency))
    shown = exponent(currency) if places is None else places
    return f"{value.quantize(Decimal(1).scaleb(-shown)):f}"
