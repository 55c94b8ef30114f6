"""Remittance advices: stored as received, and made the split of the statement line they describe.

An advice (`formats.remittance.RemittanceAdvice`) says which documents one payment covers. It is
stored whole (`Advice` and its rows, each resolved to the open item of that number where there
is one), then looked for among the unmatched credit lines: the same amount in the same currency,
a value date within ADVICE_DAYS of the payment date (when the advice gives one), and, when the
advice names a payment reference that one of those lines carries (text, creditor reference,
end-to-end id, bank reference), that line. Exactly one line, or the advice waits unlinked with a
note. When every row resolves to one customer's item and the amounts fit the line, the line's
proposals are replaced by the advice's split at rank 1 (confidence 1000, rule "advice"), the
matcher's earlier ones kept below it; the matcher then leaves the line alone (the payer's
designation binds, DOMAIN.md 4.5) and a person confirms it with `dunwell cash confirm LINE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cash.models import Advice, AdviceRow, LineState, StatementLine
from dunwell.cash.models import Proposal as StoredProposal
from dunwell.core.document_numbers import lookup_key
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.core.money import Money, MoneyError
from dunwell.formats.remittance import RemittanceAdvice
from dunwell.ledger.models import ItemKind, OpenItem

ADVICE_DAYS = 5
RULE = "advice"


@dataclass(frozen=True)
class Outcome:
    advice: Advice
    line: StatementLine | None  # the line it describes (linked only when `proposed`)
    proposed: bool  # the line's first proposal is now the advice's split


def _minor(amount: Decimal | None, currency: str, field: str) -> int:
    if amount is None:
        return 0
    try:
        return Money(amount, currency).minor
    except (MoneyError, ArithmeticError):
        raise DunwellError(ErrorCode.INVALID, f"{amount} is not an amount in {currency}",
                           field=field) from None  # fmt: skip


@transaction.atomic
def store_advice(
    *,
    company: Company,
    advice: RemittanceAdvice,
    source: str,
    actor: User | None,
    at: datetime,
    line: StatementLine | None = None,
) -> Outcome:
    """Store `advice` and make it the split of its line (`line` when a person names it)."""
    if not advice.documents:
        raise DunwellError(ErrorCode.INVALID, "the advice names no document", field="documents")
    currency = (advice.currency or (line.currency if line else company.base_currency)).upper()
    rows = [
        AdviceRow(position=n, number=doc.number[:60],
                  amount_minor=_minor(doc.amount, currency, "amount"),
                  discount_minor=_minor(doc.discount, currency, "discount"))
        for n, doc in enumerate(advice.documents, start=1)
    ]  # fmt: skip
    total = (
        _minor(advice.amount, currency, "amount")
        if advice.amount is not None
        else sum(r.amount_minor for r in rows)
    )
    stored = Advice.objects.create(
        company=company, payment_key=advice.payment_key[:140], paid_on=advice.paid_on,
        amount_minor=total, currency=currency, source=source[:300], received_at=at,
        received_by=actor,
    )  # fmt: skip
    _resolve(company, rows)
    for row in rows:
        row.advice = stored
    AdviceRow.objects.bulk_create(rows)
    if line is None:
        found = candidates(company, stored)
        if len(found) != 1:
            stored.note = (
                "no unmatched line of this amount and date yet"
                if not found
                else f"{len(found)} lines could be it ({', '.join(str(x.pk) for x in found)})"
            )
            stored.save(update_fields=["note"])
            return Outcome(stored, None, False)
        line = found[0]
    line = StatementLine.objects.select_for_update().get(pk=line.pk, company=company)
    problem = _problem(line, stored, rows)
    if problem:  # not linked: the matcher keeps proposing for the line
        stored.note = f"line {line.pk}: {problem}"[:500]
        stored.save(update_fields=["note"])
        return Outcome(stored, line, False)
    stored.line = line
    stored.save(update_fields=["line"])
    _propose(line, stored, rows, at)
    return Outcome(stored, line, True)


def candidates(company: Company, advice: Advice) -> list[StatementLine]:
    """The unmatched credit lines, not described by another advice, that `advice` may be."""
    found = StatementLine.objects.filter(
        company=company, state=LineState.UNMATCHED, reversal=False, currency=advice.currency,
        amount_minor=advice.amount_minor,
    ).exclude(advices__isnull=False)  # fmt: skip
    if advice.paid_on is not None:
        window = timedelta(days=ADVICE_DAYS)
        found = found.filter(value_on__range=(advice.paid_on - window, advice.paid_on + window))
    lines = list(found.order_by("value_on", "pk")[:20])
    key = advice.payment_key.strip()
    if key and len(lines) > 1:
        named = [x for x in lines if _carries(x, key)]
        return named or lines
    return lines


def _carries(line: StatementLine, key: str) -> bool:
    wanted = key.replace(" ", "").casefold()
    texts = [line.text, line.end_to_end_id, line.bank_reference, *map(str, line.structured)]
    return any(wanted in t.replace(" ", "").casefold() for t in texts if t)


def _resolve(company: Company, rows: list[AdviceRow]) -> None:
    """Each row's open item: by its number exactly, else by the number's lookup key."""
    items = OpenItem.objects.filter(company=company, voided_on__isnull=True).exclude(
        kind=ItemKind.REFUND
    )
    numbers = {r.number for r in rows}
    exact: dict[str, OpenItem] = {}
    for item in items.filter(number__in=numbers).order_by("pk"):
        exact.setdefault(item.number, item)
    keys = {lookup_key(r.number) for r in rows if r.number not in exact} - {""}
    by_key: dict[str, list[OpenItem]] = {}
    for item in items.filter(number_key__in=keys).order_by("pk"):
        by_key.setdefault(item.number_key, []).append(item)
    for row in rows:
        hits = by_key.get(lookup_key(row.number), [])
        row.item = exact.get(row.number) or (hits[0] if len(hits) == 1 else None)


def _problem(line: StatementLine, advice: Advice, rows: list[AdviceRow]) -> str:
    if line.state != LineState.UNMATCHED or line.amount_minor <= 0:
        return f"line {line.pk} is not an unmatched credit"
    unknown = [r.number for r in rows if r.item is None]
    if unknown:
        return f"no open document numbered {', '.join(unknown)}"
    if len({r.item.customer_id for r in rows if r.item}) > 1:
        return "the documents are more than one customer's"
    if any(r.item and r.item.currency != line.currency for r in rows):
        return f"a document is not in {line.currency}"
    paid = sum(r.amount_minor for r in rows)
    if paid > line.amount_minor:
        shown = Money.from_minor(line.amount_minor, line.currency)
        return f"the advice pays {Money.from_minor(paid, line.currency)}, the line has {shown}"
    return ""


def _propose(line: StatementLine, advice: Advice, rows: list[AdviceRow], at: datetime) -> None:
    customer_id = next(r.item.customer_id for r in rows if r.item is not None)
    parts = ", ".join(
        f"{r.number} {Money.from_minor(r.amount_minor, line.currency).amount}"
        + (f" (discount {Money.from_minor(r.discount_minor, line.currency).amount})"
           if r.discount_minor else "")
        for r in rows
    )  # fmt: skip
    named = f"remittance advice {advice.payment_key}" if advice.payment_key else "remittance advice"
    dated = f" of {advice.paid_on}" if advice.paid_on else ""
    earlier = list(line.proposals.order_by("rank"))
    line.proposals.all().delete()
    proposals = [
        StoredProposal(
            company_id=line.company_id, line=line, rank=1, confidence=1000, rule=RULE,
            reason=f"{named}{dated}: {parts}"[:500], customer_id=customer_id,
            allocations=[{"item": r.item_id, "amount_minor": r.amount_minor,
                          "discount_minor": r.discount_minor, "charges_minor": 0} for r in rows],
            unapplied_minor=line.amount_minor - sum(r.amount_minor for r in rows),
            proposed_at=at,
        )
    ]  # fmt: skip
    for rank, p in enumerate(earlier, start=2):
        p.pk, p.rank = None, rank
        proposals.append(p)
    StoredProposal.objects.bulk_create(proposals)
