"""Applying bank statement lines: the payments, their allocations and what follows, in one go.

`apply_lines` turns unmatched credit lines, each with one way to apply it (a `Proposal` of
`cash.rules.values`: the matcher's, or one a person wrote), into, in ONE transaction for the
batch (`apply_line` is a batch of one):

1. a ledger `Payment` per line on the proposal's customer, with the line's value date, amount,
   payer name, IBAN and reference; its external id is "bank:" + the line's account and key, so
   a retry can never record the money twice (the lines are locked first and must be unmatched);
2. open credit notes netted against the invoices (`apply_credit_note`), bank charges written
   off (`write_offs`, reason "bank charges"), then the cash through
   `workflows.payments.apply_payments`, which grants the early-payment discount where the
   ledger's terms earn it and tracks promises and plan instalments; what is left stays
   unapplied cash;
3. the lines marked applied with the customer, payment, rule, reason and who decided;
4. the payer IBANs learned (`KnownAccount`): a person's confirmation counts once more; an
   automatic application counts only when the payer itself named what it paid (a reference, an
   end-to-end id, a remittance), so an IBAN never confirms itself;
5. history: PAYMENT_RECEIVED carries the matching reason (and the line in its data); the ledger
   services write ALLOCATED, DISCOUNT_GRANTED, WRITTEN_OFF and CREDIT_APPLIED.

Set-based: a fixed number of statements per batch whatever its size, the ledger's own batch
services (`receive_payments`, `write_offs`, `allocate_payments`) doing what they do for one.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q

from dunwell.cases.services import tracking
from dunwell.cash.models import KnownAccount, LineState, StatementLine
from dunwell.cash.models import Proposal as StoredProposal
from dunwell.cash.rules import matching
from dunwell.cash.rules.evidence import DESIGNATING_RULES
from dunwell.cash.rules.values import Allocation, Proposal, Settings
from dunwell.cash.services import matching as scoring
from dunwell.cash.services.matching import MatchReport
from dunwell.core.bulk import company_rows, insert_instances, update_instances
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.ledger.models import ActivityKind, Customer, ItemKind, OpenItem, Payment
from dunwell.ledger.services import activity
from dunwell.ledger.services.allocations import (
    Share,
    WriteOffRequest,
    apply_credit_note,
    void_payment,
    write_offs,
)
from dunwell.ledger.services.payments import PaymentInput, Received, receive_payments
from dunwell.ledger.services.refunds import refund_unapplied
from dunwell.workflows.payments import apply_payments

CHARGES_REASON = "bank charges"
CHECKED_ITEM = ("id", "company_id", "kind", "number", "currency", "open_minor", "voided_on")


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


class RefusedLineError(Exception):
    """A line of a batch found wrong only once the batch was written (a discount the ledger did
    not grant): the batch is rolled back and tried again without it."""

    def __init__(self, line_id: int, error: DunwellError) -> None:
        super().__init__(str(error))
        self.line_id, self.error = line_id, error


@dataclass
class Applied:
    """What `apply_lines` did: the payment booked per line applied, why each other was not."""

    payments: dict[int, Payment] = field(default_factory=dict)
    refused: dict[int, DunwellError] = field(default_factory=dict)


@transaction.atomic
def apply_line(
    *,
    company: Company,
    line: StatementLine,
    proposal: Proposal,
    actor: User | None,
    at: datetime,
) -> Payment:
    """Book `line` as a payment applied as `proposal` says (see the module docstring); a refusal
    is raised. `actor` None is the matcher applying it automatically; a user is a person."""
    done = apply_lines(company=company, pairs=[(line.pk, proposal)], actor=actor, at=at)
    if line.pk in done.refused:
        raise done.refused[line.pk]
    return done.payments[line.pk]


def apply_lines(
    *,
    company: Company,
    pairs: Sequence[tuple[int, Proposal]],
    actor: User | None,
    at: datetime,
) -> Applied:
    """Book each (line id, proposal) as `apply_line` does, set-based: one transaction for the batch,
    a fixed number of statements whatever its size (the payments, their history, the bank
    charges, the allocations, the promises and plans, the lines, the learned IBANs). A line that
    cannot be applied as proposed (decided already, stale amounts, another currency...) is
    refused with its reason and stays unmatched; the others are applied. A refusal the checks
    could not foresee rolls the batch back, and it is tried again without that line (or, when no
    line can be blamed, line by line), so one bad line never costs the others theirs."""
    done = Applied()
    pending = list(pairs)
    while pending:
        try:
            with transaction.atomic():
                done.payments = _book(company, pending, actor, at, done.refused)
        except RefusedLineError as refused:
            done.refused[refused.line_id] = refused.error
            pending = [p for p in pending if p[0] not in done.refused]
            continue
        except DunwellError as error:
            if len(pending) == 1:
                done.refused[pending[0][0]] = error
                return done
            for pair in pending:
                one = apply_lines(company=company, pairs=[pair], actor=actor, at=at)
                done.payments.update(one.payments)
                done.refused.update(one.refused)
        return done
    return done


def _book(
    company: Company,
    pairs: Sequence[tuple[int, Proposal]],
    actor: User | None,
    at: datetime,
    refused: dict[int, DunwellError],
) -> dict[int, Payment]:
    lines = company_rows(StatementLine, company.pk, [line_id for line_id, _ in pairs],
                         StatementLine.objects.select_for_update())  # fmt: skip
    # Only what the checks read (a thousand full rows of each cost a batch 60 ms): the customers
    # are linked to, not read; the ledger services lock and read the items they change.
    customers = company_rows(Customer, company.pk, {p.customer_id for _, p in pairs},
                             Customer.objects.only("id", "company_id"))  # fmt: skip
    items = company_rows(OpenItem, company.pk, {a.item_id for _, p in pairs for a in p.allocations},
                         OpenItem.objects.only(*CHECKED_ITEM))  # fmt: skip
    left = {pk: item.open_minor for pk, item in items.items()}
    accepted: list[tuple[StatementLine, Proposal]] = []
    for line_id, proposal in pairs:
        try:
            line = lines.get(line_id)
            if line is None:
                raise DunwellError(ErrorCode.NOT_FOUND,
                                   f"no statement line {line_id} in this company")  # fmt: skip
            _check(line, proposal, customers)
            _check_items(line, proposal, items, left)
        except DunwellError as error:
            refused[line_id] = error
            continue
        accepted.append((line, proposal))
    if not accepted:
        return {}
    payments = receive_payments(
        company=company,
        received=[Received(_payment_of(line, customers[p.customer_id]),
                           note=f"matched ({p.rule}): {p.reason}",
                           data={"statement_line": line.pk, "rule": p.rule,
                                 "confidence": p.confidence})
                  for line, p in accepted],
        actor=actor,
        at=at,
    )  # fmt: skip
    charges: list[WriteOffRequest] = []
    shares: list[Share] = []
    discounted: dict[int, int] = {}  # item -> line, where the proposal counts on its discount
    for (line, proposal), payment in zip(accepted, payments, strict=True):
        cash = _net_credit_notes(company, payment, proposal.allocations, items, actor, at)
        for a in proposal.allocations:
            if a.item_id not in cash:
                continue
            if a.charges_minor:
                charges.append(WriteOffRequest(a.item_id, payment.value_on, CHARGES_REASON,
                                               a.charges_minor, payment_id=payment.pk))  # fmt: skip
            if cash[a.item_id] > 0:
                shares.append(Share(payment.pk, a.item_id, cash[a.item_id]))
            if a.discount_minor:
                discounted[a.item_id] = line.pk
    write_offs(company=company, requests=charges, actor=actor, at=at)
    apply_payments(company=company, shares=shares, actor=actor, at=at)
    for item_id, open_minor in (
        OpenItem.objects.filter(pk__in=list(discounted))
        .exclude(open_minor=0)
        .values_list("pk", "open_minor")
    ):
        item = items[item_id]
        raise RefusedLineError(discounted[item_id], DunwellError(
            ErrorCode.INVALID,
            f"the early-payment discount on {item} is not earned by this payment: "
            f"{Money.from_minor(open_minor, item.currency)} would stay open",
            field="discount",
        ))  # fmt: skip
    for (line, proposal), payment in zip(accepted, payments, strict=True):
        _close(line, LineState.APPLIED, proposal.rule, proposal.reason, actor, at,
               customer=customers[proposal.customer_id], payment=payment)  # fmt: skip
    _save_closed([line for line, _ in accepted], ("customer", "payment"))
    learn_ibans(company, [(line.counterparty_iban, p.customer_id) for line, p in accepted
                          if actor is not None or p.rule in DESIGNATING_RULES], at)  # fmt: skip
    return {line.pk: payment for (line, _), payment in zip(accepted, payments, strict=True)}


def _payment_of(line: StatementLine, customer: Customer) -> PaymentInput:
    return PaymentInput(
        customer=customer,
        external_id=external_id(line),
        value_on=line.value_on,
        currency=line.currency,
        amount_minor=line.amount_minor,
        reference=(line.structured[0] if line.structured else line.text)[:140],
        payer_name=line.counterparty_name,
        payer_iban=line.counterparty_iban,
        source=f"statement line {line.pk}",
    )


DECIDED = ("state", "rule", "reason", "decided_at", "decided_by")


def _close(
    line: StatementLine, state: str, rule: str, reason: str, actor: User | None, at: datetime,
    **links: object,
) -> None:  # fmt: skip
    """Mark `line` as `state` with what decided it (the rule, the reason, who and when) and the
    rows it now points at (`links`: customer, payment, returns, refund), unsaved."""
    line.state, line.rule, line.reason = state, rule[:40], reason[:500]
    line.decided_at, line.decided_by = at, actor
    for name, value in links.items():
        setattr(line, name, value)


def _save_closed(lines: Sequence[StatementLine], links: Sequence[str]) -> None:
    """Store what `_close` set on `lines`; their proposals go."""
    update_instances(lines, [*DECIDED, *links])
    StoredProposal.objects.filter(line_id__in=[line.pk for line in lines]).delete()


def _decide(
    line: StatementLine, state: str, rule: str, reason: str, actor: User | None, at: datetime,
    **links: object,
) -> None:  # fmt: skip
    """Close one line (`_close`) and store it."""
    _close(line, state, rule, reason, actor, at, **links)
    _save_closed([line], list(links))


def learn_iban(company: Company, iban: str, customer: Customer, at: datetime) -> None:
    learn_ibans(company, [(iban, customer.pk)], at)


def learn_ibans(company: Company, pairs: Iterable[tuple[str, int]], at: datetime) -> None:
    """Each (payer IBAN, customer) confirmed once more (`KnownAccount`), set-based."""
    counts = Counter((iban.replace(" ", "").upper(), customer) for iban, customer in pairs)
    counts = Counter({(iban, customer): n for (iban, customer), n in counts.items() if iban})
    if not counts:
        return
    known = {
        (k.iban, k.customer_id): k
        for k in KnownAccount.objects.select_for_update().filter(
            company=company, iban__in={iban for iban, _ in counts}
        )
    }
    new, changed = [], []
    for (iban, customer_id), n in counts.items():
        row = known.get((iban, customer_id))
        if row is None:
            new.append(KnownAccount(company=company, iban=iban, customer_id=customer_id,
                                    confirmations=n, last_confirmed_at=at))  # fmt: skip
        else:
            row.confirmations += n
            row.last_confirmed_at = at
            changed.append(row)
    insert_instances(new)
    update_instances(changed, ["confirmations", "last_confirmed_at"])


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


def _check(line: StatementLine, proposal: Proposal, customers: dict[int, Customer]) -> None:
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
    if proposal.customer_id not in customers:
        raise DunwellError(ErrorCode.UNKNOWN_CUSTOMER, "no such customer", field="customer")


def _check_items(
    line: StatementLine, proposal: Proposal, items: dict[int, OpenItem], left: dict[int, int]
) -> None:
    """The proposal's documents exist, are open, in the line's currency, and still owe what it
    puts on them after the batch's earlier lines (`left`, which it then takes)."""
    missing = [a.item_id for a in proposal.allocations if a.item_id not in items]
    if missing:
        raise DunwellError(ErrorCode.UNKNOWN_DOCUMENT, f"no open item {missing[0]}", field="item")
    wanted: Counter[int] = Counter()
    for a in proposal.allocations:
        item = items[a.item_id]
        if item.currency != line.currency:
            raise DunwellError(ErrorCode.CURRENCY_MISMATCH, f"{item} is in {item.currency}, the "
                               f"line in {line.currency}", field="item")  # fmt: skip
        if item.voided_on is not None:
            raise DunwellError(ErrorCode.ALREADY_VOID, f"{item} was voided on {item.voided_on}")
        wanted[a.item_id] += a.amount_minor + a.charges_minor
    for item_id, amount in wanted.items():
        item = items[item_id]
        credit = item.kind == ItemKind.CREDIT_NOTE
        if (credit and amount < left[item_id]) or (not credit and amount > left[item_id]):
            shown = Money.from_minor(abs(left[item_id]), item.currency)
            raise DunwellError(
                ErrorCode.OVER_ALLOCATION,
                f"{item} has only {shown} {'left' if credit else 'open'}: the proposal puts "
                f"{Money.from_minor(abs(amount), item.currency)} on it",
                field="amount",
            )
    for item_id, amount in wanted.items():
        left[item_id] -= amount


