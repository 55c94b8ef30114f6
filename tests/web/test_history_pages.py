"""The full history pages of a customer and an invoice: scoping, filters, pager, exports,
corrections by a collector."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from dunwell.ledger.models import Activity, ActivityKind
from dunwell.ledger.services import activity
from dunwell.ledger.services.overdue import record_overdue
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def note(cast: Cast, summary: str, at: datetime = T0, **extra: object) -> Activity:  # noqa: F811
    return activity.record(company=cast.a, kind=extra.pop("kind", ActivityKind.NOTE_ADDED),  # type: ignore[arg-type]
                           on=at.date(), at=at, customer=cast.customer_a, summary=summary,
                           **extra)  # type: ignore[arg-type]  # fmt: skip


def test_the_customer_page_links_its_full_history(client: Client, cast: Cast) -> None:  # noqa: F811
    as_user(client, cast.viewer_a)

    html = page(client, f"/customers/{cast.customer_a.pk}/")

    assert f'href="/customers/{cast.customer_a.pk}/history/"' in html
    assert f'href="/items/{cast.invoice_a.pk}/history/"' in page(
        client, f"/items/{cast.invoice_a.pk}/"
    )


def test_the_history_is_the_companys_own(client: Client, cast: Cast) -> None:  # noqa: F811
    note(cast, "Called Petra")
    as_user(client, cast.user_b)

    page(client, f"/customers/{cast.customer_a.pk}/history/", status=404)
    page(client, f"/items/{cast.invoice_a.pk}/history/", status=404)
    page(client, f"/customers/{cast.customer_a.pk}/history/?format=csv", status=404)


def test_a_viewer_reads_the_history_but_may_not_correct(client: Client, cast: Cast) -> None:  # noqa: F811
    entry = note(cast, "Called Petra, promised EUR 500")
    as_user(client, cast.viewer_a)

    html = page(client, f"/customers/{cast.customer_a.pk}/history/")
    refused = client.post("/history/correct", {"entry": entry.pk, "text": "EUR 50"})

    assert "Called Petra, promised EUR 500" in html
    assert "Record the correction" not in html
    assert refused.status_code == 403
    assert not Activity.objects.filter(kind=ActivityKind.CORRECTION).exists()


def test_a_collector_corrects_an_entry_and_both_show_linked(client: Client, cast: Cast) -> None:  # noqa: F811
    entry = note(cast, "Called Petra, promised EUR 500")
    as_user(client, cast.collector_a)
    url = f"/customers/{cast.customer_a.pk}/history/"

    posted = client.post(
        "/history/correct", {"entry": str(entry.pk), "text": "It was EUR 50", "next": url}
    )
    html = page(client, url)

    correction = Activity.objects.get(kind=ActivityKind.CORRECTION)
    assert posted.status_code == 302 and posted["Location"] == f"{url}#entry-{correction.pk}"
    assert correction.data == {"corrects": entry.pk, "text": "It was EUR 50"}
    assert correction.actor_label == "colly"
    assert f'<a href="#entry-{entry.pk}">corrects entry {entry.pk}</a>' in html
    assert f'corrected by</span> <a href="#entry-{correction.pk}">' in html
    assert Activity.objects.get(pk=entry.pk).summary == "Called Petra, promised EUR 500"


def test_another_companys_entry_cannot_be_corrected(client: Client, cast: Cast) -> None:  # noqa: F811
    entry = note(cast, "Called Petra")
    as_user(client, cast.user_b)

    assert client.post("/history/correct", {"entry": entry.pk, "text": "x"}).status_code == 404
    assert not Activity.objects.filter(kind=ActivityKind.CORRECTION).exists()


def test_a_correction_without_text_is_refused_with_a_message(client: Client, cast: Cast) -> None:  # noqa: F811
    entry = note(cast, "Called Petra")
    as_user(client, cast.collector_a)
    url = f"/customers/{cast.customer_a.pk}/history/"

    posted = client.post("/history/correct", {"entry": entry.pk, "text": " ", "next": url},
                         follow=True)  # fmt: skip

    assert "text: say what was wrong and what is right" in posted.content.decode()
    assert not Activity.objects.filter(kind=ActivityKind.CORRECTION).exists()


def test_pages_go_older_and_newer_by_cursor(client: Client, cast: Cast) -> None:  # noqa: F811
    for n in range(60):
        note(cast, f"entry number {n:02d}", at=T0 + timedelta(minutes=n // 3))
    as_user(client, cast.viewer_a)
    url = f"/customers/{cast.customer_a.pk}/history/?kind=calls"

    first = client.get(url)
    older_link = first.context["page"].next_cursor
    second = client.get(f"{url}&after={older_link}")
    back = client.get(f"{url}&before={second.context['page'].previous_cursor}")

    def shown(response) -> list[str]:  # type: ignore[no-untyped-def]
        return [r.entry.summary for r in response.context["page"].rows]

    assert shown(first) == [f"entry number {n:02d}" for n in range(59, 9, -1)]
    assert shown(second) == [f"entry number {n:02d}" for n in range(9, -1, -1)]
    assert shown(back) == shown(first)
    assert "Older" in first.content.decode() and "Newer" in second.content.decode()
    assert client.get(f"{url}&after=garbage").status_code == 400


def test_filters_narrow_the_page(client: Client, cast: Cast) -> None:  # noqa: F811
    note(cast, "Called Petra", kind=ActivityKind.CALL_LOGGED, label="colly")
    note(cast, "Reminder fee", at=T0 + timedelta(days=4), kind=ActivityKind.FEE_CHARGED)
    as_user(client, cast.viewer_a)
    base = f"/customers/{cast.customer_a.pk}/history/"

    assert "Reminder fee" not in page(client, base + "?kind=calls")
    assert "Called Petra" not in page(client, base + "?on_from=2026-03-05")
    assert "Reminder fee" not in page(client, base + "?by=colly")
    assert "Reminder fee" in page(client, base + "?q=FEE")
    assert "The last date is before the first." in page(
        client, base + "?on_from=2026-03-05&on_to=2026-03-01"
    )


def test_a_reminder_expands_to_the_text_as_sent(client: Client, cast: Cast) -> None:  # noqa: F811
    note(cast, "First reminder (email to ap@acme.example)", kind=ActivityKind.REMINDER_SENT,
         data={"message": 7, "subject": "First reminder", "body": "Dear Petra,\nplease pay."})  # fmt: skip
    as_user(client, cast.viewer_a)

    html = page(client, f"/customers/{cast.customer_a.pk}/history/")

    assert "The text as sent" in html
    assert '<pre class="letter">Dear Petra,\nplease pay.</pre>' in html
    assert 'href="/dunning/messages/7/"' in html


def test_html_in_an_entry_and_in_a_text_as_sent_is_shown_inert(client: Client, cast: Cast) -> None:  # noqa: F811
    note(cast, '<script>alert("x")</script> & <b>bold</b>', kind=ActivityKind.REMINDER_SENT,
         amount_minor=123456, currency="EUR",
         data={"message": 7, "subject": "<i>Re</i>", "body": "<img src=x onerror=y>"})  # fmt: skip
    html = page(as_user(client, cast.viewer_a), f"/customers/{cast.customer_a.pk}/history/")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<strong>&lt;i&gt;Re&lt;/i&gt;</strong>" in html and "&lt;img src=x" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert '<td class="num">€1,234.56</td>' in html and '<td class="date">2026-03-02</td>' in html


def test_csv_export_streams_every_match_and_neutralises_formulas(
    client: Client,
    cast: Cast,  # noqa: F811 - the fixture of test_pages
) -> None:
    for n in range(3):
        note(cast, f"note {n}", at=T0 + timedelta(minutes=n))
    note(cast, "=HYPERLINK(\"http://evil\")", at=T0 + timedelta(hours=1), label="-colly",
         kind=ActivityKind.CALL_LOGGED)  # fmt: skip
    as_user(client, cast.viewer_a)

    response = client.get(f"/customers/{cast.customer_a.pk}/history/?kind=calls&format=csv")

    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="history-C-100.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["summary"] for r in rows] == ["'=HYPERLINK(\"http://evil\")", "note 2", "note 1",
                                            "note 0"]  # fmt: skip
    assert rows[0]["by"] == "'-colly"
    assert rows[0]["kind"] == "Call" and rows[0]["customer"] == "C-100"


def test_json_export_of_an_invoice(client: Client, cast: Cast) -> None:  # noqa: F811
    activity.record(company=cast.a, kind=ActivityKind.PAYMENT_RECEIVED, on=T0.date(), at=T0,
                    customer=cast.customer_a, item=cast.invoice_a, summary="Paid 100.00",
                    amount_minor=10000, currency="EUR", data={"ref": "X1"})  # fmt: skip
    note(cast, "not on the invoice")
    as_user(client, cast.viewer_a)

    response = client.get(f"/items/{cast.invoice_a.pk}/history/?format=json")

    rows = json.loads(b"".join(response.streaming_content))
    assert [(r["summary"], r["amount"], r["invoice"], r["data"]) for r in rows] == [
        ("Paid 100.00", "100.00", "acme-INV-1", {"ref": "X1"})
    ]


def test_a_page_s_queries_do_not_grow_with_its_rows(client: Client, cast: Cast) -> None:  # noqa: F811
    """The page reads only the columns it shows: a row that needed another (a deferred field)
    would cost a query each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    as_user(client, cast.collector_a)
    url = f"/customers/{cast.customer_a.pk}/history/"
    note(cast, "one", item=cast.invoice_a)
    with CaptureQueriesContext(connection) as one:
        page(client, url)
    for n in range(30):
        note(cast, f"entry {n}", at=T0 + timedelta(minutes=n), item=cast.invoice_a,
             amount_minor=100 + n, currency="EUR")  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        html = page(client, url)
    assert (
        html.count('<tr id="entry-') == 31 and "entry 29" in html and cast.invoice_a.number in html
    )
    assert len(many.captured_queries) == len(one.captured_queries)


