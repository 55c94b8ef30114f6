"""The bank page: statements imported from the browser, lines by state, scoped to the company."""

from __future__ import annotations

from datetime import date, timedelta
from html import unescape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dunwell.cash.models import (
    BankAccount,
    KnownAccount,
    LineState,
    Proposal,
    StatementFile,
    StatementLine,
)
from dunwell.ledger.models import Activity, ActivityKind, OpenItem, Payment
from dunwell.workflows.cash import match_lines
from tests import factories as f
from tests.cash.test_matching_service import AT, bank_line
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

BATCH = "camt053/oca_test-camt053-txdtls.xml"


def upload(shared_data: Path, name: str = BATCH, **fields: object) -> dict[str, object]:
    path = shared_data / "bank" / name
    return {"upload": SimpleUploadedFile(path.name, path.read_bytes()), **fields}


def owning(cast: Cast, iban: str = "CH1111000000123456789") -> None:  # noqa: F811
    cast.a.iban = iban
    cast.a.save(update_fields=["iban"])


def test_a_credit_manager_imports_a_statement_and_sees_its_lines(client, cast, shared_data):  # noqa: F811
    owning(cast)
    as_user(client, cast.manager_a)
    response = client.post("/bank/", upload(shared_data), follow=True)
    html = response.content.decode()
    assert "oca_test-camt053-txdtls.xml: 1 statement(s), 2 new line(s), 0 already known" in html
    assert "CHF1,296.00" in html and "CHF2,187.00" in html and "Banque Cantonale Vaudoise" in html
    assert "Unmatched (2)" in html
    assert StatementLine.objects.filter(company=cast.a).count() == 2
    again = client.post("/bank/", upload(shared_data), follow=True).content.decode()
    assert "oca_test-camt053-txdtls.xml was imported before: nothing changed" in again
    assert StatementLine.objects.count() == 2


def test_a_dry_run_shows_the_entries_and_stores_nothing(client, cast, shared_data):  # noqa: F811
    owning(cast)
    as_user(client, cast.manager_a)
    html = client.post("/bank/", upload(shared_data, dry_run="on")).content.decode()
    assert "Dry run: nothing was stored." in html
    assert "2187.00" in html and "1296.00" in html and "balances reconcile" in html
    assert not StatementFile.objects.exists() and not BankAccount.objects.exists()


def test_a_file_that_cannot_be_filed_says_why_and_stores_nothing(client, cast, shared_data):  # noqa: F811
    owning(cast, iban="")
    as_user(client, cast.manager_a)
    html = client.post("/bank/", upload(shared_data), follow=True).content.decode()
    assert "account CH1111000000123456789 (CHF) is not one of Acme" in html
    assert "oca_test-camt053-txdtls.xml: nothing was imported" in html
    broken = {"upload": SimpleUploadedFile("cut.xml", b"<?xml version='1.0'?><Document><BkTo")}
    html = client.post("/bank/", broken, follow=True).content.decode()
    assert "cut.xml" in html and "cut.xml: nothing was imported" in html
    assert not StatementFile.objects.exists()


def test_a_collector_reads_the_page_but_may_not_import(client, cast, shared_data):  # noqa: F811
    as_user(client, cast.collector_a)
    html = page(client, "/bank/")
    assert "Statement lines" in html and "Import statements" not in html
    assert client.post("/bank/", upload(shared_data)).status_code == 403
    assert not StatementFile.objects.exists()


def test_another_company_s_lines_are_not_shown(client, cast, shared_data):  # noqa: F811
    owning(cast)
    as_user(client, cast.manager_a)
    client.post("/bank/", upload(shared_data))
    as_user(client, cast.user_b)
    html = page(client, "/bank/")
    assert "No statement lines." in html and "2,187.00" not in html


# -- matching and the review queue ------------------------------------------------------------

IBAN = "DE89370400440532013000"


def invoice(company, customer, number, amount_minor, issued_on):
    return f.invoice(company, customer, number, amount_minor, issued_on,
                     due_on=issued_on + timedelta(days=30))  # fmt: skip


def queue_world(cast: Cast):  # noqa: F811
    """Acme's ambiguous line: 500.00 from an unknown IBAN, two invoices of 500.00 open."""
    other = f.customer(cast.a, "C-101", "Huber AG")
    one = invoice(cast.a, cast.customer_a, "A-1", 500_00, date(2025, 2, 1))
    two = invoice(cast.a, other, "B-7", 500_00, date(2025, 2, 3))
    line = bank_line(cast.a, 500_00, iban=IBAN, name="Unknown Trading")
    match_lines(company=cast.a, at=AT)
    return line, one, two, other