def _net_credit_notes(
    company: Company,
    payment: Payment,
    allocations: Sequence[Allocation],
    items: dict[int, OpenItem],
    actor: User | None,
    at: datetime,
) -> dict[int, int]:
    """Net the proposal's credit notes against its invoices (`apply_credit_note`); returns the
    cash still to put on each invoice (its allocation less the credit netted on it)."""
    debits = [a for a in allocations if items[a.item_id].kind != ItemKind.CREDIT_NOTE]
    credits = [a for a in allocations if items[a.item_id].kind == ItemKind.CREDIT_NOTE]
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
    return cash


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
    _decide(locked, LineState.IGNORED, "ignored", reason.strip(), actor, at)
    activity.record(company=company, kind=ActivityKind.NOTE_ADDED, on=locked.value_on, at=at,
                    actor=actor, amount_minor=locked.amount_minor, currency=locked.currency,
                    summary=f"statement line {locked.pk} ({locked}) is not a receivable: "
                    f"{locked.reason}", data={"statement_line": locked.pk})  # fmt: skip
    return locked


def match_lines(
    *, company: Company, at: datetime, line_ids: Iterable[int] | None = None,
    settings: Settings = matching.DEFAULT_SETTINGS,
) -> MatchReport:  # fmt: skip
    """Book the obvious bank returns first (`return_lines`), then match the company's unmatched
    credit lines and apply the proposals `decide` picks, one transaction per batch
    (`cash.services.matching.match_lines`, `apply_lines`)."""

    def apply(pairs: Sequence[tuple[int, Proposal]]) -> dict[int, DunwellError]:
        return apply_lines(company=company, pairs=pairs, actor=None, at=at).refused

    ids = None if line_ids is None else list(line_ids)
    returned, errors = return_lines(company=company, at=at, line_ids=ids)
    report = scoring.match_lines(company=company, at=at, line_ids=ids, settings=settings,
                                 apply=apply)  # fmt: skip
    report.returned = returned
    report.errors[:0] = errors
    return report


