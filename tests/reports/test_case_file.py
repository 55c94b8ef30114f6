"""The case file: one ZIP with the statement, every open and placed document, the contract
terms, the interest and fees statement, the history with every message as sent, the contacts and
a manifest whose checksums match; the same ledger and day give the same bytes."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from dunwell.cases.services.placements import (
    create_agency,
    place_account,
    record_case_file_export,
)
from dunwell.core import clock
from dunwell.core.models import Company
from dunwell.dunning.models import Message
from dunwell.dunning.services.delivery import deliver_emails
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind, ItemKind
from dunwell.reports.case_file import build, case_file
from tests import factories as f

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
AS_OF = date(2026, 11, 30)
AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def world():
    company = f.company()
    Company.objects.filter(pk=company.pk).update(governing_law="DE")
    company.refresh_from_db()
    ensure_default_policy(company, AT)
    customer = f.customer(company, "C001", "Bauer KG")
    f.contact(customer, "ap@bauer.example", name="Petra Bauer", phone="+49 40 123")
    due = MONDAY - timedelta(days=10)
    one = f.invoice(company, customer, "INV-1", 1_000_00, due - timedelta(days=30), due_on=due)
    f.invoice(company, customer, "INV-2", 400_00, due - timedelta(days=30), due_on=due)
    f.invoice(company, customer, "FEE-1", 40_00, MONDAY, due_on=MONDAY + timedelta(days=14),
              kind=ItemKind.FEE, related=one, description="Fixed compensation BGB 288(5)")  # fmt: skip
    run_dunning(company=company, on=MONDAY, at=AT)
    deliver_emails(at=datetime.combine(MONDAY, time(10), UTC), company=company, backend=LOCMEM,
                   statements=False)  # fmt: skip
    agency = create_agency(company=company, name="Inkasso Nord", commission_percent="15", at=AT)
    place_account(company=company, customer=customer, agency=agency, items=[one],
                  on=MONDAY + timedelta(days=1), at=AT, actor=None)  # fmt: skip
    return company, customer


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_case_file_holds_every_part_with_matching_checksums(world):
    company, customer = world
    archive = zipfile.ZipFile(io.BytesIO(case_file(company, customer, AS_OF)))
    assert archive.namelist() == [
        "01-statement-C001-2026-11-30.pdf",
        "02-documents/invoice-INV-1.pdf",
        "02-documents/invoice-INV-2.pdf",
        "02-documents/fee-FEE-1.pdf",
        "03-contract-terms.html",
        "04-interest-and-fees.csv",
        "04-interest-and-fees.html",
        "05-history.csv",
        "05-history.html",
        "06-contacts.csv",
        "manifest.json",
    ]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["as_of"] == "2026-11-30"
    for entry in manifest["files"]:
        data = archive.read(entry["path"])
        assert (entry["size"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert [e["path"] for e in manifest["files"]] == archive.namelist()[:-1]  # all but itself
    [placement] = manifest["placements"]
    assert (placement["agency"], placement["placed"], placement["items"]) == (
        "Inkasso Nord", "1000.00", [{"number": "INV-1", "amount": "1000.00"}]
    )  # fmt: skip


def test_the_documents_print_the_numbers_and_amounts(world):
    company, customer = world
    archive = zipfile.ZipFile(io.BytesIO(case_file(company, customer, AS_OF)))
    statement = pdf_text(archive.read("01-statement-C001-2026-11-30.pdf"))
    assert "INV-1" in statement and "INV-2" in statement and "FEE-1" in statement
    assert "1,440.00" in statement  # what is owed on the day
    invoice = pdf_text(archive.read("02-documents/invoice-INV-1.pdf"))
    assert "INV-1" in invoice and "1,000.00" in invoice
    assert "400.00" in pdf_text(archive.read("02-documents/invoice-INV-2.pdf"))
    terms = archive.read("03-contract-terms.html").decode()
    assert "Net 30" in terms and "Germany, BGB § 288" in terms
    contacts = list(csv.DictReader(io.StringIO(archive.read("06-contacts.csv").decode())))
    assert [(c["name"], c["email"], c["phone"]) for c in contacts] == [
        ("Petra Bauer", "ap@bauer.example", "+49 40 123")
    ]


def test_the_history_holds_the_reminder_as_sent_and_the_placement(world):
    company, customer = world
    reminder = Message.objects.get(customer=customer, channel="email", status="sent")
    archive = zipfile.ZipFile(io.BytesIO(case_file(company, customer, AS_OF)))
    rows = list(csv.DictReader(io.StringIO(archive.read("05-history.csv").decode())))
    [sent] = [r for r in rows if r["kind"] == "Reminder sent"]
    assert sent["text"] == reminder.body and "INV-1" in reminder.body
    assert (sent["subject"], sent["recipients"]) == (reminder.subject, "ap@bauer.example")
    assert sent["channel"] == "Email"
    placed = [r for r in rows if r["kind"] == "Placed with an agency or lawyer" and not r["item"]]
    assert placed[0]["summary"].startswith("placed with Inkasso Nord (collection agency): INV-1")
    html = archive.read("05-history.html").decode()
    assert reminder.subject in html and "Inkasso Nord" in html


def test_the_interest_statement_lists_fees_and_the_interest_accrued_to_the_day(world):
    company, customer = world
    archive = zipfile.ZipFile(io.BytesIO(case_file(company, customer, AS_OF)))
    rows = list(csv.DictReader(io.StringIO(archive.read("04-interest-and-fees.csv").decode())))
    [fee] = [r for r in rows if r["line"] == "fee"]
    assert (fee["number"], fee["invoice"], fee["amount"], fee["outstanding"]) == (
        "FEE-1", "INV-1", "40.00", "40.00"
    )  # fmt: skip
    accrued = {r["invoice"]: r for r in rows if r["line"] == "accrued to as of"}
    # 17 days late at 1.27 % (the Basiszinssatz) + 9 points: 1,000.00 x 10.27 % x 17 / 365
    assert (accrued["INV-1"]["amount"], accrued["INV-1"]["days"]) == ("4.78", "17")
    assert (accrued["INV-1"]["booked"], accrued["INV-1"]["outstanding"]) == ("0.00", "4.78")
    assert accrued["INV-2"]["amount"] == "1.91"  # 400.00 x 10.27 % x 17 / 365 = 1.913
    assert accrued["INV-1"]["basis"].startswith("Germany, BGB § 288")
    html = archive.read("04-interest-and-fees.html").decode()
    assert "4.78" in html and "FEE-1" in html


def test_the_same_ledger_and_day_give_the_same_bytes_and_an_export_is_recorded_once(world):
    company, customer = world
    first = build(company, customer, AS_OF)
    record_case_file_export(company=company, customer=customer, as_of=AS_OF, files=first.files,
                            sha256=first.sha256, on=AS_OF, at=AT, actor=None)  # fmt: skip
    again = build(company, customer, AS_OF)
    assert again.data == first.data and again.sha256 == hashlib.sha256(first.data).hexdigest()
    exported = Activity.objects.get(kind=ActivityKind.CASE_FILE_EXPORTED)
    assert exported.summary == (f"case file exported as of 2026-11-30: 11 files, SHA-256 "
                                f"{first.sha256[:16]}")  # fmt: skip


def test_the_case_command_writes_the_file_and_records_the_export(world, tmp_path, capsys,
                                                                 monkeypatch):  # fmt: skip
    monkeypatch.setattr(clock, "today", lambda company=None: AS_OF)
    monkeypatch.setattr(clock, "now", lambda: AT)
    out = tmp_path / "c001.zip"
    call_command("case", "file", "--customer", "C001", "--out", str(out), "--format", "json")
    shown = json.loads(capsys.readouterr().out)
    assert (shown["as_of"], shown["files"]) == ("2026-11-30", 11)
    assert shown["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert Activity.objects.filter(kind=ActivityKind.CASE_FILE_EXPORTED).count() == 1
