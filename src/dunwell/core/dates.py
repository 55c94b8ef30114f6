"""Calendar arithmetic for terms and aging: month ends, month steps, business days.

Pure: holidays come in as a set of dates (`holiday_calendar` builds one from the `holidays`
package for a country and optional subdivision), so rules stay testable without a database.

Month steps clamp to the last day of the target month: 31 Jan + 1 month = 28 Feb (29 in a leap
year), and `end_of_month(add_months(d, n))` is "the last day of the month n months after d's month"
(DOMAIN.md 2.2 - Dunwell's definition, which avoids ERPNext's 30 Apr + 1 month = 30 May quirk).
"""

from __future__ import annotations

import calendar
from collections.abc import Container, Iterable
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    """Same day of month `months` later, clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def day_of_month(year: int, month: int, day: int) -> date:
    """The given day in a month, clamped to its length (the 31st of April is the 30th)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def is_business_day(day: date, holidays: Container[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


class Adjustment(StrEnum):
    """How a date that falls on a weekend or holiday moves (ISDA business-day conventions)."""

    NONE = "none"
    FOLLOWING = "following"
    MODIFIED_FOLLOWING = "modified_following"
    PRECEDING = "preceding"


def adjust(day: date, holidays: Container[date], rule: Adjustment) -> date:
    if rule is Adjustment.NONE or is_business_day(day, holidays):
        return day
    step = -1 if rule is Adjustment.PRECEDING else 1
    moved = day
    while not is_business_day(moved, holidays):
        moved += timedelta(days=step)
    if rule is Adjustment.MODIFIED_FOLLOWING and moved.month != day.month:
        return adjust(day, holidays, Adjustment.PRECEDING)
    return moved


def add_business_days(day: date, count: int, holidays: Container[date]) -> date:
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    moved = day
    while remaining:
        moved += timedelta(days=step)
        if is_business_day(moved, holidays):
            remaining -= 1
    return moved


@lru_cache(maxsize=64)
def _calendar(country: str, subdivision: str | None, years: tuple[int, ...]) -> frozenset[date]:
    try:
        found = holidays_lib.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError:
        raise ValueError(f"no holiday calendar for country {country!r}") from None
    return frozenset(found.keys())


def holiday_calendar(
    country: str, subdivision: str | None, years: Iterable[int]
) -> frozenset[date]:
    """Public holidays of a country (and subdivision, e.g. DE-BY as 'DE', 'BY') in those years."""
    return _calendar(country.upper(), subdivision or None, tuple(sorted(set(years))))


def date_in(time_zone: str, moment: datetime) -> date:
    """The calendar date at `moment` in `time_zone` (an IANA name; UTC when empty or unknown):
    a card processor's or a bank's time turned into the company's business date."""
    try:
        zone = ZoneInfo(time_zone) if time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return moment.astimezone(zone).date()
