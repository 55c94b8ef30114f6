"""Applying a bank statement line: the payment, its allocations and what follows, in one go.

`apply_line` turns an unmatched credit line and one way to apply it (a `Proposal` of
`cash.rules.values`: the matcher's, or one a person wrote) into, in ONE transaction:

1. a ledger `Payment` on the proposal's customer, with the line's value date, amount, payer name,
   IBAN and reference; its external id is "bank:" + the line's account and key, so a retry can
   never record the money twice (the line is locked first and must still be unmatched);
2. per allocation: bank charges written off (`write_off`, reason "bank charges"), open credit
   notes netted against the invoices (`apply_credit_note`), then the cash through
   `workflows.payments.apply_payment`, which grants the early-payment discount where the ledger's
   terms earn it and tracks promises and plan instalments; what is left stays unapplied cash;
3. the line marked applied with the customer, payment, rule, reason and who decided;
4. the payer IBAN learned (`KnownAccount`): a person's confirmation counts once more; an
   automatic application counts only when the payer itself named what it paid (a reference, an
   end-to-end id, a remittance), so an IBAN never confirms itself;
5. history: PAYMENT_RECEIVED carries the matching reason (and the line in its data); the ledger
   services write ALLOCATED, DISCOUNT_GRANTED, WRITTEN_OFF and CREDIT_APPLIED.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cash.models import KnownAccount, LineState, StatementLine
from dunwell.cash.models import Proposal as StoredProposal
from dunwell.cash.rules import matching
from dunwell.cash.rules.evidence import DESIGNATING_RULES
from dunwell.cash.rules.values import Allocation, Proposal, Settings
from dunwell.cash.services import matching as scoring
from dunwell.cash.services.matching import MatchReport
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.ledger.models import ActivityKind, Customer, ItemKind, OpenItem, Payment
from dunwell.ledger.services import activity
from dunwell.ledger.services.allocations import apply_credit_note, write_off
from dunwell.ledger.services.payments import PaymentInput, receive_payment
from dunwell.workflows.payments import apply_payment

CHARGES_REASON = "bank charges"


def external_id(line: StatementLine) -> str:
    """The payment's natural key: the same line always gives the same one (at most 80 chars)."""
    key = f"bank:{line.account_id}:{line.key}"
    if len(key) <= 80:
        return key
    return "bank:" + hashlib.sha256(key.encode()).hexdigest()[:60]


def from_stored(stored: StoredProposal) -> Proposal:
    """The value a stored proposal row holds."""
    return Proposal(
        customer_id=stored.customer_id,
        allocations=tuple(
            Allocation(
                a["item"], a["amount_minor"], a.get("discount_minor", 0), a.get("charges_minor", 0)
            )
            for a in stored.allocations
        ),
        unapplied_minor=stored.unapplied_minor,
        confidence=stored.confidence,
        rule=stored.rule,
        reason=stored.reason,
    )


@transaction.atomic
def apply_line(
    *,
    company: Company,
    line: StatementLine,
    proposal: Proposal,
    actor: User | None,
    at: datetime,
) -> Payment:
    """Book `line` as a payment applied as `proposal` says (see the module docstring).

    `actor` None is the matcher applying it automatically; a user is a person confirming it.
    """
    locked = StatementLine.objects.select_for_update().filter(company=company, pk=line.pk).first()
    if locked is None:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no statement line {line.pk} in this company")
    line = locked
    _check(company, line, proposal)
    customer = Customer.objects.get(company=company, pk=proposal.customer_id)
    items = OpenItem.objects.filter(company=company).in_bulk(
        [a.item_id for a in proposal.allocations]
    )
    payment = receive_payment(
        company=company,
        spec=PaymentInput(
            customer=customer,
            external_id=external_id(line),
            value_on=line.value_on,
            currency=line.currency,
            amount_minor=line.amount_minor,
            reference=(line.structured[0] if line.structured else line.text)[:140],
            payer_name=line.counterparty_name,
            payer_iban=line.counterparty_iban,
            source=f"statement line {line.pk}",
        ),
        actor=actor,
        at=at,
        note=f"matched ({proposal.rule}): {proposal.reason}",
        data={"statement_line": line.pk, "rule": proposal.rule, "confidence": proposal.confidence},
    )
    _allocate(company, payment, proposal.allocations, items, actor, at)
    line.state = LineState.APPLIED
    line.customer = customer
    line.payment = payment
    line.rule = proposal.rule[:40]
    line.reason = proposal.reason[:500]
    line.decided_at = at
    line.decided_by = actor
    line.save(update_fields=["state", "customer", "payment", "rule", "reason", "decided_at",
                             "decided_by"])  # fmt: skip
    line.proposals.all().delete()
    if actor is not None or proposal.rule in DESIGNATING_RULES:
        learn_iban(company, line.counterparty_iban, customer, at)
    return payment


