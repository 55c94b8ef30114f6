"""Late fees and interest charged by dunning, as open items of their own (issue 3 point 6).

The fee of a step is computed by `terms.rules.fees.LateFee` on the overdue total of the message
and booked as a FEE item linked to the oldest invoice it is about, due 14 days later, so it is
listed and dunned like any other item. Its number names the day, the customer, the currency and
the step (``FEE-20261123-C001-EUR-3``): the ledger's unique numbers make a second charge for the
same step and day impossible. A fee is waived with a reason by writing it off (`waive_fee`).

Statutory interest is booked as INTEREST items linked to the invoice, never as daily rows: when
a step asks for it (`charge_interest`, up to the run's day) and when an invoice that was charged
interest is paid (`settle_interest`, up to the value date of the payment that cleared it, by the
next run); each charge books only what accrued since the last, so no period is charged twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import F, OuterRef, Subquery

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.dunning.models import InterestCharge, Step
from dunwell.dunning.rules.steps import listed
from dunwell.ledger.models import Allocation, Customer, CustomerKind, ItemKind, OpenItem, WriteOff
from dunwell.ledger.services.allocations import write_off
from dunwell.ledger.services.documents import ItemInput, issue_item
from dunwell.terms.accrual import Accrual
from dunwell.terms.rules import interest

FEE_DUE_DAYS = 14


def fee_number(on: date, account_number: str, currency: str, step: int) -> str:
    return f"FEE-{on:%Y%m%d}-{account_number}-{currency}-{step}"[:60]


def charge_fee(
    *,
    company: Company,
    customer: Customer,
    step: Step,
    currency: str,
    overdue_minor: int,
    oldest_item_id: int | None,
    on: date,
    at: datetime,
    actor: User | None = None,
) -> OpenItem | None:
    """The step's fee on `overdue_minor`, booked once; None when the step has none."""
    fee = step.late_fee()
    amount = fee.charge(overdue_minor) if fee is not None else 0
    if amount <= 0:
        return None
    number = fee_number(on, customer.account_number, currency, step.sequence)
    existing = OpenItem.objects.filter(company=company, kind=ItemKind.FEE, number=number).first()
    if existing is not None:
        return existing
    related = OpenItem.objects.filter(pk=oldest_item_id).first() if oldest_item_id else None
    spec = ItemInput(
        customer=customer,
        number=number,
        issued_on=on,
        currency=currency,
        gross_minor=amount,
        kind=ItemKind.FEE,
        due_on=on + timedelta(days=FEE_DUE_DAYS),
        related=related,
        description=f"Late fee, step {step.sequence} ({step.name})"[:200],
        source="dunning",
    )
    return issue_item(company=company, spec=spec, actor=actor, at=at)


def waive_fee(
    *, company: Company, number: str, reason: str, on: date, at: datetime, actor: User | None
) -> WriteOff:
    """Forgive what is open of a late fee or an interest charge, with the reason and who decided
    (a write-off in the item's history)."""
    charge = OpenItem.objects.filter(
        company=company, kind__in=(ItemKind.FEE, ItemKind.INTEREST), number=number
    ).first()
    if charge is None:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no fee or interest {number!r} in {company.code}")
    what = "fee" if charge.kind == ItemKind.FEE else "interest"
    if charge.open_minor <= 0:
        raise DunwellError(ErrorCode.CONFLICT, f"{what} {number} has nothing open to waive")
    return write_off(company=company, item=charge, on=on, reason=f"{what} waived: {reason}",
                     actor=actor, at=at)  # fmt: skip


def charge_for_message(
    *,
    company: Company,
    customer_id: int,
    step: Step,
    currency: str,
    items: list[dict[str, Any]],
    on: date,
    at: datetime,
    actor: User | None = None,
) -> OpenItem | None:
    """`charge_fee` and `charge_interest` on what a decision lists (paused items left out)."""
    charge_interest(company=company, customer_id=customer_id, step=step, items=items, on=on,
                    at=at, actor=actor)  # fmt: skip
    if step.late_fee() is None:
        return None
    rows = listed(items)
    total = sum(row["open_minor"] for row in rows)
    oldest = rows[0]["id"] if rows else None
    return charge_fee(company=company, customer=Customer.objects.get(pk=customer_id), step=step,
                      currency=currency, overdue_minor=total, oldest_item_id=oldest, on=on,
                      at=at, actor=actor)  # fmt: skip