# Returns -----------------------------------------------------------------------------------------
#
# A returned payment is a debit line that takes back an earlier credit: the bank flags it (camt
# RvslInd, a return reason in RtrInf/Rsn/Cd), or it has the amount of an applied credit and the
# same payer IBAN or end-to-end id within RETURN_WINDOW_DAYS. `return_line` voids the payment the
# original line booked (`void_payment`, not `reverse_allocations` alone: reversing only the
# allocations would leave the money on the customer as unapplied cash, and it is gone). Voiding
# reverses every allocation of the payment, the early-payment discounts it earned and the bank
# charges written off with it included (both linked to the payment), so the invoices are open
# again to the cent. Credit notes netted when the line was applied stay netted: the credit was
# the customer's before the payment and still is. The original line stays
# `applied` (its money did arrive and was applied on its date; the earlier reports stay true):
# `returned_by` and the payment's `voided_on` say it came back. The debit line becomes `returned`,
# linked to it by `returns` (one to one: a credit is returned once; a debit returns once).

RETURN_WINDOW_DAYS = 60
NOT_PROVIDED = ("", "NOTPROVIDED")
# ISO 20022 ExternalReturnReason1Code, the ones banks send most (others are shown as given).
RETURN_REASONS = {
    "AC01": "incorrect account number", "AC04": "account closed", "AC06": "account blocked",
    "AC13": "debtor account is a consumer account", "AG01": "transaction forbidden",
    "AG02": "invalid bank operation code", "AM04": "insufficient funds", "AM05": "duplication",
    "BE05": "unrecognised initiating party", "CUST": "requested by the customer",
    "DUPL": "duplicate payment", "FOCR": "following a cancellation request",
    "FF01": "invalid file format", "MD01": "no mandate", "MD06": "refund requested by the debtor",
    "MD07": "debtor deceased", "MS02": "reason not given by the customer",
    "MS03": "reason not given by the bank", "RC01": "bank identifier incorrect",
    "RR01": "missing debtor account or identification", "RR04": "regulatory reason",
    "SL01": "specific service offered by the debtor's bank", "TECH": "technical problem",
}  # fmt: skip


