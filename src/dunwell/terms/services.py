"""Which terms apply to an invoice, and its due dates and discount under them."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from dunwell.core.dates import Adjustment, holiday_calendar
from dunwell.core.models import Company
from dunwell.terms.models import PaymentTerm, PaymentTermLine
from dunwell.terms.rules import due_dates
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
    rule = term.to_rule(company.due_date_adjustment)
    holidays = holidays_for(company, range(issued_on.year, issued_on.year + 3))
    return rule, due_dates.schedule(rule, issued_on, gross_minor, holidays)


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
) -> PaymentTerm:
    """A single-due-date term (instalment terms add lines with `PaymentTermLine`)."""
    term = PaymentTerm.objects.create(
        company=company,
        code=code,
        name=name,
        discount_percent=discount_percent,
        discount_days=discount_days,
        is_default=is_default,
        adjustment=adjustment.value if adjustment else "",
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
