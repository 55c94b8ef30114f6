"""`{% placements_section as section %}`: the customer page's placement rows and actions, so that
the page includes the section with one line and its view stays as it is."""

from __future__ import annotations

from typing import Any

from django import template

from dunwell.web.placement_views import section

register = template.Library()


@register.simple_tag(takes_context=True)
def placements_section(context: template.Context) -> dict[str, Any]:
    return section(context["request"], context["customer"])
