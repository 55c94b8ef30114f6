"""The day's letters as one print batch: a PDF with one letter a page, a manifest, each once."""

import csv
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from dunwell.dunning.models import Message
from dunwell.dunning.services.letters import print_batch
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind
from tests import factories as f

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.fixture
def letters_due():
    company = f.company()
    company.address, company.iban = "Hafenstraße 1\n20457 Hamburg", "DE89370400440532013000"
    company.save()
    ensure_default_policy(company, AT)
    for n, (street, city, country) in enumerate(
        [("Marktplatz 4", "Ulm", "DE"), ("Stationsplein 2", "Eindhoven", "NL")], start=1
    ):
        customer = f.customer(company, f"C00{n}", f"Kunde {n} GmbH", street=street,
                              postal_code=f"{n}0000", city=city, country=country)  # fmt: skip
        due = MONDAY - timedelta(days=8)
        f.invoice(company, customer, f"INV-{n}", 500_00, due - timedelta(days=30), due_on=due)
    run_dunning(company=company, on=MONDAY, at=AT)  # no email contact: letters
    return company


def test_a_print_batch_has_every_letter_once_and_records_them(letters_due, tmp_path):
    assert Message.objects.filter(channel="letter", status="pending").count() == 2
    batch = print_batch(company=letters_due, on=MONDAY, at=AT, name="2026-11-23")
    assert batch is not None and batch.pdf.startswith(b"%PDF") and batch.errors == []
    assert (batch.letters, batch.pages) == (2, 2)
    rows = list(csv.DictReader(batch.manifest.splitlines()))
    assert [(r["customer"], r["step"]) for r in rows] == [("C001", "2"), ("C002", "2")]
    assert rows[0]["subject"] == "Payment reminder: Kunde 1 GmbH, €500.00 open"
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert Activity.objects.filter(kind=ActivityKind.REMINDER_SENT).count() == 2
    assert print_batch(company=letters_due, on=MONDAY, at=AT, name="again") is None
    page_two = batch.html.split('<section class="letter">')[2]
    assert "Kunde 2 GmbH<br>Stationsplein 2<br>20000 Eindhoven<br>Netherlands" in page_two
    assert "Hafenstraße 1 · 20457 Hamburg" in page_two  # the return line above the window
    assert "INV-2   due Nov 15, 2026   8 days overdue   €500.00" in page_two


def test_the_command_writes_the_pdf_and_its_manifest(letters_due, tmp_path, capsys):
    out = tmp_path / "letters-2026-11-23.pdf"
    call_command("dunning", "letters", "--date", "2026-11-23", "--out", str(out))
    assert "2 letter(s), 2 page(s)" in capsys.readouterr().out
    assert out.read_bytes().startswith(b"%PDF")
    assert out.with_suffix(".csv").read_text(encoding="utf-8").startswith("message,customer")
    call_command("dunning", "letters", "--out", str(tmp_path / "none.pdf"))
    assert "no letters to print" in capsys.readouterr().out
