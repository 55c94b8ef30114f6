"""The bank page: statements imported from the browser, lines by state, scoped to the company."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dunwell.cash.models import BankAccount, StatementFile, StatementLine
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
