"""`{{ minor|money:currency }}`: an amount in minor units, formatted for the active language."""

from __future__ import annotations

from django import template

from dunwell.core.formatting import format_money
from dunwell.core.templatetags.formatting import active_locale

register = template.Library()


@register.filter
def money(minor: int | None, currency: str) -> str:
    if minor is None or not currency:
        return ""
    return format_money(int(minor), currency, active_locale())
