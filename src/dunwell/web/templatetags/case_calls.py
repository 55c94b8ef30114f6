"""`{% call_section as calls %}`: the customer page's calls and tasks section gathers its own
data (`web.call_views.section`), so the page's view stays the ledger's."""

from __future__ import annotations

from typing import Any

from django import template

from dunwell.web import call_views

register = template.Library()


@register.simple_tag(takes_context=True)
def call_section(context: template.Context) -> dict[str, Any]:
    return call_views.section(context["request"], context["customer"])
