"""Read side of the ledger: set-based queries that take the company and the date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from dunwell.core.models import Company
from dunwell.ledger.models import Allocation, Customer, OpenItem

DRIFT_ITEMS = """
SELECT i.id, i.number, i.open_minor, i.amount_minor - COALESCE(a.total, 0),
       i.settled_on, CASE WHEN i.amount_minor - COALESCE(a.total, 0) = 0 THEN a.last ELSE NULL END
FROM ledger_openitem i
LEFT JOIN (SELECT target_id, SUM(amount_minor) AS total, MAX(effective_on) AS last
           FROM ledger_allocation WHERE company_id = %s GROUP BY target_id) a ON a.target_id = i.id
WHERE i.company_id = %s"""
DRIFT_PAYMENTS = """
SELECT p.id, p.external_id, p.unapplied_minor,
       CASE WHEN p.voided_on IS NOT NULL THEN 0 ELSE p.amount_minor - COALESCE(a.total, 0) END
FROM ledger_payment p
LEFT JOIN (SELECT payment_id, SUM(payment_amount_minor) AS total FROM ledger_allocation
           WHERE company_id = %s AND payment_id IS NOT NULL GROUP BY payment_id) a
       ON a.payment_id = p.id
WHERE p.company_id = %s"""
DRIFT_COPIES = """
SELECT a.id, i.number FROM ledger_allocation a JOIN ledger_openitem i ON i.id = a.target_id
WHERE a.company_id = %s AND (
    (a.target_settled_on IS NULL AND i.settled_on IS NOT NULL)
    OR (a.target_settled_on IS NOT NULL AND i.settled_on IS NULL)
    OR a.target_settled_on <> i.settled_on
    OR a.customer_id <> i.customer_id OR a.currency <> i.currency
    OR (NOT i.has_instalments AND a.target_due_on <> i.due_on))"""


@dataclass(frozen=True)
class Drift:
    what: str
    record: str
    stored: str
    computed: str


def _as_date(value: object) -> str:
    return "" if value is None else str(value)[:10]


def drift(company: Company) -> list[Drift]:
    """Every stored balance that disagrees with the allocation rows (empty when all is well)."""
    found: list[Drift] = []
    with connection.cursor() as cursor:
        cursor.execute(DRIFT_ITEMS, [company.pk, company.pk])
        for _, number, stored, computed, settled, last in cursor.fetchall():
            if stored != computed:
                found.append(Drift("open amount", number, str(stored), str(computed)))
            elif _as_date(settled) != _as_date(last):
                found.append(Drift("settled on", number, _as_date(settled), _as_date(last)))
        cursor.execute(DRIFT_PAYMENTS, [company.pk, company.pk])
        for _, external_id, stored, computed in cursor.fetchall():
            if stored != computed:
                found.append(
                    Drift("unapplied amount", f"payment {external_id}", str(stored), str(computed))
                )
        cursor.execute(DRIFT_COPIES, [company.pk])
        for allocation_id, number in cursor.fetchall():
            found.append(
                Drift("allocation copy", f"allocation {allocation_id} of {number}", "", "")
            )
    return found


def items_for(company: Company) -> QuerySet[OpenItem]:
    return OpenItem.objects.filter(company=company)


def customers_for(company: Company) -> QuerySet[Customer]:
    return Customer.objects.filter(company=company)


@dataclass(frozen=True)
class ItemAsOf:
    item: OpenItem
    open_minor: int
    days_past_due: int


def open_items(company: Company, customer: Customer, as_of: date) -> list[ItemAsOf]:
    """The customer's items open on `as_of`, with their open amount on that day, oldest due first."""
    items = list(
        OpenItem.objects.filter(company=company, customer=customer, issued_on__lte=as_of)
        .exclude(settled_on__lte=as_of)
        .order_by("due_on", "issued_on", "number")
    )
    paid = dict(
        Allocation.objects.filter(target__in=items, effective_on__lte=as_of)
        .values("target_id")
        .annotate(total=Sum("amount_minor"))
        .values_list("target_id", "total")
    )
    result = []
    for item in items:
        open_minor = item.amount_minor - (paid.get(item.pk) or 0)
        if open_minor:
            result.append(ItemAsOf(item, open_minor, max((as_of - item.due_on).days, 0)))
    return result


def items_open_on(company: Company, customer: Customer, as_of: date) -> QuerySet[OpenItem]:
    """`open_items` as a query, to sort, page and total in SQL: the same items, each annotated
    with `open_on`, its open amount on `as_of` (the amount less the allocations effective by then).
    """
    paid = (
        Allocation.objects.filter(target=OuterRef("pk"), effective_on__lte=as_of)
        .values("target")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    return (
        OpenItem.objects.filter(company=company, customer=customer, issued_on__lte=as_of)
        .exclude(settled_on__lte=as_of)
        .annotate(open_on=F("amount_minor") - Coalesce(Subquery(paid), Value(0)))
        .exclude(open_on=0)
    )


@dataclass(frozen=True)
class OpenTotal:
    currency: str
    count: int
    amount_minor: int
    open_minor: int


def open_totals(items: QuerySet[OpenItem]) -> list[OpenTotal]:
    """Per currency (never summed across), the count, amount and open amount of `items_open_on`:
    one statement over all of them, however few a page shows."""
    rows = (
        items.order_by()
        .values("currency")
        .annotate(n=Count("pk"), amount=Sum("amount_minor"), open=Sum("open_on"))
        .order_by("currency")
        .values_list("currency", "n", "amount", "open")
    )
    return [OpenTotal(*row) for row in rows]
