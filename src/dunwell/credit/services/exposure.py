"""A customer's exposure: what it owes now plus what it has ordered and not yet been invoiced
(../shared/DOMAIN.md §6.2), in the customer's currency, against its credit limit.

- open AR: the open amounts of its items in its currency (credit notes net them), less its
  unapplied payments in that currency (cash received and not yet allocated is credit it has);
- open orders: the open amounts of its orders reported through the API and not closed;
- items and payments in another currency are not summed into it (the customer page shows
  them); a customer's limit is in its own currency.

Four grouped queries for the whole company (or the customers asked for), whatever their count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import F, Min, Q, QuerySet, Sum

from dunwell.cases.models import Dispute, DisputeState
from dunwell.core.models import Company
from dunwell.credit.models import OpenOrder, OrderState
from dunwell.ledger.models import Customer, ItemKind, OpenItem, Payment


@dataclass(frozen=True)
class Exposure:
    customer_id: int
    currency: str
    limit_minor: int | None
    open_minor: int = 0
    unapplied_minor: int = 0
    orders_minor: int = 0
    # the days the oldest undisputed invoice is past due on the day asked (0: none)
    oldest_days: int = 0

    @property
    def total_minor(self) -> int:
        return self.open_minor - self.unapplied_minor + self.orders_minor

    @property
    def over_limit_minor(self) -> int:
        """How much the exposure exceeds the limit (0 within it or without a limit)."""
        if self.limit_minor is None:
            return 0
        return max(self.total_minor - self.limit_minor, 0)

    @property
    def utilisation(self) -> float | None:
        """Exposure / limit, for display (None without a positive limit)."""
        if not self.limit_minor or self.limit_minor <= 0:
            return None
        return self.total_minor / self.limit_minor


def _scoped(rows: QuerySet, ids: Iterable[int] | None, field: str = "customer_id") -> QuerySet:  # type: ignore[type-arg]
    return rows if ids is None else rows.filter(**{f"{field}__in": list(ids)})


def exposures(
    company: Company, on: date, customer_ids: Iterable[int] | None = None
) -> dict[int, Exposure]:
    """Each customer's exposure on `on` (the stored open amounts are today's: `on` dates the
    past-due count)."""
    ids = list(customer_ids) if customer_ids is not None else None
    customers = _scoped(Customer.objects.filter(company=company), ids, "pk")
    found: dict[int, dict[str, object]] = {
        pk: {"currency": currency, "limit_minor": limit}
        for pk, currency, limit in customers.values_list("pk", "currency", "credit_limit_minor")
    }
    same = Q(currency=F("customer__currency"))
    items = _scoped(OpenItem.objects.filter(same, company=company, voided_on__isnull=True)
                    .exclude(open_minor=0), ids)  # fmt: skip
    for row in items.values("customer_id").annotate(total=Sum("open_minor")):
        found[row["customer_id"]]["open_minor"] = int(row["total"])
    paid = _scoped(Payment.objects.filter(same, company=company, voided_on__isnull=True,
                                          unapplied_minor__gt=0), ids)  # fmt: skip
    for row in paid.values("customer_id").annotate(total=Sum("unapplied_minor")):
        found[row["customer_id"]]["unapplied_minor"] = int(row["total"])
    orders = _scoped(OpenOrder.objects.filter(same, company=company, state=OrderState.OPEN), ids)
    for row in orders.values("customer_id").annotate(total=Sum("open_minor")):
        found[row["customer_id"]]["orders_minor"] = int(row["total"])
    disputed = Dispute.objects.filter(company=company).exclude(state=DisputeState.RESOLVED)
    overdue = (
        items.filter(kind=ItemKind.INVOICE, open_minor__gt=0, due_on__lt=on)
        .exclude(pk__in=disputed.values("items__item_id"))
        .values("customer_id")
        .annotate(first=Min("due_on"))
    )
    for row in overdue:
        found[row["customer_id"]]["oldest_days"] = (on - row["first"]).days
    return {pk: Exposure(pk, **values) for pk, values in found.items()}  # type: ignore[arg-type]
