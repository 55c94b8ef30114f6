"""What every staff list shares (issue 6): a sort chosen from an allow-list, one page of rows
sorted and paged in SQL, the query strings the column headers and the pager link with, and a
search for an amount typed as money.

A list names its sorts as a mapping from the key the address carries to the `order_by` fields:
`{"amount": ("amount_minor", "pk"), "-amount": ("-amount_minor", "-pk")}`. Each ends in a unique
column, so that two pages never share or skip a row; a key not in the mapping (a typo, an old
bookmark) falls back to the list's default, as an out-of-range page falls back to the last one.
Two lists on one page (the tasks page) tell their parameters apart with a prefix: `tsort`,
`tpage`.

The links keep what the user searched and filtered: the pager's links carry every parameter but
the list's page, a column header's every parameter but the page and the sort (a new order starts
on page 1), and a form that decides on a row sends `listing.back` so that its answer returns to
the same page of the same filtered list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import OrderBy, Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _

from dunwell.core.money import CURRENCIES, MoneyError, exponent, parse_amount

PAGE_SIZE = 50
Sorts = Mapping[str, tuple[str | OrderBy, ...]]
# the currencies whose minor unit is not a hundredth, by their number of decimals: a typed amount
# is so many minor units in each group (and in every other currency, a hundred times itself)
_OTHER_EXPONENTS: dict[int, tuple[str, ...]] = {
    places: tuple(sorted(c for c in CURRENCIES if exponent(c) == places))
    for places in sorted({exponent(c) for c in CURRENCIES} - {2})
}


def choose_sort(asked: str | None, sorts: Sorts, default: str) -> str:
    """The sort asked for if the list allows it, else the list's default."""
    return asked if asked is not None and asked in sorts else default


def without(query: QueryDict, *names: str) -> str:
    """`query` less the parameters `names`, URL-encoded."""
    rest = query.copy()
    for name in names:
        rest.pop(name, None)
    return rest.urlencode()


@dataclass(frozen=True)
class Listing:
    """One page of a list, its sort and the query strings its links need (see the module)."""

    page: Page[Any]
    sort: str
    query: str  # every parameter but this list's page: the pager's links
    sort_query: str  # every parameter but this list's page and sort: the column headers'
    back: str  # every parameter: where a decision on a row returns to
    page_param: str = "page"
    sort_param: str = "sort"


def paged(
    request: HttpRequest,
    rows: QuerySet[Any],
    *,
    sorts: Sorts,
    default: str,
    size: int = PAGE_SIZE,
    prefix: str = "",
) -> Listing:
    """The page of `rows` the request asks for, in the sort it asks for (or the default)."""
    page_param, sort_param = f"{prefix}page", f"{prefix}sort"
    sort = choose_sort(request.GET.get(sort_param), sorts, default)
    page = Paginator(rows.order_by(*sorts[sort]), size).get_page(request.GET.get(page_param))
    return Listing(
        page=page,
        sort=sort,
        query=without(request.GET, page_param),
        sort_query=without(request.GET, page_param, sort_param),
        back=request.GET.urlencode(),
        page_param=page_param,
        sort_param=sort_param,
    )


class FilterForm(forms.Form):
    """A list's search and filters, read from the query string. A field that does not parse is
    left out of the filtering and named above the list (`web/_filter_errors.html`); the others
    still apply. `sort` and `page` are not fields: `paged` reads them."""

    def value(self, name: str) -> Any:
        """The field's cleaned value; its empty value when it is invalid or not given."""
        self.is_valid()  # validates once: the errors are kept
        value = self.cleaned_data.get(name)
        return value if value is not None else self.fields[name].to_python("")

    def filtered(self) -> bool:
        """Whether any search or filter narrows the list."""
        return any(self.value(name) not in (None, "", False) for name in self.fields)

    def check_range(self, first: str, last: str) -> None:
        """For `clean()`: a range of dates (or amounts) whose end comes before its start."""
        start, end = self.cleaned_data.get(first), self.cleaned_data.get(last)
        if start is not None and end is not None and start > end:
            self.add_error(last, _("It is before the start of the range."))


def date_field(label: Any) -> forms.DateField:
    """A date filter: typed as YYYY-MM-DD, or picked (the browser's date input sends that)."""
    return forms.DateField(
        required=False, label=label, input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD, e.g. 2026-01-31.")},
    )  # fmt: skip


def back_query(text: str) -> str:
    """A list's query string sent back by a form (`Listing.back`), re-encoded: what a redirect
    appends to the list's own address, never an address of its own."""
    return QueryDict(text).urlencode()


def amount_q(text: str, *, minor: str = "amount_minor", currency: str = "currency") -> Q | None:
    """Rows whose amount is exactly the amount typed, in any currency where it is one, or None
    when the text is no amount. `1234.50` finds EUR 1,234.50 (123450 cents) and the same in every
    two-decimal currency; `1234` also JPY 1,234. A comma may be the decimal separator, as Germans
    write it (`1234,50`); text that reads both ways (`1,234`) finds both amounts."""
    amounts: set[Decimal] = set()
    for decimal_sep, thousands_sep in ((".", ","), (",", ".")):
        try:
            amounts.add(parse_amount(text, decimal_sep=decimal_sep, thousands_sep=thousands_sep))
        except MoneyError:
            continue
    others = tuple(c for codes in _OTHER_EXPONENTS.values() for c in codes)
    found = Q()
    for amount in amounts:
        if _whole(amount.scaleb(2)):
            found |= Q(**{minor: int(amount.scaleb(2))}) & ~Q(**{f"{currency}__in": others})
        for places, codes in _OTHER_EXPONENTS.items():
            if _whole(amount.scaleb(places)):
                found |= Q(**{minor: int(amount.scaleb(places)), f"{currency}__in": codes})
    return found or None


def _whole(number: Decimal) -> bool:
    return number == number.to_integral_value()
