"""`{{ minor|money:currency }}`: an amount in minor units, formatted for the request's language."""

from __future__ import annotations

from babel.numbers import format_currency
from django import template
from django.utils.translation import get_language, to_locale

from dunwell.core.money import Money

register = template.Library()


@register.filter
def money(minor: int | None, currency: str) -> str:
    if minor is None or not currency:
        return ""
    amount = Money.from_minor(int(minor), currency).amount
    return str(format_currency(amount, currency, locale=to_locale(get_language() or "en")))
