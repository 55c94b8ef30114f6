"""The one place the outer layers (commands, views, admin) read the clock.

Services and rules never call these: they take `at` and `on` (or `as_of`) as parameters
(DESIGN.md invariant 2). "Today" is the company's business date, in its time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from dunwell.core.models import Company


def now() -> datetime:
    return timezone.now()


def today(company: Company | None = None) -> date:
    """Today in the company's time zone (the server's when there is no company or no zone)."""
    if company is None or not company.time_zone:
        return timezone.localdate()
    try:
        return timezone.localdate(timezone=ZoneInfo(company.time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.localdate()
