"""Which terms apply to an invoice, its due dates and discount under them; reference rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from dunwell.core.dates import Adjustment, holiday_calendar
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.terms.models import PaymentTerm, PaymentTermLine, ReferenceRate
from dunwell.terms.rules import due_dates, interest
from dunwell.terms.rules.due_dates import Basis, Terms


def holidays_for(company: Company, years: range) -> frozenset[date]:
    if not company.holiday_country:
        return frozenset()
    return holiday_calendar(company.holiday_country, company.holiday_subdivision or None, years)


def applicable_term(company: Company, term: PaymentTerm | None) -> PaymentTerm | None:
    """The given term, else the company's default (None when the company has none)."""
    if term is not None:
        return term
    return PaymentTerm.objects.filter(company=company, is_default=True).first()


def schedule_for(
    company: Company, term: PaymentTerm, issued_on: date, gross_minor: int
) -> tuple[Terms, tuple[due_dates.DuePart, ...]]:
    return Scheduler(company).schedule(term, issued_on, gross_minor)


class Scheduler:
    """Due dates for many documents of one company: its terms and holidays are read once.

    An import of a million invoices asks for a few thousand distinct (terms, issue date) pairs;
    the due dates of a single-line term are remembered per pair, and instalment terms are
    scheduled per document (their amounts differ).
    """

    def __init__(self, company: Company) -> None:
        self.company = company
        terms = PaymentTerm.objects.filter(company=company).prefetch_related("lines")
        self._terms = {term.pk: term for term in terms}
        self._default = next((t for t in self._terms.values() if t.is_default), None)
        self._rules: dict[int, Terms] = {}
        self._holidays: dict[int, frozenset[date]] = {}
        self._due: dict[tuple[int, date], date] = {}

    def applicable(self, term_id: int | None) -> PaymentTerm | None:
        """The term with this id, else the company's default (None when it has none)."""
        if term_id is None:
            return self._default
        term = self._terms.get(term_id)
        if term is None:  # created after this scheduler was made
            term = PaymentTerm.objects.prefetch_related("lines").get(
                company=self.company, pk=term_id
            )
            self._terms[term_id] = term
        return term

    def rule(self, term: PaymentTerm) -> Terms:
        rule = self._rules.get(term.id)
        if rule is None:
            rule = self._rules[term.id] = term.to_rule(self.company.due_date_adjustment)
        return rule

    def _holidays_from(self, year: int) -> frozenset[date]:
        if year not in self._holidays:
            self._holidays[year] = holidays_for(self.company, range(year, year + 3))
        return self._holidays[year]

    def schedule(
        self, term: PaymentTerm, issued_on: date, gross_minor: int
    ) -> tuple[Terms, tuple[due_dates.DuePart, ...]]:
        rule = self.rule(term)
        if len(rule.lines) > 1:
            holidays = self._holidays_from(issued_on.year)
            return rule, due_dates.schedule(rule, issued_on, gross_minor, holidays)
        key = (term.id, issued_on)
        due = self._due.get(key)
        if due is None:
            holidays = self._holidays_from(issued_on.year)
            due = self._due[key] = due_dates.due_on(rule, issued_on, holidays)
        return rule, (due_dates.DuePart(due, gross_minor),)


@transaction.atomic
def create_term(
    *,
    company: Company,
    code: str,
    name: str,
    basis: Basis = Basis.AFTER_INVOICE,
    days: int = 0,
    months: int = 0,
    day_of_month: int | None = None,
    discount_percent: str | None = None,
    discount_days: int | None = None,
    is_default: bool = False,
    adjustment: Adjustment | None = None,
    interest_percent: str | None = None,
    interest_grace_days: int = 0,
    interest_day_count: str = "ACT/365F",
) -> PaymentTerm:
    """A single-due-date term (instalment terms add lines with `PaymentTermLine`)."""
    try:
        day_count = interest.DayCount(interest_day_count)
    except ValueError:
        choices = ", ".join(d.value for d in interest.DayCount)
        raise DunwellError(ErrorCode.INVALID, f"day count {interest_day_count!r}: expected one of "
                           f"{choices}", field="interest_day_count") from None  # fmt: skip
    term = PaymentTerm.objects.create(
        company=company,
        code=code,
        name=name,
        discount_percent=discount_percent,
        discount_days=discount_days,
        is_default=is_default,
        adjustment=adjustment.value if adjustment else "",
        interest_percent=interest_percent,
        interest_grace_days=interest_grace_days,
        interest_day_count=day_count.value,
    )
    PaymentTermLine.objects.create(
        term=term,
        sequence=1,
        basis=basis.value,
        days=days,
        months=months,
        day_of_month=day_of_month,
    )
    term.to_rule(company.due_date_adjustment)  # refuses an impossible definition now, not later
    return term


def reference_rates() -> interest.Rates:
    """Every stored reference rate, as the interest rules take them."""
    points: dict[interest.RateKind, list[tuple[date, Decimal]]] = {}
    checked: dict[interest.RateKind, date] = {}
    for row in ReferenceRate.objects.order_by("kind", "valid_from"):
        kind = interest.RateKind(row.kind)
        points.setdefault(kind, []).append((row.valid_from, row.percent))
        checked[kind] = max(checked.get(kind, row.checked_on), row.checked_on)
    return interest.Rates.of(
        interest.RateSeries(kind, tuple(rows), checked[kind]) for kind, rows in points.items()
    )


@transaction.atomic
def add_reference_rate(
    *,
    kind: interest.RateKind,
    valid_from: date,
    percent: Decimal,
    checked_on: date | None = None,
    source: str = "",
) -> ReferenceRate:
    """Record a published rate from the day it applies, or confirm/correct the one of that day.

    Confirming the rate in force (the same day and percent, a later `checked_on`) is how a user
    says "still unchanged": calculations up to that day then carry no "assumed" note.
    """
    if not percent.is_finite() or not Decimal(-20) <= percent <= Decimal(100):
        raise DunwellError(
            ErrorCode.INVALID, f"{percent} % is not a plausible rate", field="percent"
        )
    checked = checked_on or valid_from
    if checked < valid_from:
        raise DunwellError(
            ErrorCode.INVALID,
            f"checked on {checked.isoformat()}: before the rate applies ({valid_from.isoformat()})",
            field="checked_on",
        )
    row, _ = ReferenceRate.objects.update_or_create(
        kind=kind.value,
        valid_from=valid_from,
        defaults={"percent": percent, "checked_on": checked, "source": source[:200]},
    )
    return row
