"""Disputes on the staff pages: opened from the customer page for all or part of an invoice,
worked on their own page (notes, attachments, investigation, resolution), scoped to the company."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dunwell.cases.models import Dispute, DisputeAttachment, DisputeState
from dunwell.cases.services import disputes
from dunwell.ledger.models import Activity, ActivityKind
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast: Cast) -> Cast:  # noqa: F811 - the fixture of test_pages
    return cast


PDF = b"%PDF-1.4\n% a delivery note\n"


def opened(client: Client, world: Cast, **fields: str) -> Dispute:
    as_user(client, world.collector_a)
    data = {"items": [str(world.invoice_a.pk)], "reason": "quantity", **fields}
    response = client.post(f"/customers/{world.customer_a.pk}/disputes/new", data)
    assert response.status_code == 302
    return Dispute.objects.get(company=world.a)


def test_a_collector_opens_a_dispute_for_part_of_an_invoice_from_the_customer_page(
    client: Client, world: Cast
):
    html = page(as_user(client, world.collector_a), f"/customers/{world.customer_a.pk}/")
    assert "Open a dispute" in html and "acme-INV-1 · €1,234.56" in html
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