def test_match_now_applies_an_rf_referenced_line(client, cast):  # noqa: F811
    item = invoice(cast.a, cast.customer_a, "INV-0815", 1_250_00, date(2025, 3, 1))
    line = bank_line(cast.a, 1_000_00, structured=[item.payment_reference], name="Acme Buyer")
    as_user(client, cast.manager_a)
    html = client.post("/bank/match", follow=True).content.decode()
    assert (
        "1 line(s) matched: 1 applied automatically (1 by reference), 0 waiting for review" in html
    )
    line.refresh_from_db()
    assert line.state == LineState.APPLIED and line.payment.amount_minor == 1_000_00
    assert "€250.00" in page(client, f"/items/{item.pk}/")  # 1,250.00 less 1,000.00
    lines = page(client, "/bank/?state=applied")
    assert "Acme Buyer GmbH" in lines and "payment of €1,000.00, €0.00 unapplied" in lines
    assert "reference" in lines and "RF reference" in lines


def test_the_queue_lists_the_proposals_in_order_and_confirm_learns_the_iban(client, cast):  # noqa: F811
    line, _, two, other = queue_world(cast)
    proposals = list(Proposal.objects.filter(line=line).order_by("rank"))
    as_user(client, cast.manager_a)
    html = page(client, "/bank/review/")
    assert "1 line waits for review" in html and f"Line {line.pk}" in html
    first, second = (proposals[0].allocations[0]["item"], proposals[1].allocations[0]["item"])
    assert html.index(f'href="/items/{first}/"') < html.index(f'href="/items/{second}/"')
    assert f"{proposals[0].confidence / 10:.1f} %" in html and proposals[0].reason in html
    assert "Huber AG" in html and "Acme Buyer GmbH" in html
    chosen = next(p for p in proposals if p.allocations[0]["item"] == two.pk)
    html = client.post(f"/bank/lines/{line.pk}/confirm", {"proposal": chosen.pk},
                       follow=True).content.decode()  # fmt: skip
    assert (
        f"Statement line {line.pk} (2025-03-09 €500.00 Unknown Trading) applied to Huber AG" in html
    )
    assert "No lines wait for review." in html
    line.refresh_from_db()
    two.refresh_from_db()
    assert (line.state, line.customer_id, line.decided_by) == ("applied", other.pk, cast.manager_a)
    assert two.open_minor == 0
    known = KnownAccount.objects.get()
    assert (known.iban, known.customer_id, known.confirmations) == (IBAN, other.pk, 1)
    received = Activity.objects.get(kind=ActivityKind.PAYMENT_RECEIVED)
    assert received.actor == cast.manager_a and received.customer_id == other.pk
    # a second confirmation (another tab, a double click) is refused and changes nothing
    html = client.post(f"/bank/lines/{line.pk}/confirm", {"proposal": chosen.pk},
                       follow=True).content.decode()  # fmt: skip
    assert f"Statement line {line.pk} (2025-03-09 €500.00 Unknown Trading), line: statement " \
           f"line {line.pk} is applied already" in html  # fmt: skip
    assert Payment.objects.count() == 1 and KnownAccount.objects.get().confirmations == 1


def test_a_split_by_invoice_number_books_the_typed_amounts(client, cast):  # noqa: F811
    invoice(cast.a, cast.customer_a, "A-1", 500_00, date(2025, 2, 1))
    invoice(cast.a, cast.customer_a, "A-2", 300_00, date(2025, 2, 2))
    line = bank_line(cast.a, 900_00, iban=IBAN, name="Acme Buyer")
    as_user(client, cast.manager_a)
    split = {"number": ["A-1", "A-2", "", "", ""], "amount": ["500.00", "250.50", "", "", ""]}
    html = client.post(f"/bank/lines/{line.pk}/split", split, follow=True).content.decode()
    assert "applied to Acme Buyer GmbH: manny applied it to A-1, A-2" in html
    line.refresh_from_db()
    assert line.state == "applied" and line.rule == "manual"
    assert line.payment.unapplied_minor == 149_50  # 900.00 - 500.00 - 250.50
    open_ = dict(OpenItem.objects.filter(company=cast.a, number__in=["A-1", "A-2"])
                 .values_list("number", "open_minor"))  # fmt: skip
    assert open_ == {"A-1": 0, "A-2": 49_50}
    assert "€49.50" in page(client, f"/items/{OpenItem.objects.get(number='A-2').pk}/")
    assert KnownAccount.objects.get().customer_id == cast.customer_a.pk


