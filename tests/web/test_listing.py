"""`web.listing`, the staff lists' shared mechanics: the sort allow-list, the links' query strings,
the sortable column header, and an amount typed as money as a search."""

from __future__ import annotations

import pytest
from django.db.models import Q
from django.http import QueryDict
from django.template import Context, Template
from django.test import RequestFactory

from dunwell.ledger.models import Customer
from dunwell.web.listing import amount_q, back_query, choose_sort, paged, without

SORTS = {"name": ("legal_name", "pk"), "-name": ("-legal_name", "-pk")}


@pytest.mark.parametrize(
    ("asked", "chosen"),
    [("name", "name"), ("-name", "-name"), ("bogus", "-name"), ("", "-name"), (None, "-name")],
)
def test_a_sort_not_allowed_falls_back_to_the_default(asked, chosen):
    assert choose_sort(asked, SORTS, "-name") == chosen


def test_the_links_drop_only_the_parameters_named():
    query = QueryDict("q=bauer&sort=-name&page=3&state=open")
    assert without(query, "page") == "q=bauer&sort=-name&state=open"
    assert without(query, "page", "sort") == "q=bauer&state=open"


def test_a_back_query_is_a_query_string_never_an_address():
    assert back_query("q=bauer&page=2") == "q=bauer&page=2"
    assert back_query("//evil.example/x") == "%2F%2Fevil.example%2Fx="
    assert back_query("") == ""


@pytest.mark.django_db
def test_a_page_keeps_the_search_in_its_links_and_starts_a_new_order_on_page_one():
    request = RequestFactory().get("/customers/?q=a%20b&sort=-name&page=2&tpage=4")
    listing = paged(request, Customer.objects.all(), sorts=SORTS, default="name")
    assert listing.sort == "-name"
    assert listing.query == "q=a+b&sort=-name&tpage=4"
    assert listing.sort_query == "q=a+b&tpage=4"
    assert listing.back == "q=a+b&sort=-name&page=2&tpage=4"
    tasks = paged(request, Customer.objects.all(), sorts=SORTS, default="name", prefix="t")
    assert (tasks.sort, tasks.page_param) == ("name", "tpage")  # its own, not the other list's
    assert tasks.query == "q=a+b&sort=-name&page=2"


def _header(sort: str, key: str = "name", first: str = "asc") -> str:
    request = RequestFactory().get(f"/customers/?q=x&page=3&sort={sort}")
    listing = paged(request, Customer.objects.none(), sorts={**SORTS, "-x": ("pk",)},
                    default="-x")  # fmt: skip
    template = Template(
        '{% load listing %}{% sort_header listing key "Name" css="num" first=first %}'
    )
    return template.render(Context({"listing": listing, "key": key, "first": first}))


def test_the_sorted_column_is_a_link_that_turns_the_order_round_and_says_so():
    ascending = _header("name")
    assert 'aria-sort="ascending"' in ascending and 'class="num"' in ascending
    assert 'href="?q=x&amp;sort=-name"' in ascending  # no page: a new order starts on page 1
    assert "▲" in ascending
    descending = _header("-name")
    assert 'aria-sort="descending"' in descending and 'href="?q=x&amp;sort=name"' in descending


@pytest.mark.parametrize(("first", "target"), [("asc", "name"), ("desc", "-name")])
def test_an_unsorted_column_has_no_aria_sort_and_sorts_its_first_way(first, target):
    html = _header("-x", first=first)
    assert "aria-sort" not in html and f'href="?q=x&amp;sort={target}"' in html


def matches(text: str, minor: int, currency: str) -> bool:
    """Whether a row of `minor` units of `currency` is found by the amount typed as `text`."""
    found = amount_q(text)
    return found is not None and _matches(found, {"amount_minor": minor, "currency": currency})


def _matches(q: Q, row: dict[str, object]) -> bool:
    """Evaluate the Q of `amount_q` on a plain row (exact and `__in` lookups, AND/OR/NOT)."""
    results = []
    for child in q.children:
        if isinstance(child, Q):
            results.append(_matches(child, row))
        else:
            name, value = child
            field, _, lookup = name.partition("__")
            results.append(row[field] in value if lookup == "in" else row[field] == value)
    result = any(results) if q.connector == Q.OR else all(results)
    return not result if q.negated else result


def test_an_amount_typed_as_money_finds_exactly_that_amount_in_each_currency():
    assert matches("1234.50", 1234_50, "EUR") and matches("1234.50", 1234_50, "USD")
    assert matches("1,234.50", 1234_50, "EUR") and matches("1234,50", 1234_50, "EUR")  # German
    assert matches("1234.50", 1234_500, "KWD")  # three decimals
    assert not matches("1234.50", 1234_51, "EUR") and not matches("1234.50", 123_45, "EUR")
    assert not matches("1234.50", 1234_50, "JPY")  # no yen has cents
    assert matches("1234", 1234, "JPY") and matches("1234", 1234_00, "EUR")
    assert matches("1,234", 1234_00, "EUR") and matches("1,234", 1_234, "KWD")  # read both ways


def test_text_that_is_no_amount_searches_no_amount():
    assert amount_q("Bauer KG") is None
    assert amount_q("RF18 5390") is None
