"""What the replies section of the customer page needs beyond the page's own context."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import template

from dunwell.cases.models import DisputeReason

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

register = template.Library()


@register.simple_tag
def dispute_reasons() -> list[tuple[str, StrOrPromise]]:  # lazy: shown in the reader's language
    return list(DisputeReason.choices)