def return_reason_text(line: StatementLine) -> str:
    code = line.return_reason.strip().upper()
    if not code:
        return "reversal" if line.reversal else "no reason given"
    named = RETURN_REASONS.get(code)
    return f"{code} {named}" if named else code


def is_flagged_return(line: StatementLine) -> bool:
    """The bank itself says the debit is a return or reversal."""
    return line.amount_minor < 0 and (line.reversal or bool(line.return_reason.strip()))


def return_candidates(company: Company, line: StatementLine) -> list[StatementLine]:
    """The applied, not yet returned credit lines `line` may take back: the same amount, the same
    end-to-end id (when the payer gave one) or payer IBAN, at most RETURN_WINDOW_DAYS earlier.
    An end-to-end id hit beats IBAN-only hits. One query; more than one result is ambiguous."""
    if line.amount_minor >= 0:
        return []
    e2e = line.end_to_end_id.strip()
    has_e2e = e2e.upper() not in NOT_PROVIDED
    iban = line.counterparty_iban.replace(" ", "").upper()
    keys = Q(end_to_end_id=e2e) if has_e2e else Q()
    if iban:
        keys |= Q(counterparty_iban=iban)
    if not keys:
        return []
    found = list(
        StatementLine.objects.filter(
            keys, company=company, state=LineState.APPLIED, currency=line.currency,
            amount_minor=-line.amount_minor, payment__isnull=False,
            payment__voided_on__isnull=True, returned_by__isnull=True,
            value_on__gte=line.value_on - timedelta(days=RETURN_WINDOW_DAYS),
            value_on__lte=line.value_on,
        ).exclude(pk=line.pk).select_related("payment").order_by("value_on", "pk")[:20]
    )  # fmt: skip
    by_e2e = [c for c in found if has_e2e and c.end_to_end_id == e2e]
    return by_e2e or found