def learn_iban(company: Company, iban: str, customer: Customer, at: datetime) -> None:
    iban = iban.replace(" ", "").upper()
    if not iban:
        return
    known, _ = KnownAccount.objects.select_for_update().get_or_create(
        company=company, iban=iban, customer=customer, defaults={"last_confirmed_at": at}
    )
    known.confirmations += 1
    known.last_confirmed_at = at
    known.save(update_fields=["confirmations", "last_confirmed_at"])


def check_undecided(line: StatementLine) -> None:
    """Refuse a line someone (or the matcher) already decided: applied, ignored, returned..."""
    if line.state != LineState.UNMATCHED or line.payment_id is not None:
        raise DunwellError(
            ErrorCode.CONFLICT,
            f"statement line {line.pk} is {english(line.get_state_display).lower()} already",
            field="line",
        )


def typed_proposal(
    *, company: Company, line: StatementLine, items: Sequence[tuple[str, str]], by: str
) -> Proposal:
    """A person's way to apply `line`: (document number, amount as typed) pairs, that cash on
    each document, the rest of the line unapplied (`dunwell cash confirm --item`, the bank
    page's split form). One customer's documents; an invoice takes at most its open amount, a
    credit note a negative amount down to its open credit."""
    allocations: list[Allocation] = []
    customer_id: int | None = None
    found: dict[str, list[OpenItem]] = {}
    for item in OpenItem.objects.filter(
        company=company, number__in=[number.strip() for number, _ in items]
    ).order_by("pk"):
        found.setdefault(item.number, []).append(item)
    for given, amount in items:
        number = given.strip()
        if not found.get(number):
            raise DunwellError(ErrorCode.UNKNOWN_DOCUMENT, f"no document numbered {number!r}",
                               field="item")  # fmt: skip
        if len(found[number]) > 1:
            kinds = ", ".join(english(i.get_kind_display).lower() for i in found[number])
            raise DunwellError(ErrorCode.INVALID, f"{number} names more than one document "
                               f"({kinds})", field="item")  # fmt: skip
        item = found[number][0]
        try:
            minor = Money(parse_amount(amount.strip()), line.currency).minor
        except (MoneyError, ValueError, ArithmeticError):
            raise DunwellError(ErrorCode.INVALID, f"{number}: {amount.strip()!r} is not an "
                               "amount like 1250.00", field="amount") from None  # fmt: skip
        _check_typed(item, minor)
        if customer_id not in (None, item.customer_id):
            raise DunwellError(ErrorCode.INVALID, f"{number} is another customer's: the "
                               "documents must be one customer's", field="item")  # fmt: skip
        customer_id = item.customer_id
        allocations.append(Allocation(item.pk, minor))
    if customer_id is None:
        raise DunwellError(ErrorCode.INVALID, "give at least one document number and amount",
                           field="item")  # fmt: skip
    total = sum(a.amount_minor for a in allocations)
    if total > line.amount_minor:
        raise DunwellError(
            ErrorCode.INVALID,
            f"the amounts add up to {Money.from_minor(total, line.currency)}, more than the "
            f"{Money.from_minor(line.amount_minor, line.currency)} the line received",
            field="amount",
        )
    numbers = ", ".join(number.strip() for number, _ in items)
    return Proposal(customer_id, tuple(allocations), line.amount_minor - total, 1000, "manual",
                    f"{by} applied it to {numbers}")  # fmt: skip


def _check_typed(item: OpenItem, minor: int) -> None:
    def shown(amount: int) -> Money:
        return Money.from_minor(amount, item.currency)

    if item.kind == ItemKind.CREDIT_NOTE:
        if minor >= 0 or minor < item.open_minor:
            raise DunwellError(ErrorCode.INVALID, f"{item.number} is a credit note: give a "
                               f"negative amount, down to its open {shown(item.open_minor)}",
                               field="amount")  # fmt: skip
    elif minor <= 0:
        raise DunwellError(ErrorCode.INVALID, f"{item.number}: the amount must be more than zero",
                           field="amount")  # fmt: skip
    elif minor > item.open_minor:
        raise DunwellError(ErrorCode.OVER_ALLOCATION, f"{item.number}: {shown(minor)} is more "
                           f"than the {shown(max(item.open_minor, 0))} open on it",
                           field="amount")  # fmt: skip


