"""The invoice pickers of the customer page's forms (web/pickers.py): the page lists no invoices for
its forms; each form's fold fetches its own when opened (htmx), lists the 200 oldest due with how
many there are, narrows them by number on the server and keeps what is ticked; without
JavaScript the same address is a page of its own with the form. Collectors only, as the forms'
POSTs; another company's customer or reply is not found.

Acme's customer (tests/web/test_pages.py) owes acme-INV-1, due 45 days ago; here 299 more,
acme-INV-2 … acme-INV-300, each EUR 1.00 × n, due a day apart after it: 300 open items.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dunwell.cases.models import CustomerReply, Dispute
from dunwell.cases.services.replies import log_reply
from dunwell.ledger.models import Activity, ActivityKind, OpenItem
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

# form: (picker's path under the customer, the form's field, what each row is)
FORMS = {
    "dispute": ("disputes/invoices", "items", "checkbox"),
    "call": ("calls/invoices", "items", "checkbox"),
    "note": ("notes/invoices", "item", "radio"),
    "promise": ("promises/invoices", "invoice", "checkbox"),
    "plan": ("plans/invoices", "invoices", "checkbox"),
}


@pytest.fixture
def world(cast: Cast) -> Cast:  # noqa: F811 - the fixture of test_pages
    more_invoices(cast, range(2, 301))
    return cast


def more_invoices(world: Cast, numbers: range) -> list[OpenItem]:
    today = timezone.localdate()
    first_due = world.invoice_a.due_on
    return OpenItem.objects.bulk_create(
        OpenItem(company=world.a, customer=world.customer_a, number=f"acme-INV-{n}",
                 issued_on=today - timedelta(days=90), due_on=first_due + timedelta(days=n - 1),
                 currency="EUR", amount_minor=n * 1_00, open_minor=n * 1_00)
        for n in numbers
    )  # fmt: skip


def url(world: Cast, form: str) -> str:
    return f"/customers/{world.customer_a.pk}/{FORMS[form][0]}"


def picker(client: Client, address: str, target: str = "", language: str = "en",
           **params: object) -> str:  # fmt: skip
    """What htmx gets: the picker (the fold opened), or its rows only (a search)."""
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_LANGUAGE": language,
               **({"HTTP_HX_TARGET": target} if target else {})}  # fmt: skip
    response = client.get(address, params, **headers)
    assert response.status_code == 200, response.content[:300]
    assert "HX-Request" in response["Vary"]  # one address, three answers: caches keep them apart
    return response.content.decode()


def listed(html: str, name: str) -> list[str]:
    """The invoice numbers of the rows, in order, with a ✓ for those ticked."""
    numbers = []
    for row in html.split(f'name="{name}" value="')[1:]:
        pk = row.split('"')[0]
        if pk:  # not the note picker's "the account"
            number = OpenItem.objects.get(pk=pk).number
            numbers.append(f"{number} ✓" if row.split(">")[0].endswith(" checked") else number)
    return numbers


def test_the_customer_page_lists_no_invoices_for_its_forms(client: Client, world: Cast):
    html = page(as_user(client, world.collector_a), f"/customers/{world.customer_a.pk}/")
    for form in FORMS:
        assert f'hx-get="{url(world, form)}" hx-trigger="toggle once from:closest details"' in html
        assert f'<a href="{url(world, form)}">Choose among the open items' in html  # no script
    assert 'name="items"' not in html and 'name="invoice"' not in html
    assert "acme-INV-51<" not in html  # past the open items table's first page: nowhere
    assert "/static/django_htmx/htmx-2.min.js" in html


@pytest.mark.parametrize("form", FORMS)
def test_each_form_gets_the_oldest_200_of_300_and_is_told_how_to_find_the_others(
    client: Client, world: Cast, form: str
):
    _, name, kind = FORMS[form]
    html = picker(as_user(client, world.collector_a), url(world, form))
    assert html.count(f'type="{kind}" name="{name}" value="') == 200 + (kind == "radio")
    assert listed(html, name)[:2] == ["acme-INV-1", "acme-INV-2"]
    assert listed(html, name)[-1] == "acme-INV-200"
    assert ("300 open items. Listed: the 200 oldest due; type part of a number to narrow them "
            "down.") in html  # fmt: skip
    assert f'form="{form}-search"' in html  # the search box: Enter searches, never submits


def test_a_search_narrows_by_number_and_keeps_what_is_ticked_with_its_amount(
    client: Client, world: Cast
):
    as_user(client, world.collector_a)
    first = world.invoice_a.pk
    rows = picker(client, url(world, "dispute"), "dispute-rows", q="inv-25", items=[first],
                  **{f"amount-{first}": "10.00"})  # fmt: skip
    assert 'name="q"' not in rows  # the rows only: the box keeps its focus and what is typed
    assert listed(rows, "items") == ["acme-INV-1 ✓", "acme-INV-25", *(f"acme-INV-{n}" for n in
                                                                      range(250, 260))]  # fmt: skip
    assert f'name="amount-{first}" value="10.00"' in rows
    assert "11 of the 300 open items match “inv-25”. 1 ticked, listed first." in rows
    nothing = picker(client, url(world, "dispute"), "dispute-rows", q="INV-9999")
    assert "No open item's number contains “INV-9999”." in nothing
    assert listed(nothing, "items") == []


def test_the_note_picker_chooses_one_invoice_or_the_account(client: Client, world: Cast):
    as_user(client, world.collector_a)
    html = picker(client, url(world, "note"))
    assert '<input type="radio" name="item" value="" id="note-none" checked>' in html
    item = OpenItem.objects.get(number="acme-INV-7")
    rows = picker(client, url(world, "note"), "note-rows", q="INV-7", item=[item.pk])
    assert listed(rows, "item")[:2] == ["acme-INV-7 ✓", "acme-INV-70"]
    assert 'value="" id="note-none">' in rows  # no longer the account
    client.post(f"/customers/{world.customer_a.pk}/notes", {"text": "short delivery",
                                                            "item": item.pk})  # fmt: skip
    note = Activity.objects.get(kind=ActivityKind.NOTE_ADDED, item__isnull=False)
    assert (note.item, note.summary) == (item, "note on acme-INV-7: short delivery")


def test_the_pickers_offer_only_what_their_form_accepts(client: Client, world: Cast):
    OpenItem.objects.filter(number="acme-INV-2").update(open_minor=0)  # paid
    OpenItem.objects.filter(number="acme-INV-3").update(voided_on=timezone.localdate())
    OpenItem.objects.filter(number="acme-INV-4").update(kind="credit_note")
    as_user(client, world.collector_a)
    for form, (_, name, _kind) in FORMS.items():
        html = picker(client, url(world, form), q="acme-INV-")
        assert listed(html, name)[:2] == ["acme-INV-1", "acme-INV-5"], form
        assert "297 of the 297 open items match" in html, form
        assert "bolt-INV-1" not in picker(client, url(world, form), q="INV-1"), form


def test_a_reply_s_dispute_has_its_own_picker(client: Client, world: Cast):
    log_reply(company=world.a, customer=world.customer_a, raw="Invoice 12 is wrong.", actor=None,
              on=timezone.localdate(), at=timezone.now())  # fmt: skip
    reply = CustomerReply.objects.get()
    as_user(client, world.collector_a)
    html = page(client, f"/customers/{world.customer_a.pk}/")
    assert f'hx-get="/replies/{reply.pk}/invoices"' in html
    rows = picker(client, f"/replies/{reply.pk}/invoices", f"reply-{reply.pk}-rows", q="INV-12")
    twelve = OpenItem.objects.get(number="acme-INV-12")
    assert listed(rows, "item")[0] == "acme-INV-12"
    response = client.post(f"/replies/{reply.pk}/dispute", {"item": [twelve.pk],
                                                            "reason": "price"}, follow=True)  # fmt: skip
    dispute = Dispute.objects.get()
    assert f"reply {reply.pk}: dispute {dispute.pk} opened" in response.content.decode()
    assert [part.item for part in dispute.items.all()] == [twelve]


def test_without_javascript_the_picker_is_a_page_with_the_form(client: Client, world: Cast):
    as_user(client, world.collector_a)
    html = page(client, url(world, "dispute") + "?q=INV-29")
    assert "<h1>Open a dispute</h1>" in html and "Acme Buyer GmbH</a> /" in html
    assert '<details class="case-form" open>' in html
    search = html.split('<form id="dispute-search"')[1].split("</form>")[0]
    assert f'method="get" action="{url(world, "dispute")}"' in search
    assert 'form="dispute-search"' in html and 'value="INV-29"' in html
    assert "11 of the 300 open items match “INV-29”." in html
    form = html.split(
        f'<form method="post" action="/customers/{world.customer_a.pk}/disputes/new">'
    )
    assert 'name="items" value="' in form[1] and 'name="reason"' in form[1]
    call = page(client, url(world, "call"))
    assert "<h1>Log a call</h1>" in call and 'name="outcome"' in call
    assert call.count('type="checkbox" name="items"') == 200


def test_a_viewer_may_not_open_a_picker(client: Client, world: Cast):
    as_user(client, world.viewer_a)
    for form in FORMS:
        assert client.get(url(world, form), HTTP_HX_REQUEST="true").status_code == 403, form
        assert client.get(url(world, form)).status_code == 403, form


def test_another_companys_customer_and_reply_are_not_found(client: Client, world: Cast):
    reply = log_reply(company=world.a, customer=world.customer_a, raw="Wrong price.", actor=None,
                      on=timezone.localdate(), at=timezone.now())  # fmt: skip
    as_user(client, world.user_b)  # Bolt's administrator
    for address in [url(world, form) for form in FORMS] + [f"/replies/{reply.pk}/invoices"]:
        response = client.get(address, {"q": "INV"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 404, address
        assert "acme-INV" not in response.content.decode()


def test_a_picker_runs_as_many_queries_for_300_invoices_as_for_30(client: Client, cast: Cast):  # noqa: F811
    as_user(client, cast.collector_a)
    more_invoices(cast, range(2, 31))
    picker(client, url(cast, "dispute"))  # warm: session, translations
    with CaptureQueriesContext(connection) as thirty:
        picker(client, url(cast, "dispute"), q="INV-2", items=[cast.invoice_a.pk])
    more_invoices(cast, range(31, 301))
    with CaptureQueriesContext(connection) as three_hundred:
        html = picker(client, url(cast, "dispute"), q="INV-2", items=[cast.invoice_a.pk])
    assert "Listed: the 200 oldest due" not in html  # 111 match
    assert len(three_hundred) == len(thirty)


def test_the_picker_speaks_german_on_a_german_page(client: Client, world: Cast):
    as_user(client, world.collector_a)
    html = picker(client, url(world, "dispute"), language="de")
    assert "300 offene Posten." in html and "Nummer enthält" in html