def _locked_line(company: Company, line: StatementLine) -> StatementLine:
    locked = StatementLine.objects.select_for_update().filter(company=company, pk=line.pk).first()
    if locked is None:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no statement line {line.pk} in this company")
    return locked


def _check_debit(line: StatementLine) -> None:
    if line.state != LineState.UNMATCHED:
        how = english(line.get_state_display).lower()
        raise DunwellError(ErrorCode.CONFLICT, f"statement line {line.pk} is {how} already",
                           field="line")  # fmt: skip
    if line.amount_minor >= 0:
        raise DunwellError(ErrorCode.INVALID, f"statement line {line.pk} is money received: only "
                           "a debit can return a payment or refund cash", field="line")  # fmt: skip


@transaction.atomic
def return_line(
    *,
    company: Company,
    line: StatementLine,
    actor: User | None,
    at: datetime,
    original: StatementLine | None = None,
) -> StatementLine:
    """Book debit `line` as the bank's return of an applied credit (see the comment above).

    `original` None: the one `return_candidates` finds, refused when there is none or more than
    one (the line waits for a person, who names `original`). A person's `original` must be an
    applied credit of the same amount and currency, on or before the debit, not returned yet.
    `actor` None is the matcher. Everything in one transaction; a second return is refused.
    """
    line = _locked_line(company, line)
    _check_debit(line)
    if original is None:
        found = return_candidates(company, line)
        if len(found) != 1:
            shown = Money.from_minor(-line.amount_minor, line.currency)
            raise DunwellError(
                ErrorCode.CONFLICT,
                f"statement line {line.pk}: no applied credit of {shown} from the same payer in "
                f"the {RETURN_WINDOW_DAYS} days before it"
                if not found
                else f"statement line {line.pk}: {len(found)} applied credit lines could be the "
                f"one returned ({', '.join(str(c.pk) for c in found)}): name the original",
                field="original",
            )
        original = found[0]
    original = _locked_line(company, original)
    _check_original(line, original)
    payment = Payment.objects.get(company=company, statement_line=original)
    why = return_reason_text(line)
    amount = Money.from_minor(-line.amount_minor, line.currency)
    void_payment(company=company, payment=payment, on=line.value_on,
                 reason=f"{amount} returned by the bank: {why} (statement line {line.pk})",
                 actor=actor, at=at)  # fmt: skip
    tracking.after_payments(company=company, customer_ids=[payment.customer_id],
                            on=line.value_on, at=at, actor=actor)  # fmt: skip
    _decide(line, LineState.RETURNED, "return",
            f"returns line {original.pk} (payment {payment.external_id}): {why}", actor, at,
            customer=payment.customer, returns=original)  # fmt: skip
    return line