def charge_interest(
    *,
    company: Company,
    customer_id: int,
    step: Step,
    items: list[dict[str, Any]],
    on: date,
    at: datetime,
    actor: User | None = None,
) -> list[OpenItem]:
    """Interest on the invoices a step lists, booked up to `on` as INTEREST items.

    The rate is the contract's when the invoice's payment terms set one, else the statute's of
    the company's governing law (never for a consumer); with neither, nothing. The accrual runs
    from each invoice's due date with every payment and credit note by its value date
    (`terms.rules.interest`); what earlier charges booked is subtracted, so a period is never
    charged twice.
    """
    if not step.charge_interest:
        return []
    customer = Customer.objects.get(pk=customer_id)
    ids = [row["id"] for row in listed(items)]
    invoices = OpenItem.objects.filter(pk__in=ids, kind=ItemKind.INVOICE).order_by("due_on")
    accrual = _Accrual(company)
    booked = []
    for invoice in invoices:
        charge = _book_interest(company, customer, invoice, accrual, until=on, on=on, at=at,
                                actor=actor)  # fmt: skip
        if charge is not None:
            booked.append(charge)
    return booked


def settle_interest(
    *, company: Company, on: date, at: datetime, actor: User | None = None
) -> list[OpenItem]:
    """The last interest of each invoice paid since a step charged interest on it, booked up to
    the day it was settled (interest stops on the value date of the payment that clears it).

    Run by each day's dunning run, so whatever settled the invoice (a payment imported, matched
    or allocated by hand, a credit note) is caught; the charge is dated the run's day and booked
    once: only invoices whose last charge ends before their settlement day are read.
    """
    last_charge = (
        InterestCharge.objects.filter(invoice=OuterRef("pk"))
        .order_by("-until_on")
        .values("until_on")[:1]
    )
    paid = (
        OpenItem.objects.filter(
            pk__in=InterestCharge.objects.filter(company=company).values("invoice_id"),
            settled_on__isnull=False,
            settled_on__lte=on,
            voided_on__isnull=True,
        )
        .annotate(charged_to=Subquery(last_charge))
        .filter(charged_to__lt=F("settled_on"))
        .select_related("customer")
        .order_by("pk")
    )
    accrual = _Accrual(company)
    booked = []
    for invoice in paid:
        if invoice.settled_on is None:  # (excluded above)
            continue
        charge = _book_interest(company, invoice.customer, invoice, accrual,
                                until=invoice.settled_on, on=on, at=at, actor=actor)  # fmt: skip
        if charge is not None:
            booked.append(charge)
    return booked


class _Accrual(Accrual):
    """How interest accrues on an invoice (`terms.accrual`: the contract's rate on its payment
    terms, invoice, else customer, else the company's default; else the statute), read once per
    call of the services above."""

    def of(self, invoice: OpenItem, customer: Customer) -> tuple[str, Accrue] | None:
        """(what the charge names, a function of (until, reductions) to the interest)."""
        basis = self.basis(invoice.payment_term, customer.payment_term,
                           consumer=customer.kind == CustomerKind.CONSUMER)  # fmt: skip
        if basis is None:
            return None

        def accrue(until: date, reductions: list[interest.Reduction]) -> int:
            return basis.compute(invoice.amount_minor, invoice.due_on, until,
                                 reductions).interest_minor  # fmt: skip

        return basis.code, accrue


Accrue = Callable[[date, list[interest.Reduction]], int]


def _book_interest(
    company: Company,
    customer: Customer,
    invoice: OpenItem,
    accrual: _Accrual,
    *,
    until: date,
    on: date,
    at: datetime,
    actor: User | None,
) -> OpenItem | None:
    """Interest on `invoice` accrued to `until` less what earlier charges booked, as an INTEREST
    item issued on `on`; None when nothing more is owed or it was charged to `until` already."""
    basis = accrual.of(invoice, customer)
    if basis is None:
        return None
    label, accrue = basis
    if InterestCharge.objects.filter(invoice=invoice, until_on__gte=until).exists():
        return None  # charged up to this day already
    reductions = [
        interest.Reduction(effective_on, amount)
        for effective_on, amount in Allocation.objects.filter(target=invoice).values_list(
            "effective_on", "amount_minor"
        )
    ]
    try:
        accrued = accrue(until, reductions)
    except interest.InterestError:
        return None
    already = sum(
        InterestCharge.objects.filter(invoice=invoice).values_list("amount_minor", flat=True)
    )
    if accrued - already <= 0:
        return None
    spec = ItemInput(
        customer=customer,
        number=f"INT-{invoice.number}-{until:%Y%m%d}"[:60],
        issued_on=on,
        currency=invoice.currency,
        gross_minor=accrued - already,
        kind=ItemKind.INTEREST,
        due_on=on + timedelta(days=FEE_DUE_DAYS),
        related=invoice,
        description=f"Interest ({label}) on {invoice.number} to {until.isoformat()}"[:200],
        source="dunning",
    )
    charge = issue_item(company=company, spec=spec, actor=actor, at=at)
    InterestCharge.objects.create(company=company, invoice=invoice, charge=charge,
                                  until_on=until, amount_minor=accrued - already)  # fmt: skip
    return charge
