"""Insolvency proceedings: opening computes the claim to file as of the opening date, filing
and closing record what happened; each one transaction with its history entry.

The claim is set-based: one query for the customer's items with what was open of each on the
opening date, one for the payments and credits that reduced them by then (the interest's
reductions), one for the interest already booked per invoice. Per item it holds

- an invoice: the principal open, and the interest accrued to the opening date under the
  contract or the company's governing law (`terms.accrual`) less what INTEREST items booked;
- a FEE item: its open amount as costs; an INTEREST item: its open amount as interest;
- a credit note still open: a negative principal, set off against the rest.

Interest after the opening is no part of the claim (it ranks behind, where the law allows it
at all). Interest that cannot be computed (a reference rate missing) is left at zero and the
line says why, so that opening the proceedings (which stops dunning) never waits for rates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from dunwell.cases.models import ClaimLine, Insolvency, InsolvencyKind, InsolvencyState
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.ledger.lock_objects import lock
from dunwell.ledger.models import (
    ActivityKind,
    Allocation,
    Customer,
    CustomerKind,
    ItemKind,
    OpenItem,
)
from dunwell.ledger.services import activity
from dunwell.terms.accrual import Accrual
from dunwell.terms.rules import interest


@dataclass(frozen=True)
class ClaimTotal:
    currency: str
    principal_minor: int
    interest_minor: int
    costs_minor: int

    @property
    def total_minor(self) -> int:
        return self.principal_minor + self.interest_minor + self.costs_minor

    def money(self, minor: int) -> Money:
        return Money.from_minor(minor, self.currency)


@transaction.atomic
def open_insolvency(
    *,
    company: Company,
    customer: Customer,
    kind: str,
    opened_on: date,
    case_reference: str = "",
    court: str = "",
    administrator_name: str = "",
    administrator_contact: str = "",
    claims_deadline: date | None = None,
    note: str = "",
    actor: User | None,
    on: date,
    at: datetime,
) -> Insolvency:
    """Record proceedings opened on `opened_on` and the claim to file as of that day."""
    if kind not in InsolvencyKind.values:
        raise DunwellError(ErrorCode.INVALID, f"kind {kind!r}: expected one of "
                           f"{', '.join(InsolvencyKind.values)}", field="kind")  # fmt: skip
    if opened_on > on:
        raise DunwellError(ErrorCode.INVALID, f"opened on {opened_on.isoformat()}: after today "
                           f"({on.isoformat()})", field="opened_on")  # fmt: skip
    if claims_deadline is not None and claims_deadline < opened_on:
        raise DunwellError(ErrorCode.INVALID, "the claims deadline is before the opening date",
                           field="claims_deadline")  # fmt: skip
    customer = lock(Customer, [customer.pk])[customer.pk]
    if customer.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no customer {customer.account_number} here")
    current = Insolvency.objects.filter(customer=customer).exclude(state=InsolvencyState.CLOSED)
    if (existing := current.first()) is not None:
        raise DunwellError(ErrorCode.CONFLICT, f"{customer.account_number} is already in "
                           f"{existing} (opened {existing.opened_on.isoformat()})")  # fmt: skip
    insolvency = Insolvency.objects.create(
        company=company, customer=customer, kind=kind, state=InsolvencyState.OPEN,
        opened_on=opened_on, case_reference=case_reference.strip(), court=court.strip(),
        administrator_name=administrator_name.strip(),
        administrator_contact=administrator_contact.strip(), claims_deadline=claims_deadline,
        note=note, created_at=at, created_by=activity.stored_actor(actor),
    )  # fmt: skip
    lines = claim_lines(company, customer, opened_on)
    for line in lines:
        line.insolvency = insolvency
    ClaimLine.objects.bulk_create(lines)
    totals = claim_totals(insolvency)
    where = ", ".join(p for p in (court, case_reference) if p.strip())
    summary = (
        f"{english(insolvency.get_kind_display).lower()} opened on {opened_on.isoformat()}"
        + (f" ({where})" if where else "")
        + f": claim {describe(totals)}"
    )
    _record(insolvency, ActivityKind.INSOLVENCY_OPENED, on, at, actor, summary,
            claim={t.currency: str(t.money(t.total_minor).amount) for t in totals})  # fmt: skip
    return insolvency


def claim_lines(company: Company, customer: Customer, as_of: date) -> list[ClaimLine]:
    """The unsaved claim lines of `customer` as of `as_of` (see the module docstring)."""
    allocated = (
        Allocation.objects.filter(target=OuterRef("pk"), effective_on__lte=as_of)
        .values("target")
        .annotate(s=Sum("amount_minor"))
        .values("s")
    )
    items = list(
        OpenItem.objects.filter(company=company, customer=customer, issued_on__lte=as_of)
        .filter(Q(voided_on__isnull=True) | Q(voided_on__gt=as_of))
        .annotate(open_then=F("amount_minor") - Coalesce(Subquery(allocated), Value(0)))
        .exclude(open_then=0)
        .select_related("payment_term")
        .order_by("currency", "due_on", "number")
    )
    invoices = [item.pk for item in items if item.kind == ItemKind.INVOICE]
    reductions: dict[int, list[interest.Reduction]] = defaultdict(list)
    for target_id, effective_on, amount in Allocation.objects.filter(
        target_id__in=invoices, effective_on__lte=as_of
    ).values_list("target_id", "effective_on", "amount_minor"):
        reductions[target_id].append(interest.Reduction(effective_on, amount))
    booked = dict(
        OpenItem.objects.filter(company=company, kind=ItemKind.INTEREST, related_id__in=invoices,
                                issued_on__lte=as_of)
        .filter(Q(voided_on__isnull=True) | Q(voided_on__gt=as_of))
        .values("related_id").annotate(s=Sum("amount_minor")).values_list("related_id", "s")
    )  # fmt: skip
    accrual = Accrual(company)
    consumer = customer.kind == CustomerKind.CONSUMER
    lines = []
    for item in items:
        open_then = int(item.open_then)
        line = ClaimLine(item=item, currency=item.currency, principal_minor=0, interest_minor=0,
                         costs_minor=0)  # fmt: skip
        if item.kind == ItemKind.FEE:
            line.costs_minor, line.basis = open_then, "fee booked"
        elif item.kind == ItemKind.INTEREST:
            line.interest_minor, line.basis = open_then, "interest booked"
        elif item.kind == ItemKind.CREDIT_NOTE:
            line.principal_minor, line.basis = open_then, "credit note set off"
        else:
            line.principal_minor = open_then
            accrued, line.basis = _accrued(accrual, item, customer, consumer, as_of,
                                           reductions[item.pk])  # fmt: skip
            line.interest_minor = max(0, accrued - booked.get(item.pk, 0))
        lines.append(line)
    return lines


def _accrued(accrual: Accrual, invoice: OpenItem, customer: Customer, consumer: bool,
             as_of: date, reductions: list[interest.Reduction]) -> tuple[int, str]:  # fmt: skip
    """Interest accrued on `invoice` to `as_of` and what it ran under."""
    basis = accrual.basis(invoice.payment_term, customer.payment_term, consumer=consumer)
    if basis is None:
        return 0, "no interest: no contractual rate and no statute applies"
    if invoice.amount_minor <= 0 or as_of <= invoice.due_on:
        return 0, basis.label
    try:
        result = basis.compute(invoice.amount_minor, invoice.due_on, as_of, reductions)
    except interest.InterestError as error:
        return 0, f"interest not computed: {error}"[:200]
    return result.interest_minor, f"{basis.label}, to {as_of.isoformat()}"[:200]


def claim_totals(insolvency: Insolvency) -> list[ClaimTotal]:
    """The claim per currency: principal, interest, costs."""
    rows = (
        insolvency.lines.values("currency")
        .annotate(p=Sum("principal_minor"), i=Sum("interest_minor"), c=Sum("costs_minor"))
        .order_by("currency")
    )
    return [ClaimTotal(r["currency"], r["p"], r["i"], r["c"]) for r in rows]


def describe(totals: list[ClaimTotal]) -> str:
    """'EUR 1234.56 (principal EUR 1200.00, interest EUR 14.56, costs EUR 20.00); USD ...'."""
    if not totals:
        return "nothing open"
    return "; ".join(
        f"{t.money(t.total_minor)} (principal {t.money(t.principal_minor)}, interest "
        f"{t.money(t.interest_minor)}, costs {t.money(t.costs_minor)})"
        for t in totals
    )


@transaction.atomic
def file_claim(*, insolvency: Insolvency, note: str = "", actor: User | None, on: date,
               at: datetime) -> Insolvency:  # fmt: skip
    """The claim was filed with the administrator on `on` (once)."""
    insolvency = _locked(insolvency)
    if insolvency.state != InsolvencyState.OPEN:
        raise DunwellError(ErrorCode.CONFLICT, f"{insolvency} is "
                           f"{english(insolvency.get_state_display).lower()}: nothing to file")  # fmt: skip
    if on < insolvency.opened_on:
        raise DunwellError(ErrorCode.INVALID, "a claim is filed on or after the opening date",
                           field="on")  # fmt: skip
    insolvency.state, insolvency.filed_on = InsolvencyState.FILED, on
    insolvency.save(update_fields=["state", "filed_on"])
    late = (
        f" (after the deadline of {insolvency.claims_deadline.isoformat()})"
        if insolvency.claims_deadline and on > insolvency.claims_deadline
        else ""
    )
    to = f" with {insolvency.administrator_name}" if insolvency.administrator_name else ""
    summary = (f"claim filed{to}{late}: {describe(claim_totals(insolvency))}"
               + (f": {note}" if note else ""))  # fmt: skip
    _record(insolvency, ActivityKind.CLAIM_FILED, on, at, actor, summary)
    return insolvency


@transaction.atomic
def close_insolvency(
    *,
    insolvency: Insolvency,
    dividend_minor: int | None = None,
    dividend_currency: str = "",
    note: str = "",
    actor: User | None,
    on: date,
    at: datetime,
) -> Insolvency:
    """The proceedings ended on `on`, with the dividend received (if any): dunning may resume
    from the next day (the credit hold stays until a person releases it)."""
    insolvency = _locked(insolvency)
    if insolvency.state == InsolvencyState.CLOSED:
        raise DunwellError(ErrorCode.CONFLICT, f"{insolvency} was closed on "
                           f"{insolvency.closed_on}")  # fmt: skip
    if on < insolvency.opened_on:
        raise DunwellError(ErrorCode.INVALID, "proceedings close on or after they opened",
                           field="on")  # fmt: skip
    if dividend_minor is not None and dividend_minor < 0:
        raise DunwellError(ErrorCode.INVALID, "a dividend cannot be negative", field="dividend")
    currency = (dividend_currency or insolvency.customer.currency).upper()
    insolvency.state, insolvency.closed_on = InsolvencyState.CLOSED, on
    insolvency.dividend_minor = dividend_minor
    insolvency.dividend_currency = currency if dividend_minor is not None else ""
    if note:
        insolvency.note = f"{insolvency.note}\n{note}".strip()
    insolvency.save(update_fields=["state", "closed_on", "dividend_minor", "dividend_currency",
                                   "note"])  # fmt: skip
    dividend = (
        f"dividend {Money.from_minor(dividend_minor, currency)}"
        if dividend_minor is not None
        else "no dividend"
    )
    summary = f"{english(insolvency.get_kind_display).lower()} closed: {dividend}" + (
        f": {note}" if note else ""
    )
    _record(insolvency, ActivityKind.INSOLVENCY_CLOSED, on, at, actor, summary,
            amount_minor=dividend_minor, currency=insolvency.dividend_currency)  # fmt: skip
    return insolvency


def _locked(insolvency: Insolvency) -> Insolvency:
    return lock(Insolvency, [insolvency.pk])[insolvency.pk]


def _record(insolvency: Insolvency, kind: ActivityKind, on: date, at: datetime,
            actor: User | None, summary: str, amount_minor: int | None = None,
            currency: str = "", **data: object) -> None:  # fmt: skip
    activity.record(company=insolvency.company, kind=kind, on=on, at=at, actor=actor,
                    customer=insolvency.customer, summary=summary[:300],
                    amount_minor=amount_minor, currency=currency,
                    data={"insolvency": insolvency.pk, **data})  # fmt: skip