def _check_original(line: StatementLine, original: StatementLine) -> None:
    problem = ""
    if original.state != LineState.APPLIED or original.payment_id is None:
        problem = "is not an applied payment"
    elif original.amount_minor != -line.amount_minor or original.currency != line.currency:
        problem = "is not the same amount"
    elif original.value_on > line.value_on:
        problem = "came after the debit"
    elif StatementLine.objects.filter(returns=original).exists():
        problem = "was returned already"
    elif Payment.objects.filter(pk=original.payment_id, voided_on__isnull=False).exists():
        problem = "has its payment voided already"
    if problem:
        raise DunwellError(ErrorCode.CONFLICT, f"statement line {original.pk} {problem}: line "
                           f"{line.pk} cannot return it", field="original")  # fmt: skip


def return_lines(
    *, company: Company, at: datetime, line_ids: Sequence[int] | None = None
) -> tuple[int, list[str]]:
    """Book each unmatched debit the bank flags as a return (`is_flagged_return`) whose original
    is unique, each in its own transaction; the others wait for review. (returned, errors)."""
    flagged = StatementLine.objects.filter(
        Q(reversal=True) | ~Q(return_reason=""), company=company, state=LineState.UNMATCHED,
        amount_minor__lt=0,
    ).order_by("value_on", "pk")  # fmt: skip
    if line_ids is not None:
        flagged = flagged.filter(pk__in=line_ids)
    returned, errors = 0, []
    for line in flagged:
        found = return_candidates(company, line)
        if len(found) != 1:
            continue
        try:
            return_line(company=company, line=line, actor=None, at=at, original=found[0])
        except DunwellError as exc:
            errors.append(f"line {line.pk}: {exc}")
        else:
            returned += 1
    return returned, errors


# Refunds -----------------------------------------------------------------------------------------


def refund_customer(company: Company, line: StatementLine) -> Customer | None:
    """The customer a debit pays, when its IBAN was learned for exactly one."""
    iban = line.counterparty_iban.replace(" ", "").upper()
    if not iban:
        return None
    ids = list(KnownAccount.objects.filter(company=company, iban=iban)
               .values_list("customer_id", flat=True)[:2])  # fmt: skip
    return Customer.objects.get(pk=ids[0]) if len(ids) == 1 else None


@transaction.atomic
def refund_line(
    *,
    company: Company,
    line: StatementLine,
    customer: Customer,
    actor: User,
    at: datetime,
) -> StatementLine:
    """Book debit `line` as money paid back to `customer` out of their unapplied cash
    (`ledger.services.refunds`: a REFUND item settled by the payments, oldest first), refused
    above what is unapplied. The line becomes `refunded`, linked to the refund item."""
    line = _locked_line(company, line)
    _check_debit(line)
    if is_flagged_return(line):
        raise DunwellError(ErrorCode.INVALID, f"statement line {line.pk} is a bank return "
                           f"({return_reason_text(line)}): return it, do not refund it",
                           field="line")  # fmt: skip
    if customer.company_id != company.pk:
        raise DunwellError(ErrorCode.UNKNOWN_CUSTOMER, "no such customer", field="customer")
    to = ", ".join(x for x in (line.counterparty_name, line.counterparty_iban) if x)
    refund = refund_unapplied(
        company=company, customer=customer, amount_minor=-line.amount_minor,
        currency=line.currency, on=line.value_on, number=f"REFUND-{line.pk}",
        reason=f"paid back by bank transfer{f' to {to}' if to else ''} (statement line {line.pk})",
        actor=actor, at=at,
    )  # fmt: skip
    _decide(line, LineState.REFUNDED, "refund",
            f"refund of unapplied cash to {customer} ({refund.item.number})", actor, at,
            customer=customer, refund=refund.item)  # fmt: skip
    learn_iban(company, line.counterparty_iban, customer, at)
    return line
