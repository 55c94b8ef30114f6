"""`{% sort_header rows "amount" _("Amount") css="num" first="desc" %}`: a list's column header
that sorts by the column (`web.listing`): a link, so that the keyboard reaches it and it works
without JavaScript, which turns the order round when the column is the sorted one; the sorted
column says so to screen readers with `aria-sort`. `{% sort_link %}` is the same link for a list
that is no table (the review queue's cards), the sorted one marked `aria-current` and named."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.http import urlencode

from dunwell.web.listing import Listing

register = template.Library()


@register.inclusion_tag("web/_sort_header.html")
def sort_header(
    listing: Listing, key: str, label: str, *, css: str = "", first: str = "asc"
) -> dict[str, Any]:
    """`key` is the ascending sort (`"amount"`; `"-amount"` the descending one); `first` the
    order a first click gives (amounts and dates read best largest or newest first)."""
    return _link(listing, key, label, css=css, first=first)


@register.inclusion_tag("web/_sort_link.html")
def sort_link(listing: Listing, key: str, label: str, *, first: str = "asc") -> dict[str, Any]:
    return _link(listing, key, label, css="", first=first)


def _link(listing: Listing, key: str, label: str, *, css: str, first: str) -> dict[str, Any]:
    direction = {key: "ascending", f"-{key}": "descending"}.get(listing.sort, "")
    if direction:
        target = f"-{key}" if direction == "ascending" else key
    else:
        target = key if first == "asc" else f"-{key}"
    link = urlencode({listing.sort_param: target})
    href = f"{listing.sort_query}&{link}" if listing.sort_query else link
    return {"href": href, "label": label, "css": css, "direction": direction}
