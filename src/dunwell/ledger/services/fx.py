"""Dated FX rates: a conversion always names the rate and the day it is from (invariant 1)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import FxRate

# A rate published on a Friday serves the weekend; beyond this a missing rate is an error.
MAX_RATE_AGE_DAYS = 4


def rate_on(base: str, quote: str, on: date) -> tuple[Decimal, date]:
    """Units of `quote` for one `base` on `on` (or the latest rate of the days just before)."""
    if base == quote:
        return Decimal(1), on
    row = (
        FxRate.objects.filter(
            base=base, quote=quote, on__lte=on, on__gte=on - timedelta(days=MAX_RATE_AGE_DAYS)
        )
        .order_by("-on")
        .values_list("rate", "on")
        .first()
    )
    if row is not None:
        return Decimal(row[0]), row[1]
    inverse = (
        FxRate.objects.filter(
            base=quote, quote=base, on__lte=on, on__gte=on - timedelta(days=MAX_RATE_AGE_DAYS)
        )
        .order_by("-on")
        .values_list("rate", "on")
        .first()
    )
    if inverse is not None:
        return (Decimal(1) / Decimal(inverse[0])).quantize(Decimal("1e-10")), inverse[1]
    raise DunwellError(
        ErrorCode.NO_FX_RATE,
        f"no {base}/{quote} exchange rate for {on.isoformat()} "
        f"(nor the {MAX_RATE_AGE_DAYS} days before): add one with `dunwell fx add`",
        base=base,
        quote=quote,
        on=on,
    )


def set_rate(*, base: str, quote: str, on: date, rate: Decimal, source: str = "") -> FxRate:
    if rate <= 0:
        raise DunwellError(ErrorCode.INVALID, f"an exchange rate must be positive, got {rate}")
    row, _ = FxRate.objects.update_or_create(
        base=base, quote=quote, on=on, defaults={"rate": rate, "source": source}
    )
    return row
