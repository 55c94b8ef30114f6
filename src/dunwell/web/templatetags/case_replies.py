"""What the replies section of the customer page needs beyond the page's own context."""

from __future__ import annotations

from django import template

from dunwell.cases.models import DisputeReason

register = template.Library()


@register.simple_tag
def dispute_reasons() -> list[tuple[str, str]]:
    return list(DisputeReason.choices)