def test_a_german_reader_sees_german_kinds_and_groups_and_the_export_stays_english(
    client: Client,
    cast: Cast,  # noqa: F811 - the fixture of test_pages
) -> None:
    note(cast, "rang back", kind=ActivityKind.CALL_LOGGED)
    as_user(client, cast.viewer_a)
    url = f"/customers/{cast.customer_a.pk}/history/"

    html = page(client, url, HTTP_ACCEPT_LANGUAGE="de")

    assert "</td><td>Anruf</td><td>rang back</td>" in html  # the What column
    assert '<option value="calls">Anrufe, Notizen und Aufgaben</option>' in html
    english = page(client, url)
    assert "</td><td>Call</td><td>rang back</td>" in english
    assert '<option value="calls">Calls, notes and tasks</option>' in english
    response = client.get(f"{url}?format=csv", HTTP_ACCEPT_LANGUAGE="de")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["kind"], r["group"], r["summary"]) for r in rows] == [("Call", "calls", "rang back")]


def test_an_invoice_becoming_overdue_shows_in_its_history(client: Client, cast: Cast) -> None:  # noqa: F811
    due = cast.invoice_a.due_on
    record_overdue(company=cast.a, on=due + timedelta(days=1), at=T0)
    as_user(client, cast.viewer_a)

    html = page(client, f"/items/{cast.invoice_a.pk}/history/")
    documents = page(client, f"/customers/{cast.customer_a.pk}/history/?kind=documents")
    payments = page(client, f"/customers/{cast.customer_a.pk}/history/?kind=payments")

    summary = f"Invoice acme-INV-1 is overdue: due on {due.isoformat()}, open EUR 1234.56"
    assert "<td>Invoice overdue</td>" in html and summary in html
    assert '<td class="num">€1,234.56</td>' in html and "<td>system</td>" in html
    assert summary in documents and summary not in payments