@pytest.mark.parametrize(("rows", "message"), [
    ({"number": ["A-1"], "amount": ["600.00"]},
     "amount: A-1: EUR 600.00 is more than the EUR 500.00 open on it"),
    ({"number": ["NOPE-9"], "amount": ["100.00"]}, "invoice number: no document numbered 'NOPE-9'"),
    ({"number": ["A-1"], "amount": ["lots"]},
     "amount: A-1: 'lots' is not an amount like 1250.00"),
    ({"number": ["A-1", "A-1"], "amount": ["400.00", "400.00"]},
     "amount: the amounts add up to EUR 800.00, more than the EUR 700.00 the line received"),
])  # fmt: skip
def test_a_split_that_cannot_be_booked_says_why_and_writes_nothing(client, cast, rows, message):  # noqa: F811
    invoice(cast.a, cast.customer_a, "A-1", 500_00, date(2025, 2, 1))
    line = bank_line(cast.a, 700_00, name="Acme Buyer")
    as_user(client, cast.manager_a)
    html = client.post(f"/bank/lines/{line.pk}/split", rows, follow=True).content.decode()
    assert f"Statement line {line.pk} (2025-03-09 €700.00 Acme Buyer), {message}" in unescape(html)
    line.refresh_from_db()
    assert line.state == "unmatched" and not Payment.objects.exists()
    assert OpenItem.objects.get(number="A-1").open_minor == 500_00


def test_a_line_that_is_no_receivable_is_ignored_with_its_reason(client, cast):  # noqa: F811
    line = bank_line(cast.a, 12_00, text="interest credit")
    as_user(client, cast.manager_a)
    html = client.post(
        f"/bank/lines/{line.pk}/ignore", {"reason": ""}, follow=True
    ).content.decode()
    assert "reason: say why the line is not a receivable" in html
    html = client.post(f"/bank/lines/{line.pk}/ignore", {"reason": "bank interest"},
                       follow=True).content.decode()  # fmt: skip
    assert "is not a receivable: bank interest" in html
    line.refresh_from_db()
    assert (line.state, line.reason, line.decided_by) == (
        "ignored",
        "bank interest",
        cast.manager_a,
    )
    note = Activity.objects.get(kind=ActivityKind.NOTE_ADDED)
    assert "is not a receivable: bank interest" in note.summary
    assert "bank interest" in page(client, "/bank/?state=ignored")


def test_a_collector_sees_the_queue_but_may_not_decide(client, cast):  # noqa: F811
    line = queue_world(cast)[0]
    stored = Proposal.objects.filter(line=line).first()
    as_user(client, cast.collector_a)
    html = page(client, "/bank/review/")
    assert "1 line waits for review" in html and "Huber AG" in html
    assert "Match now" not in html and "Confirm" not in html and "Split by invoice" not in html
    assert client.post("/bank/match").status_code == 403
    assert client.post(f"/bank/lines/{line.pk}/confirm", {"proposal": stored.pk}).status_code == 403
    split = {"number": ["A-1"], "amount": ["500.00"]}
    assert client.post(f"/bank/lines/{line.pk}/split", split).status_code == 403
    assert client.post(f"/bank/lines/{line.pk}/ignore", {"reason": "x"}).status_code == 403
    assert client.get(f"/bank/lines/{line.pk}/confirm").status_code == 405
    line.refresh_from_db()
    assert line.state == "unmatched" and not Payment.objects.exists()


def test_another_company_s_line_is_not_found(client, cast):  # noqa: F811
    line = queue_world(cast)[0]
    stored = Proposal.objects.filter(line=line).first()
    as_user(client, cast.user_b)
    html = page(client, "/bank/review/")
    assert "No lines wait for review." in html and "Unknown Trading" not in html
    assert client.post(f"/bank/lines/{line.pk}/confirm", {"proposal": stored.pk}).status_code == 404
    split = {"number": ["A-1"], "amount": ["500.00"]}
    assert client.post(f"/bank/lines/{line.pk}/split", split).status_code == 404
    assert client.post(f"/bank/lines/{line.pk}/ignore", {"reason": "x"}).status_code == 404
    assert client.post("/bank/match", follow=True).status_code == 200  # Bolt's own lines: none
    line.refresh_from_db()
    assert line.state == "unmatched" and Proposal.objects.filter(line=line).count() == 2


def test_the_queue_is_paged_newest_first_and_its_queries_do_not_grow(client, cast):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(first, last):
        for n in range(first, last):
            invoice(cast.a, cast.customer_a, f"INV-{n:04}", 100_00 + n, date(2025, 2, 1))
            invoice(cast.a, cast.customer_a, f"DUP-{n:04}", 100_00 + n, date(2025, 2, 1))
            bank_line(cast.a, 100_00 + n, name="Nobody Ltd",
                      value_on=date(2025, 1, 1) + timedelta(days=n))  # fmt: skip
        match_lines(company=cast.a, at=AT)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            html = page(client, "/bank/review/")
        return len(captured), html

    as_user(client, cast.manager_a)
    add(0, 3)
    few, _ = queries()
    add(3, 52)
    many, html = queries()
    assert many == few
    assert "52 lines wait for review" in html and "Page 1 of 2 · 52 lines" in html
    assert html.count('<section class="card') == 50
    assert html.index("2025-02-21") < html.index("2025-02-20")  # newest first (day 51, 50)
    assert "2025-01-02" not in html  # day 1: on page 2
    second = page(client, "/bank/review/?page=2")
    assert "2025-01-02" in second and "2025-01-01" in second and "2025-02-21" not in second
