"""Insolvency: the claim to file as of the opening date (principal, interest to that day, costs),
dunning stopped for the whole account while it is open, the workflow in one transaction."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from dunwell.cases.models import Insolvency, InsolvencyState
from dunwell.cases.printing import claim_csv, claim_html
from dunwell.cases.services.insolvency import claim_totals, close_insolvency, file_claim
from dunwell.core.errors import DunwellError
from dunwell.credit.models import CreditHold
from dunwell.dunning.models import Message, MessageStatus, Outcome
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind, ItemKind
from dunwell.ledger.services.allocations import allocate_payment
from dunwell.terms.rules.interest import RateKind
from dunwell.terms.services import add_reference_rate
from dunwell.workflows import insolvency as workflow
from tests import factories as f

pytestmark = pytest.mark.django_db

OPENED = date(2026, 11, 2)
MONDAY = date(2026, 11, 9)
AT = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)


@pytest.fixture
def account():
    """Under German law (Basiszinssatz 1.27 % + 9 pp): INV-1 EUR 10,000.00 due 14 Sep 2026,
    EUR 2,000.00 paid on 1 Oct; INV-2 EUR 500.00 due 20 Oct, EUR 100.00 paid on 4 Nov (after
    the opening); a late fee of EUR 40.00 and EUR 50.00 interest booked on INV-1."""
    company = f.company()
    company.governing_law = "DE"
    company.save()
    for half in (date(2026, 1, 1), date(2026, 7, 1)):
        add_reference_rate(kind=RateKind.DE_BASE, valid_from=half, percent=Decimal("1.27"),
                           checked_on=date(2026, 12, 31))  # fmt: skip
    customer = f.customer(company, "C001", "Bauer KG")
    f.contact(customer, "ap@bauer.example")
    one = f.invoice(company, customer, "INV-1", 10_000_00, date(2026, 8, 15),
                    due_on=date(2026, 9, 14))  # fmt: skip
    two = f.invoice(
        company, customer, "INV-2", 500_00, date(2026, 9, 20), due_on=date(2026, 10, 20)
    )
    paid = f.payment(company, customer, "P1", 2_000_00, date(2026, 10, 1))
    allocate_payment(company=company, payment=paid, item=one, amount_minor=2_000_00, actor=None,
                     at=AT)  # fmt: skip
    late = f.payment(company, customer, "P2", 100_00, date(2026, 11, 4))
    allocate_payment(company=company, payment=late, item=two, amount_minor=100_00, actor=None,
                     at=AT)  # fmt: skip
    f.invoice(company, customer, "FEE-1", 40_00, date(2026, 10, 5), due_on=date(2026, 10, 19),
              kind=ItemKind.FEE, related=one)  # fmt: skip
    f.invoice(company, customer, "INT-1", 50_00, date(2026, 10, 5), due_on=date(2026, 10, 19),
              kind=ItemKind.INTEREST, related=one)  # fmt: skip
    return company, customer, one, two


def opened(account, **extra):
    company, customer, *_ = account
    details = {"kind": "insolvency", "opened_on": OPENED, "court": "Amtsgericht Köln",
               "case_reference": "72 IN 123/26", "administrator_name": "Dr. Weiss",
               "claims_deadline": date(2026, 12, 15), **extra}  # fmt: skip
    return workflow.open_insolvency(company=company, customer=customer, actor=None, on=MONDAY,
                                    at=AT, **details)  # fmt: skip


def interest_calc(capsys, *args):
    call_command("interest", "calc", "--jurisdiction", "DE", *args, "--format", "json")
    return json.loads(capsys.readouterr().out)


def test_the_claim_is_principal_interest_to_the_opening_date_and_costs_to_the_cent(account,
                                                                                    capsys):  # fmt: skip
    insolvency, _ = opened(account)
    lines = {line.item.number: line for line in insolvency.lines.select_related("item")}
    # INV-1: 10,000 x 10.27 % x 17/365 + 8,000 x 10.27 % x 32/365 = 47.83 + 72.03 = 119.86
    calc = interest_calc(capsys, "--amount", "10000.00", "--due", "2026-09-14", "--paid",
                         "2026-11-02", "--payment", "2026-10-01=2000.00")  # fmt: skip
    assert calc["interest"] == "119.86"
    one = lines["INV-1"]
    assert (one.principal_minor, one.interest_minor, one.costs_minor) == (8_000_00, 69_86, 0)
    assert one.basis == "Germany, BGB § 288, to 2026-11-02"
    # INV-2: the payment of 4 Nov is after the opening: 500.00 claimed; 13 days of interest
    calc = interest_calc(capsys, "--amount", "500.00", "--due", "2026-10-20", "--paid",
                         "2026-11-02")  # fmt: skip
    assert calc["interest"] == "1.83"
    assert (lines["INV-2"].principal_minor, lines["INV-2"].interest_minor) == (500_00, 1_83)
    assert (lines["FEE-1"].costs_minor, lines["INT-1"].interest_minor) == (40_00, 50_00)
    [total] = claim_totals(insolvency)
    assert (total.principal_minor, total.interest_minor, total.costs_minor) == (8_500_00, 121_69,
                                                                                40_00)  # fmt: skip
    assert total.total_minor == 8_661_69
    entry = Activity.objects.get(kind=ActivityKind.INSOLVENCY_OPENED)
    assert entry.summary == (
        "insolvency opened on 2026-11-02 (Amtsgericht Köln, 72 IN 123/26): claim EUR 8661.69 "
        "(principal EUR 8500.00, interest EUR 121.69, costs EUR 40.00)"
    )
    assert entry.data["claim"] == {"EUR": "8661.69"}


def test_dunning_skips_the_whole_account_while_proceedings_are_open(account):
    company, customer, *_ = account
    ensure_default_policy(company, AT)
    other = f.customer(company, "C002", "Other AG")
    f.contact(other, "ap@other.example")
    f.invoice(company, other, "INV-9", 300_00, date(2026, 9, 1), due_on=date(2026, 10, 1))
    insolvency, _ = opened(account)

    def outcomes(on):
        groups = run_dunning(company=company, on=on, at=AT).groups
        return {g.account_number: (g.outcome, g.reason) for g in groups}

    reason = f"insolvency {insolvency.pk} since 2026-11-02: claim filed instead of dunning"
    found = outcomes(MONDAY)
    assert found["C001"] == ("skipped", reason)
    assert found["C002"][0] != "skipped"
    file_claim(insolvency=insolvency, actor=None, on=MONDAY, at=AT)
    assert outcomes(MONDAY + timedelta(days=1))["C001"] == ("skipped", reason)
    assert not Message.objects.filter(customer=customer).exists()
    closed_on = MONDAY + timedelta(days=2)
    close_insolvency(insolvency=insolvency, dividend_minor=120_50, note="final distribution",
                     actor=None, on=closed_on, at=AT)  # fmt: skip
    assert outcomes(closed_on + timedelta(days=1))["C001"][0] != "skipped"
    closed = Activity.objects.get(kind=ActivityKind.INSOLVENCY_CLOSED)
    assert closed.summary == "insolvency closed: dividend EUR 120.50: final distribution"


def test_opening_places_a_credit_hold_and_withdraws_the_unsent_messages(account):
    company, customer, *_ = account
    ensure_default_policy(company, AT)
    run_dunning(company=company, on=date(2026, 10, 30), at=AT)
    # the final demand awaits approval (a letter: Bauer KG has no manager's email)
    assert list(Message.objects.filter(customer=customer).values_list("status", flat=True)) == [
        MessageStatus.AWAITING_APPROVAL
    ]
    insolvency, withdrawn = opened(account)
    assert withdrawn == Message.objects.filter(customer=customer).count() > 0
    assert set(Message.objects.filter(customer=customer).values_list("status", flat=True)) == {
        MessageStatus.WITHDRAWN
    }
    message = Message.objects.get(customer=customer)
    assert message.decision.outcome == Outcome.REJECTED
    assert message.error == f"withdrawn: insolvency {insolvency.pk} opened 2026-11-02"
    entry = Activity.objects.get(customer=customer, kind=ActivityKind.REMINDER_WITHDRAWN)
    assert (entry.summary, entry.data) == (
        f"1 unsent message(s) withdrawn: insolvency {insolvency.pk} opened 2026-11-02",
        {"messages": [message.pk]},
    )
    hold = CreditHold.objects.get(customer=customer, released_on__isnull=True)
    assert (hold.source, hold.reason) == ("insolvency", f"insolvency {insolvency.pk} opened "
                                                        "2026-11-02")  # fmt: skip


def test_the_workflow_is_one_transaction(account, monkeypatch):
    def refuse(**_):
        raise DunwellError("invalid", "credit hold refused")

    monkeypatch.setattr(workflow, "withdraw_unsent", refuse)
    with pytest.raises(DunwellError, match="credit hold refused"):
        opened(account)
    assert not Insolvency.objects.exists()
    assert not CreditHold.objects.exists()
    assert not Activity.objects.filter(kind=ActivityKind.INSOLVENCY_OPENED).exists()


def test_a_second_opening_filing_or_closing_is_refused(account):
    insolvency, _ = opened(account)
    with pytest.raises(DunwellError, match="C001 is already in insolvency"):
        opened(account, kind="administration")
    file_claim(insolvency=insolvency, actor=None, on=MONDAY, at=AT)
    with pytest.raises(DunwellError, match="is claim filed: nothing to file"):
        file_claim(insolvency=insolvency, actor=None, on=MONDAY, at=AT)
    close_insolvency(insolvency=insolvency, actor=None, on=MONDAY, at=AT)
    with pytest.raises(DunwellError, match="was closed on 2026-11-09"):
        close_insolvency(insolvency=insolvency, actor=None, on=MONDAY, at=AT)
    assert Insolvency.objects.get().state == InsolvencyState.CLOSED
    with pytest.raises(DunwellError, match="kind 'bankrupt': expected one of insolvency"):
        opened(account, kind="bankrupt")


def test_the_claim_statement_as_csv_and_pdf(account, tmp_path):
    insolvency, _ = opened(account)
    rows = list(csv.DictReader(io.StringIO(claim_csv(insolvency))))
    assert [r["document"] for r in rows] == ["INV-1", "FEE-1", "INT-1", "INV-2", "TOTAL"]
    assert rows[0]["principal"] == "8000.00" and rows[0]["interest"] == "69.86"
    assert rows[-1]["total"] == "8661.69"
    html = claim_html(insolvency)
    assert "Statement of claim" in html and "72 IN 123/26" in html and "Dr. Weiss" in html
    out = tmp_path / "claim.pdf"
    call_command("case", "claim", str(insolvency.pk), "--out", str(out))
    assert out.read_bytes().startswith(b"%PDF")
    with pytest.raises(CommandError, match=r"--out 'claim\.txt': expected a file name ending"):
        call_command("case", "claim", str(insolvency.pk), "--out", "claim.txt")


def test_the_case_command_opens_files_and_closes_as_json(account, capsys):
    call_command("case", "insolvency", "--customer", "C001", "--kind", "administration",
                 "--opened-on", "2026-11-02", "--court", "High Court", "--reference", "CR-1",
                 "--format", "json")  # fmt: skip
    made = json.loads(capsys.readouterr().out)
    assert (made["kind"], made["state"], made["customer"]) == ("administration", "open", "C001")
    assert made["claim"] == [{"currency": "EUR", "principal": "8500.00", "interest": "121.69",
                              "costs": "40.00", "total": "8661.69"}]  # fmt: skip
    call_command("case", "file-claim", str(made["id"]), "--format", "json")
    assert json.loads(capsys.readouterr().out)["state"] == "filed"
    call_command("case", "close-insolvency", str(made["id"]), "--dividend", "99.99",
                 "--format", "json")  # fmt: skip
    closed = json.loads(capsys.readouterr().out)
    assert (closed["state"], closed["dividend"], closed["dividend_currency"]) == ("closed",
                                                                                 "99.99", "EUR")  # fmt: skip
    with pytest.raises(CommandError, match="--dividend 'lots': "):
        call_command("case", "close-insolvency", str(made["id"]), "--dividend", "lots")
