"""When an unpaid invoice becomes time-barred, by governing law (DOMAIN.md 7.1).

After the limitation date the debtor may refuse to pay and a court will not order it, so
collectors must escalate (a Mahnbescheid, a claim) before it: a reminder alone does not stop
the clock anywhere. What each law counts from:

- Germany, §§ 195, 199(1) BGB: three years from the end of the year in which the claim arose
  (fell due): an invoice due 2022-03-15 is time-barred after 2025-12-31.
- Netherlands, 3:307 BW: five years from the day after the claim fell due; two years (7:28) for
  a consumer sale.
- England and Wales, Limitation Act 1980 s. 5: six years from the day the claim fell due; an
  acknowledgment or a part payment starts them again (s. 29(5)), so the last payment counts.
- France, C. com. L110-4 / C. civ. 2224: five years from the day the claim fell due.
- United States, UCC § 2-725: four years for the sale of goods (a state may differ).

The EU directive sets no limitation period, and neither does a contract-only company: no date.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple


def _years_later(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def limitation_date(
    law: str, *, due_on: date, last_payment_on: date | None = None, consumer: bool = False
) -> date | None:
    """The last day a claim can still be enforced under `law` (a `GoverningLaw` code), or None
    when the law gives no period here."""
    if law == "DE":
        return date(due_on.year + 3, 12, 31)
    if law == "NL":
        return _years_later(due_on, 2 if consumer else 5)
    if law == "UK":
        start = max(due_on, last_payment_on) if last_payment_on else due_on
        return _years_later(start, 6)
    if law == "FR":
        return _years_later(due_on, 5)
    if law == "US":
        return _years_later(due_on, 4)
    return None


WARN_DAYS = 90  # a collector is warned this long before an open invoice becomes time-barred


class Urgency(NamedTuple):
    level: str  # "ok", "soon" (within WARN_DAYS) or "barred"
    days_left: int  # to the limitation date (negative once past it)


def urgency(limit: date, today: date) -> Urgency:
    left = (limit - today).days
    return Urgency("barred" if left < 0 else "soon" if left <= WARN_DAYS else "ok", left)