def _check(company: Company, line: StatementLine, proposal: Proposal) -> None:
    check_undecided(line)
    if line.amount_minor <= 0 or line.reversal:
        raise DunwellError(
            ErrorCode.INVALID,
            f"statement line {line.pk} is not money received: only a credit can be applied",
            field="line",
        )
    total = sum(a.amount_minor for a in proposal.allocations) + proposal.unapplied_minor
    if total != line.amount_minor or proposal.unapplied_minor < 0:
        shown = Money.from_minor(line.amount_minor, line.currency)
        raise DunwellError(
            ErrorCode.INVALID,
            f"the allocations and unapplied cash must add up to the line's {shown}, not "
            f"{Money.from_minor(total, line.currency)}",
            field="amount",
        )
    if not Customer.objects.filter(company=company, pk=proposal.customer_id).exists():
        raise DunwellError(ErrorCode.UNKNOWN_CUSTOMER, "no such customer", field="customer")


def _allocate(
    company: Company,
    payment: Payment,
    allocations: Sequence[Allocation],
    items: dict[int, OpenItem],
    actor: User | None,
    at: datetime,
) -> None:
    missing = [a.item_id for a in allocations if a.item_id not in items]
    if missing:
        raise DunwellError(ErrorCode.UNKNOWN_DOCUMENT, f"no open item {missing[0]}", field="item")
    for a in allocations:
        if items[a.item_id].currency != payment.currency:
            raise DunwellError(
                ErrorCode.CURRENCY_MISMATCH,
                f"{items[a.item_id]} is in {items[a.item_id].currency}, the line in "
                f"{payment.currency}",
                field="item",
            )
    debits = [a for a in allocations if items[a.item_id].kind != ItemKind.CREDIT_NOTE]
    credits = [a for a in allocations if items[a.item_id].kind == ItemKind.CREDIT_NOTE]
    # Cash still to put on each debit item: its allocation, less the credit notes netted on it.
    cash = {a.item_id: a.amount_minor for a in debits}
    for credit in credits:
        left = -credit.amount_minor
        for a in debits:
            share = min(left, cash[a.item_id])
            if share > 0:
                apply_credit_note(company=company, credit_note=items[credit.item_id],
                                  item=items[a.item_id], amount_minor=share, on=payment.value_on,
                                  actor=actor, at=at)  # fmt: skip
                cash[a.item_id] -= share
                left -= share
        if left:
            raise DunwellError(
                ErrorCode.INVALID,
                f"{items[credit.item_id]} nets more than the invoices it is applied with",
                field="amount",
            )
    for a in debits:
        item = items[a.item_id]
        if a.charges_minor:
            write_off(company=company, item=item, on=payment.value_on, reason=CHARGES_REASON,
                      amount_minor=a.charges_minor, actor=actor, at=at)  # fmt: skip
        if cash[a.item_id] > 0:
            apply_payment(company=company, payment=payment, item=item,
                          amount_minor=cash[a.item_id], actor=actor, at=at)  # fmt: skip
        if a.discount_minor:
            item.refresh_from_db(fields=["open_minor"])
            if item.open_minor != 0:
                raise DunwellError(
                    ErrorCode.INVALID,
                    f"the early-payment discount on {item} is not earned by this payment: "
                    f"{Money.from_minor(item.open_minor, item.currency)} would stay open",
                    field="discount",
                )


@transaction.atomic
def ignore_line(
    *, company: Company, line: StatementLine, reason: str, actor: User, at: datetime
) -> StatementLine:
    """A person says the line is no receivable (a supplier refund, a transfer, a fee)."""
    if not reason.strip():
        raise DunwellError(
            ErrorCode.INVALID, "say why the line is not a receivable", field="reason"
        )
    locked = StatementLine.objects.select_for_update().filter(company=company, pk=line.pk).first()
    if locked is None:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no statement line {line.pk} in this company")
    check_undecided(locked)
    locked.state = LineState.IGNORED
    locked.rule, locked.reason = "ignored", reason.strip()[:500]
    locked.decided_at, locked.decided_by = at, actor
    locked.save(update_fields=["state", "rule", "reason", "decided_at", "decided_by"])
    locked.proposals.all().delete()
    activity.record(company=company, kind=ActivityKind.NOTE_ADDED, on=locked.value_on, at=at,
                    actor=actor, amount_minor=locked.amount_minor, currency=locked.currency,
                    summary=f"statement line {locked.pk} ({locked}) is not a receivable: "
                    f"{locked.reason}", data={"statement_line": locked.pk})  # fmt: skip
    return locked


def match_lines(
    *, company: Company, at: datetime, line_ids: Iterable[int] | None = None,
    settings: Settings = matching.DEFAULT_SETTINGS,
) -> MatchReport:  # fmt: skip
    """Match the company's unmatched credit lines and apply, each in its own transaction, the
    proposals `decide` picks (`cash.services.matching.match_lines`)."""

    def apply(line: StatementLine, proposal: Proposal) -> None:
        apply_line(company=company, line=line, proposal=proposal, actor=None, at=at)

    return scoring.match_lines(company=company, at=at, line_ids=line_ids, settings=settings,
                               apply=apply)  # fmt: skip
