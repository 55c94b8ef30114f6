"""The invoice pickers of the customer page's forms: the invoices a dispute, a call, a note, a
promise, a plan or a reply's dispute is about.

A customer may have thousands of open items, so the page lists none of them for its forms: each
form's fold holds an empty picker that htmx fetches when the fold is first opened (`hx-trigger=
"toggle once from:closest details"`), from a small view of the form's own module, company-scoped
and role-checked as the form's POST is. The picker lists up to SHOWN items, oldest due first,
says how many there are in all, and narrows on the server to the numbers containing what is typed
in its search box (`hx-get`, 300 ms after the typing stops, or at Enter). What is ticked stays:
the search sends the ticked items (and the amounts typed on them), and they come back first.

The search box belongs (its `form` attribute) to an empty GET form outside the POST form the
picker sits in, so Enter searches rather than submits: through htmx (the GET form's `hx-get`), or
without JavaScript by asking the picker's page again. Without JavaScript the fold holds a link to
the same view, which then answers a page of its own: the form with its picker open.

    /customers/7/disputes/invoices                 the page (no JavaScript), or with HX-Request
                                                   the picker: search box and rows
    ...?q=2026-0&items=41&amount-41=10.00          HX-Target dispute-rows: the rows only
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from dunwell.ledger.models import Customer, OpenItem
from dunwell.web.access import CompanyRequest

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SHOWN = 200  # rows a picker lists at most (ticked ones come on top): the search narrows the rest
QUERY_LENGTH = 50  # an invoice number is shorter; more is cut, not refused
ORDER = ("due_on", "number", "pk")
AMOUNT = "amount-"  # + item pk: the amount disputed of that invoice; empty, all that is open


@dataclass(frozen=True)
class Picker:
    """One form's picker: its form field, and a key that is unique on the page (element ids)."""

    name: str  # the form field: one value per invoice ticked
    key: str  # "dispute", "call", "reply-12": ids `<key>-picker`, `<key>-rows`, `<key>-search`
    url: str  # the picker's view
    multiple: bool = True  # checkboxes; else radio buttons, the first one "the account"
    amounts: bool = False  # an amount field on each row (a dispute: all or part of an invoice)

    @property
    def rows_id(self) -> str:
        return f"{self.key}-rows"


@dataclass(frozen=True)
class Row:
    item: OpenItem
    chosen: bool
    amount: str  # as typed before a search, shown again


def choices(
    request: CompanyRequest, candidates: QuerySet[OpenItem], picker: Picker
) -> dict[str, Any]:
    """The rows to show and the counts for the note above them: the items ticked first (whether
    or not they match), then those whose number contains `q`, oldest due first, up to SHOWN."""
    query = request.GET.get("q", "").strip()[:QUERY_LENGTH]
    wanted = [int(pk) for pk in request.GET.getlist(picker.name) if pk.isdigit()]
    wanted = wanted if picker.multiple else wanted[:1]
    chosen = list(candidates.filter(pk__in=wanted).order_by(*ORDER))  # another's: not a candidate
    matching = candidates.filter(number__icontains=query) if query else candidates
    rest = matching.exclude(pk__in=[item.pk for item in chosen])
    others = list(rest.order_by(*ORDER)[:SHOWN])
    typed = _amounts(request, picker)
    total = candidates.count()
    return {
        "picker": picker,
        "rows": [Row(item, True, typed.get(item.pk, "")) for item in chosen]
        + [Row(item, False, typed.get(item.pk, "")) for item in others],
        "q": query,
        "total": total,
        "matched": matching.count() if query else total,
        "listed": len(others),
        "more": rest.count() - SHOWN if len(others) == SHOWN else 0,  # not listed: search
        "ticked": len(chosen),
    }


def _amounts(request: CompanyRequest, picker: Picker) -> dict[int, str]:
    if not picker.amounts:
        return {}
    return {int(name[len(AMOUNT) :]): request.GET.get(name, "") for name in request.GET
            if name.startswith(AMOUNT) and name[len(AMOUNT) :].isdigit()}  # fmt: skip


def respond(
    request: CompanyRequest,
    candidates: QuerySet[OpenItem],
    picker: Picker,
    *,
    customer: Customer,
    title: StrOrPromise,
    form: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The rows (a search), the picker (the fold opened) or, without htmx, the page of its own:
    `form` is the template of the form, as the customer page includes it, with `context`."""
    found = {"customer": customer, **choices(request, candidates, picker)}
    htmx = request.htmx  # type: ignore[attr-defined]  # django_htmx.middleware.HtmxMiddleware
    if htmx and htmx.target == picker.rows_id:
        response = render(request, "web/pickers/_rows.html", found)
    elif htmx:
        response = render(request, "web/pickers/_picker.html", found)
    else:
        page = {**context, **found, "title": title, "form_template": form}
        response = render(request, "web/pickers/page.html", page)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))  # one URL, three answers
    return response
