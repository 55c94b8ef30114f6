"""Disputes on the staff pages: opened from the customer page for all or part of an invoice,
worked on their own page (notes, attachments, investigation, resolution), scoped to the company."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from dunwell.cases.models import Dispute, DisputeAttachment, DisputedItem, DisputeState
from dunwell.cases.services import disputes
from dunwell.ledger.models import Activity, ActivityKind, OpenItem
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast: Cast) -> Cast:  # noqa: F811 - the fixture of test_pages
    return cast


PDF = b"%PDF-1.4\n% a delivery note\n"
PICKER = "/customers/{}/disputes/invoices"  # the dispute form's invoices, fetched when opened


def opened(client: Client, world: Cast, **fields: str) -> Dispute:
    as_user(client, world.collector_a)
    data = {"items": [str(world.invoice_a.pk)], "reason": "quantity", **fields}
    if "amount" in data:
        data[f"amount-{world.invoice_a.pk}"] = data.pop("amount")
    response = client.post(f"/customers/{world.customer_a.pk}/disputes/new", data)
    assert response.status_code == 302
    return Dispute.objects.get(company=world.a)


def test_a_collector_opens_a_dispute_for_part_of_an_invoice_from_the_customer_page(
    client: Client, world: Cast
):
    html = page(as_user(client, world.collector_a), f"/customers/{world.customer_a.pk}/")
    assert "Open a dispute" in html and PICKER.format(world.customer_a.pk) in html
    rows = page(client, PICKER.format(world.customer_a.pk), HTTP_HX_REQUEST="true")
    assert f'name="amount-{world.invoice_a.pk}"' in rows  # the fold opened: its invoices
    dispute = opened(client, world, amount="200.00", note="two boxes short")
    [part] = dispute.items.all()
    assert (part.amount_minor, dispute.owner, dispute.state) == (200_00, world.collector_a, "open")
    html = page(client, f"/disputes/{dispute.pk}/")
    assert "Quantity" in html and "€200.00" in html and "two boxes short" in html


def test_a_viewer_sees_no_dispute_form_and_may_not_open_one(client: Client, world: Cast):
    html = page(as_user(client, world.viewer_a), f"/customers/{world.customer_a.pk}/")
    assert "Open a dispute" not in html
    data = {"items": [str(world.invoice_a.pk)], "reason": "price"}
    assert client.post(f"/customers/{world.customer_a.pk}/disputes/new", data).status_code == 403


def test_another_companys_invoice_cannot_be_disputed_and_its_disputes_are_not_found(
    client: Client, world: Cast
):
    as_user(client, world.collector_a)
    data = {"items": [str(world.invoice_b.pk)], "reason": "price"}
    client.post(f"/customers/{world.customer_a.pk}/disputes/new", data)
    assert not Dispute.objects.exists()
    dispute = opened(client, world)
    as_user(client, world.user_b)
    page(client, f"/disputes/{dispute.pk}/", status=404)
    assert client.post(f"/disputes/{dispute.pk}/note", {"note": "x"}).status_code == 404


def test_notes_attachments_and_the_resolution_land_in_the_history(client: Client, world: Cast):
    dispute = opened(client, world)
    client.post(f"/disputes/{dispute.pk}/note", {"note": "asked the warehouse"})
    upload = SimpleUploadedFile("Lieferschein 4711.pdf", PDF, content_type="application/pdf")
    client.post(f"/disputes/{dispute.pk}/attach", {"file": upload})
    client.post(f"/disputes/{dispute.pk}/investigate", {"note": "counting stock"})
    client.post(f"/disputes/{dispute.pk}/resolve",
                {"resolution": "rejected", "note": "delivery was complete"})  # fmt: skip
    dispute.refresh_from_db()
    assert dispute.state == DisputeState.RESOLVED and dispute.resolution == "rejected"
    entries = Activity.objects.filter(customer=world.customer_a, item__isnull=True,
                                      data__dispute=dispute.pk).order_by("id")  # fmt: skip
    assert [a.summary for a in entries] == [
        "dispute opened (quantity): acme-INV-1 EUR 1234.56",
        f"dispute {dispute.pk}: asked the warehouse",
        f"dispute {dispute.pk}: attached Lieferschein 4711.pdf (27 bytes)",
        "dispute under investigation: counting stock",
        "dispute resolved (rejected): delivery was complete",
    ]
    file = DisputeAttachment.objects.get()
    response = client.get(f"/disputes/{dispute.pk}/attachments/{file.pk}")
    assert response.content == PDF and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Lieferschein_4711.pdf"'
    html = page(client, f"/disputes/{dispute.pk}/")
    assert "Lieferschein 4711.pdf" in html and "Add note" not in html  # resolved: no more work


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("invoice.exe", b"MZ", "invoice.exe: expected one of .csv, .docx, .eml, .jpeg, .jpg"),
        ("photo.png", PDF, "photo.png is not a PNG file"),
        ("note.txt", b"\xff\xfe\x00", "note.txt is not UTF-8 text"),
        ("empty.pdf", b"", "empty.pdf is empty"),
    ],
)
def test_an_attachment_of_the_wrong_kind_is_refused_with_its_name(
    client: Client, world: Cast, name: str, content: bytes, message: str
):
    dispute = opened(client, world)
    upload = SimpleUploadedFile(name, content)
    response = client.post(f"/disputes/{dispute.pk}/attach", {"file": upload}, follow=True)
    assert message in response.content.decode()
    assert not DisputeAttachment.objects.exists()
    assert not Activity.objects.filter(kind=ActivityKind.DISPUTE_ATTACHMENT).exists()


def test_an_attachment_over_ten_megabytes_is_refused_before_it_is_read():
    with pytest.raises(
        disputes.DunwellError, match=r"big.pdf is 10,485,761 bytes: at most 10,485,760"
    ):
        disputes.check_size("big.pdf", 10 * 1024 * 1024 + 1)


def more_invoices(world: Cast, *amounts: int, currency: str = "EUR") -> list[OpenItem]:
    """Further open invoices of customer A, due a day apart after acme-INV-1."""
    today = timezone.localdate()
    return OpenItem.objects.bulk_create(
        OpenItem(company=world.a, customer=world.customer_a, number=f"acme-INV-{n}",
                 issued_on=today - timedelta(days=60), due_on=today - timedelta(days=40 - n),
                 currency=currency, amount_minor=amount, open_minor=amount)
        for n, amount in enumerate(amounts, start=2)
    )  # fmt: skip


def post_dispute(client: Client, world: Cast, items: list[OpenItem], **amounts: str):
    as_user(client, world.collector_a)
    data = {"items": [str(i.pk) for i in items], "reason": "price", "note": "list price",
            **{f"amount-{pk}": text for pk, text in amounts.items()}}  # fmt: skip
    return client.post(f"/customers/{world.customer_a.pk}/disputes/new", data, follow=True)


def test_a_dispute_covers_several_invoices_each_for_all_or_part_of_what_is_open(
    client: Client, world: Cast
):
    second, third = more_invoices(world, 500_00, 75_10)
    amounts = {str(world.invoice_a.pk): "200.05", str(second.pk): "", str(third.pk): "75.10"}
    response = post_dispute(client, world, [world.invoice_a, second, third], **amounts)
    dispute = Dispute.objects.get(company=world.a)
    assert f"Dispute {dispute.pk} opened" in response.content.decode()
    parts = {p.item.number: p.amount_minor for p in dispute.items.select_related("item")}
    assert parts == {"acme-INV-1": 200_05, "acme-INV-2": 500_00, "acme-INV-3": 75_10}
    entry = Activity.objects.get(kind=ActivityKind.DISPUTE_OPENED, item__isnull=True)
    assert entry.summary == ("dispute opened (price): acme-INV-1 EUR 200.05, acme-INV-2 EUR "
                             "500.00, acme-INV-3 EUR 75.10: list price")  # fmt: skip
    on_items = Activity.objects.filter(kind=ActivityKind.DISPUTE_OPENED, item__isnull=False)
    assert sorted((a.item.number, a.amount_minor) for a in on_items) == [
        ("acme-INV-1", 200_05), ("acme-INV-2", 500_00), ("acme-INV-3", 75_10)
    ]  # fmt: skip
    html = page(client, f"/disputes/{dispute.pk}/")
    assert "€200.05" in html and "€500.00" in html and "€75.10" in html


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "500.01",
            "Invoice acme-INV-2: a disputed amount is more than zero and at most the "
            "EUR 500.00 open",
        ),
        ("0", "Invoice acme-INV-2: a disputed amount is more than zero"),
        ("-5", "Invoice acme-INV-2: a disputed amount is more than zero"),
        (
            "12.345",
            "acme-INV-2, amount disputed &#x27;12.345&#x27;: EUR 12.345 has more decimals "
            "than EUR allows",
        ),
        (
            "12,3x",
            "acme-INV-2, amount disputed &#x27;12,3x&#x27;: &#x27;12,3x&#x27; is not a number",
        ),
    ],
)
def test_a_bad_amount_names_its_invoice_and_opens_nothing(
    client: Client, world: Cast, typed: str, message: str
):
    [second] = more_invoices(world, 500_00)
    amounts = {str(world.invoice_a.pk): "100.00", str(second.pk): typed}
    response = post_dispute(client, world, [world.invoice_a, second], **amounts)
    assert "Dispute not opened: " + message in response.content.decode()
    assert not Dispute.objects.exists() and not DisputedItem.objects.exists()
    assert not Activity.objects.filter(kind=ActivityKind.DISPUTE_OPENED).exists()


def test_an_amount_is_read_in_the_invoices_own_currency(client: Client, world: Cast):
    [yen] = more_invoices(world, 250_000, currency="JPY")
    response = post_dispute(client, world, [yen], **{str(yen.pk): "1500.5"})
    assert "EUR" not in (text := response.content.decode().split("Dispute not opened: ")[1][:120])
    assert "JPY 1500.5 has more decimals than JPY allows" in text
    post_dispute(client, world, [yen], **{str(yen.pk): "1,500"})
    [part] = Dispute.objects.get().items.all()
    assert part.amount_minor == 1_500  # yen have no minor unit
    assert Activity.objects.get(kind=ActivityKind.DISPUTE_OPENED, item__isnull=True).summary == (
        "dispute opened (price): acme-INV-2 JPY 1500: list price"
    )


def test_an_amount_on_an_invoice_not_ticked_is_refused(client: Client, world: Cast):
    [second] = more_invoices(world, 500_00)
    response = post_dispute(client, world, [world.invoice_a], **{str(second.pk): "10.00"})
    assert ("acme-INV-2: an amount is typed but the invoice is not ticked"
            in response.content.decode())  # fmt: skip
    assert not Dispute.objects.exists()


def test_a_customer_with_150_open_invoices_gets_them_in_one_folded_table(
    client: Client, world: Cast
):
    items = more_invoices(world, *range(1_00, 150_00, 1_00))  # 149 more: 150 open
    as_user(client, world.collector_a)
    form = page(client, PICKER.format(world.customer_a.pk), HTTP_HX_REQUEST="true")
    assert "150 open items." in form and "Listed:" not in form
    assert form.count('type="checkbox" name="items"') == 150
    assert form.count('name="amount-') == 150 and "acme-INV-150" in form
    post_dispute(client, world, [items[0], items[-1]], **{str(items[-1].pk): "0.99"})
    parts = Dispute.objects.get().items.order_by("item__due_on")
    assert [(p.item.number, p.amount_minor) for p in parts] == [
        ("acme-INV-2", 1_00), ("acme-INV-150", 99)
    ]  # fmt: skip
