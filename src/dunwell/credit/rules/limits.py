"""Suggested credit limits from a credit application (../shared/DOMAIN.md §6.1).

Each method gives a figure from what the application states; the blend averages the figures
that could be computed, and the needs-based figure is shown beside it as the floor a customer
needs to buy as planned. A suggestion only: the limit is what a credit manager sets, with a
reason. Amounts in minor units of the customer's currency, rounded half up.

- net worth: 10 % of the (tangible) net worth;
- working capital: 10 % of the working capital;
- sales-based: 10 % of the average monthly sales (annual sales / 12);
- trade references: the median of the high credit other suppliers granted;
- needs-based: expected monthly purchases x (terms days + expected delay days) / 30;
- external: a bureau's or credit insurer's recommended limit, taken as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

TEN_PERCENT = Decimal("0.10")


def _minor(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Financials:
    """What an application states (None: not given)."""

    net_worth_minor: int | None = None
    working_capital_minor: int | None = None
    annual_sales_minor: int | None = None
    reference_limits_minor: Sequence[int] = ()
    monthly_purchases_minor: int | None = None
    terms_days: int | None = None
    expected_delay_days: int = 0
    external_limit_minor: int | None = None


@dataclass(frozen=True)
class Suggestion:
    by_method: dict[str, int]
    blend_minor: int | None
    needs_minor: int | None


def suggest(financials: Financials) -> Suggestion:
    """Each method's figure, their average and the needs-based figure."""
    f = financials
    methods: dict[str, int] = {}
    if f.net_worth_minor is not None and f.net_worth_minor > 0:
        methods["net_worth"] = _minor(f.net_worth_minor * TEN_PERCENT)
    if f.working_capital_minor is not None and f.working_capital_minor > 0:
        methods["working_capital"] = _minor(f.working_capital_minor * TEN_PERCENT)
    if f.annual_sales_minor is not None and f.annual_sales_minor > 0:
        methods["sales"] = _minor(Decimal(f.annual_sales_minor) / 12 * TEN_PERCENT)
    if f.reference_limits_minor:
        methods["trade_references"] = _minor(Decimal(median(f.reference_limits_minor)))
    if f.external_limit_minor is not None:
        methods["external"] = f.external_limit_minor
    needs = None
    if f.monthly_purchases_minor is not None and f.terms_days is not None:
        days = Decimal(f.terms_days + max(f.expected_delay_days, 0))
        needs = _minor(Decimal(f.monthly_purchases_minor) * days / 30)
    blend = _minor(Decimal(sum(methods.values())) / len(methods)) if methods else None
    return Suggestion(methods, blend, needs)
