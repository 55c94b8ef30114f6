"""`{% insolvency_section as insolvency %}`: the customer page's insolvency banner, badge and
section read their own data (`web.insolvency_views.section`) once, at the top of the page, so
that the page's view stays the ledger's."""

from __future__ import annotations

from typing import Any

from django import template

from dunwell.web.insolvency_views import section

register = template.Library()


@register.simple_tag(takes_context=True)
def insolvency_section(context: template.Context) -> dict[str, Any]:
    return section(context["request"], context["customer"])
