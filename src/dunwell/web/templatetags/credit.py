"""`{% credit_section customer request as credit %}`: the customer page's credit section reads
its own rows (web/credit_views.py)."""

from __future__ import annotations

from typing import Any

from django import template

from dunwell.ledger.models import Customer
from dunwell.web.credit_views import CreditSection
from dunwell.web.credit_views import credit_section as build

register = template.Library()


@register.simple_tag
def credit_section(customer: Customer, request: Any) -> CreditSection:
    return build(customer, request)
