"""Placements on the customer page: credit managers place an account, record what the agency
recovered (with its commission), recall it and download the case file; collectors and viewers
see the placements only; another company's user gets 404 for all of it."""

from __future__ import annotations

import html
import io
import re
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from dunwell.cases.models import Agency, Placement, PlacementState
from dunwell.cases.services.placements import create_agency, place_account
from dunwell.ledger.models import Activity, ActivityKind
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(cast: Cast):  # noqa: F811 - the fixture of test_pages
    return create_agency(company=cast.a, name="Inkasso Nord", commission_percent="15",
                         at=datetime.now(UTC))  # fmt: skip


def placed(cast: Cast, agency) -> Placement:  # noqa: F811 - the fixture of test_pages
    return place_account(company=cast.a, customer=cast.customer_a, agency=agency,
                         on=timezone.localdate(), at=datetime.now(UTC), actor=None)  # fmt: skip


def test_a_credit_manager_places_records_a_recovery_and_recalls(client: Client, cast: Cast, agency):  # noqa: F811
    url = f"/customers/{cast.customer_a.pk}/"
    html = page(as_user(client, cast.manager_a), url)
    assert "Place everything open" in html and "Inkasso Nord (Collection agency, 15 %)" in html
    response = client.post(f"{url}place", {"agency": agency.pk, "note": "no answer"}, follow=True)
    assert "placed with Inkasso Nord (EUR 1234.56)" in response.content.decode()
    placement = Placement.objects.get(customer=cast.customer_a)
    assert (placement.state, placement.placed_minor) == (PlacementState.PLACED, 1_234_56)
    client.post(f"/placements/{placement.pk}/", {"action": "recovered", "amount": "333.33"})
    html = page(client, url)
    assert "€1,234.56" in html and "€333.33" in html and "€50.00" in html  # 15 % of 333.33
    assert "Place everything open" not in html  # one open placement at a time
    response = client.post(f"/placements/{placement.pk}/", {"action": "recall", "reason": "talks"},
                           follow=True)  # fmt: skip
    assert f"placement {placement.pk} with Inkasso Nord: recalled" in response.content.decode()
    placement.refresh_from_db()
    assert placement.state == PlacementState.RECALLED and placement.reason == "talks"
    response = client.post(f"/placements/{placement.pk}/", {"action": "recall", "reason": "x"})
    assert response.status_code == 404  # no longer open


def test_a_bad_amount_is_refused_with_a_message(client: Client, cast: Cast, agency):  # noqa: F811
    placement = placed(cast, agency)
    response = as_user(client, cast.manager_a).post(
        f"/placements/{placement.pk}/", {"action": "recovered", "amount": "-5"}, follow=True
    )
    assert "a recovered amount is more than zero" in response.content.decode()
    assert not placement.recoveries.exists()


def test_the_case_file_downloads_as_a_zip_and_is_recorded(client: Client, cast: Cast, agency):  # noqa: F811
    placed(cast, agency)
    response = as_user(client, cast.manager_a).get(f"/customers/{cast.customer_a.pk}/case-file.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert (
        f"case-file-C-100-{timezone.localdate().isoformat()}.zip"
        in (response["Content-Disposition"])
    )
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "02-documents/invoice-acme-INV-1.pdf" in names and "manifest.json" in names
    exported = Activity.objects.filter(kind=ActivityKind.CASE_FILE_EXPORTED,
                                       customer=cast.customer_a)  # fmt: skip
    assert exported.count() == 1 and exported[0].actor == cast.manager_a


def test_collectors_see_placements_but_may_not_act(client: Client, cast: Cast, agency):  # noqa: F811
    placement = placed(cast, agency)
    as_user(client, cast.collector_a)
    html = page(client, f"/customers/{cast.customer_a.pk}/")
    assert "Inkasso Nord" in html and "Placed" in html
    assert "Record recovery" not in html and "case-file.zip" not in html
    assert client.get(f"/customers/{cast.customer_a.pk}/case-file.zip").status_code == 403
    response = client.post(f"/placements/{placement.pk}/", {"action": "recall", "reason": "x"})
    assert response.status_code == 403
    as_user(client, cast.viewer_a)
    assert client.post(f"/customers/{cast.customer_a.pk}/place",
                       {"agency": agency.pk}).status_code == 403  # fmt: skip


