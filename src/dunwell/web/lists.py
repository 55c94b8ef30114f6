"""The customer list's query: search, filters, sort and per-customer balances in one statement.

Balances are sums of the stored `open_minor` of the customer's items in the customer's currency
(items in another currency appear on the customer page and in the aging, never summed here).
"""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from dunwell.cases.models import Insolvency, InsolvencyState
from dunwell.core.models import Company
from dunwell.ledger.models import Customer
from dunwell.ledger.queries import customers_for


def customer_rows(
    company: Company,
    *,
    today: date,
    q: str = "",
    segment: str = "",
    status: str = "",
    only_overdue: bool = False,
    order: tuple[str, ...] = ("legal_name", "account_number"),
) -> QuerySet[Customer]:
    same_currency = Q(items__currency=F("currency"))
    proceedings = Insolvency.objects.filter(customer=OuterRef("pk")).exclude(
        state=InsolvencyState.CLOSED
    )
    rows = customers_for(company).annotate(
        open_minor=Coalesce(Sum("items__open_minor", filter=same_currency), Value(0)),
        overdue_minor=Coalesce(
            Sum("items__open_minor", filter=same_currency & Q(items__due_on__lt=today)), Value(0)
        ),
        in_insolvency=Exists(proceedings),
    )
    if q:
        rows = rows.filter(Q(legal_name__icontains=q) | Q(account_number__icontains=q))
    if segment:
        rows = rows.filter(segment=segment)
    if status:
        rows = rows.filter(status=status)
    if only_overdue:
        rows = rows.filter(overdue_minor__gt=0)
    return rows.order_by(*order)


def segments_of(company: Company) -> list[str]:
    return list(
        customers_for(company)
        .exclude(segment="")
        .order_by("segment")
        .values_list("segment", flat=True)
        .distinct()
    )