def test_another_companys_user_gets_404_for_placements_and_the_case_file(
    client: Client,
    cast: Cast,  # noqa: F811
    agency,
):
    placement = placed(cast, agency)
    as_user(client, cast.user_b)  # an administrator of company B
    assert client.get(f"/customers/{cast.customer_a.pk}/case-file.zip").status_code == 404
    response = client.post(f"/placements/{placement.pk}/", {"action": "recall", "reason": "x"})
    assert response.status_code == 404
    response = client.post(f"/customers/{cast.customer_a.pk}/place", {"agency": agency.pk})
    assert response.status_code == 404
    # B's own customer cannot be placed with A's agency either
    response = client.post(f"/customers/{cast.customer_b.pk}/place", {"agency": agency.pk},
                           follow=True)  # fmt: skip
    assert "choose an agency or a lawyer" in response.content.decode()
    assert not Placement.objects.filter(customer=cast.customer_b).exists()
    assert not Activity.objects.filter(kind=ActivityKind.CASE_FILE_EXPORTED).exists()


def recovery_key(shown: str, placement: Placement) -> str:
    """The idempotency key in the page's "Record recovery" form of `placement`."""
    form = shown.split(f'action="/placements/{placement.pk}/"')[1].split("</form>", 1)[0]
    [key] = re.findall(r'<input type="hidden" name="key" value="([0-9a-f]{32})">', form)
    return key


def test_the_recovery_form_sent_twice_books_once_and_says_so(client: Client, cast: Cast, agency):  # noqa: F811
    placement = placed(cast, agency)
    url = f"/customers/{cast.customer_a.pk}/"
    key = recovery_key(page(as_user(client, cast.manager_a), url), placement)
    form = {"action": "recovered", "amount": "333.33", "note": "first instalment", "key": key}
    first = client.post(f"/placements/{placement.pk}/", form, follow=True).content.decode()
    assert (f"placement {placement.pk} with Inkasso Nord: recovered EUR 333.33, commission "
            "EUR 50.00") in first  # fmt: skip
    again = html.unescape(client.post(f"/placements/{placement.pk}/", form, follow=True)
                          .content.decode())  # fmt: skip
    today = timezone.localdate().isoformat()
    assert (f"sent twice: Inkasso Nord's recovery of EUR 333.33 on {today} is recorded once, "
            "nothing was booked again") in again  # fmt: skip
    assert [(r.amount_minor, r.commission_minor) for r in placement.recoveries.all()] == [
        (333_33, 50_00)
    ]  # fmt: skip
    entries = Activity.objects.filter(kind=ActivityKind.PLACEMENT_RECOVERED, item__isnull=True)
    assert [e.summary for e in entries] == [
        "Inkasso Nord recovered EUR 333.33 (commission EUR 50.00): first instalment"
    ]
    fresh = recovery_key(again, placement)  # the page after gives the next form a new key
    assert fresh != key
    client.post(f"/placements/{placement.pk}/", {**form, "key": fresh, "amount": "0.01"})
    assert sorted(placement.recoveries.values_list("amount_minor", flat=True)) == [1, 333_33]
    assert "€333.34" in page(client, url)  # recovered in all


def test_a_refused_recovery_leaves_its_key_unused(client: Client, cast: Cast, agency):  # noqa: F811
    placement = placed(cast, agency)
    key = recovery_key(page(as_user(client, cast.manager_a), f"/customers/{cast.customer_a.pk}/"),
                       placement)  # fmt: skip
    form = {"action": "recovered", "amount": "12.345", "key": key}
    response = client.post(f"/placements/{placement.pk}/", form, follow=True)
    assert "EUR 12.345 has more decimals than EUR allows" in response.content.decode()
    client.post(f"/placements/{placement.pk}/", {**form, "amount": "12.34"})
    assert list(placement.recoveries.values_list("amount_minor", "key")) == [(12_34, key)]


def test_a_credit_manager_adds_a_lawyer_from_the_customer_page_and_places_with_it(
    client: Client,
    cast: Cast,  # noqa: F811
):
    url = f"/customers/{cast.customer_a.pk}/"
    shown = page(as_user(client, cast.manager_a), url)
    assert "No agency or lawyer yet: add one to place the account with." in shown
    assert '<details class="case-form" open>' in shown and 'action="/agencies/new"' in shown
    form = {"name": " Kanzlei Roth ", "kind": "lawyer", "commission": "12.5",
            "email": "akte@roth.example", "phone": "+49 30 1234", "address": "Unter den Linden 1, Berlin",
            "next": url}  # fmt: skip
    response = client.post("/agencies/new", form, follow=True)
    assert response.redirect_chain == [(url, 302)]
    shown = response.content.decode()
    assert "Kanzlei Roth added (Lawyer, 12.5 % commission)" in shown
    assert "Kanzlei Roth (Lawyer, 12.5 %)" in shown and "Place everything open" in shown
    lawyer = Agency.objects.get(company=cast.a)
    assert (lawyer.name, lawyer.kind, lawyer.commission_percent, lawyer.email, lawyer.phone,
            lawyer.address, lawyer.active) == ("Kanzlei Roth", "lawyer", Decimal("12.5"),
                                               "akte@roth.example", "+49 30 1234",
                                               "Unter den Linden 1, Berlin", True)  # fmt: skip
    client.post(f"{url}place", {"agency": lawyer.pk})
    assert Placement.objects.get().commission_percent == Decimal("12.5")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"commission": "abc"}, "commission &#x27;abc&#x27;: expected a percentage from 0 to 100"),
        ({"commission": "100.5"}, "commission &#x27;100.5&#x27;: expected a percentage from 0"),
        ({"commission": ""}, "Commission (%): This field is required."),
        ({"name": "Inkasso Nord"}, "there is an agency &#x27;Inkasso Nord&#x27; already"),
        ({"name": " "}, "Name: This field is required."),
        ({"email": "roth.example"}, "Email: Enter a valid email address."),
        ({"kind": "bailiff"}, "Kind: Select a valid choice. bailiff is not one of the available"),
    ],
)
def test_a_bad_agency_is_refused_naming_the_field_and_nothing_is_added(
    client: Client,
    cast: Cast,  # noqa: F811
    agency,
    fields: dict[str, str],
    message: str,
):
    form = {"name": "Kanzlei Roth", "kind": "lawyer", "commission": "20", **fields}
    response = as_user(client, cast.manager_a).post("/agencies/new", form, follow=True)
    assert response.redirect_chain == [("/agencies/", 302)]
    assert f"Agency not added: {message}" in response.content.decode()
    assert list(Agency.objects.values_list("name", flat=True)) == ["Inkasso Nord"]


def test_the_agencies_page_lists_active_and_inactive_ones_with_their_open_placements(
    client: Client,
    cast: Cast,  # noqa: F811
    agency,
):
    placed(cast, agency)
    old = create_agency(company=cast.a, name="Alt Inkasso", commission_percent="9.75",
                        at=datetime.now(UTC))  # fmt: skip
    Agency.objects.filter(pk=old.pk).update(active=False)
    create_agency(company=cast.b, name="Bolt's Lawyer", commission_percent="10", kind="lawyer",
                  at=datetime.now(UTC))  # fmt: skip
    shown = page(as_user(client, cast.collector_a), "/agencies/")
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>.*?<td class=\"num\">(.*?)</td>.*?"
                      r"<span class=\"tag[^\"]*\">(\w+)</span></td>\s*<td class=\"num\">(\d+)</td>",
                      shown, re.S)  # fmt: skip
    assert rows == [
        ("Inkasso Nord", "15 %", "active", "1"),
        ("Alt Inkasso", "9.75 %", "inactive", "0"),
    ]
    assert "Bolt" not in shown  # another company's
    assert 'action="/agencies/new"' not in shown  # a collector may look, not add
    assert client.post("/agencies/new", {"name": "X", "kind": "agency",
                                          "commission": "5"}).status_code == 403  # fmt: skip
    placement_section = page(client, f"/customers/{cast.customer_a.pk}/")
    assert "Add an agency or a lawyer" not in placement_section


def test_an_agency_form_goes_back_only_to_a_page_of_this_site(client: Client, cast: Cast):  # noqa: F811
    form = {"name": "Kanzlei Roth", "kind": "lawyer", "commission": "20",
            "next": "https://evil.example/"}  # fmt: skip
    response = as_user(client, cast.manager_a).post("/agencies/new", form, follow=True)
    assert response.redirect_chain == [("/agencies/", 302)]
    as_user(client, cast.user_b)
    assert "Kanzlei Roth" not in page(client, "/agencies/")
