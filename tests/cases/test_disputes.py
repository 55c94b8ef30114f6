"""Disputes: the disputed amount is paused in dunning and left out of what reminders demand, the
rest of the account keeps its cadence; a resolution brings it back; every step in the history."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from dunwell.cases.models import DisputeState
from dunwell.cases.services.disputes import investigate, open_dispute, resolve
from dunwell.core.errors import DunwellError
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind
from tests import factories as f

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.fixture
def account():
    company = f.company()
    ensure_default_policy(company, AT)
    customer = f.customer(company, "C001", "Bauer KG")
    f.contact(customer, "ap@bauer.example")
    due = MONDAY - timedelta(days=10)
    one = f.invoice(company, customer, "INV-1", 1_000_00, due - timedelta(days=30), due_on=due)
    two = f.invoice(company, customer, "INV-2", 400_00, due - timedelta(days=30), due_on=due)
    return company, customer, one, two


def opened(account, items, reason="price", note=""):
    company, customer, *_ = account
    return open_dispute(company=company, customer=customer, items=items, reason=reason,
                        note=note, actor=None, on=MONDAY - timedelta(days=1), at=AT)  # fmt: skip


def test_a_disputed_invoice_is_left_out_and_the_rest_of_the_account_is_dunned(account):
    company, _, one, _ = account
    dispute = opened(account, [(one, None)], note="wrong unit price")
    [group] = run_dunning(company=company, on=MONDAY, at=AT).groups
    by_number = {row["number"]: row for row in group.items}
    assert group.reason.startswith("step 2 (First reminder) due for INV-2")
    assert by_number["INV-1"]["paused"] == f"dispute {dispute.pk} open (price)"
    assert by_number["INV-2"]["open_minor"] == 400_00 and "paused" not in by_number["INV-2"]
    opened_entry = Activity.objects.get(kind=ActivityKind.DISPUTE_OPENED, item__isnull=True)
    assert opened_entry.summary == ("dispute opened (price): INV-1 EUR 1000.00: wrong unit price")
    assert Activity.objects.filter(kind=ActivityKind.DISPUTE_OPENED, item=one).exists()


def test_a_partly_disputed_invoice_is_dunned_for_the_undisputed_rest(account):
    company, _, one, _ = account
    opened(account, [(one, 300_00)], reason="quantity")
    [group] = run_dunning(company=company, on=MONDAY, at=AT).groups
    row = next(r for r in group.items if r["number"] == "INV-1")
    assert (row["open_minor"], row["held_minor"]) == (700_00, 300_00)
    assert row["held"].endswith("open (quantity)")


def test_a_rejected_dispute_is_dunned_again_and_a_resolved_one_cannot_move(account):
    company, _, one, two = account
    dispute = opened(account, [(one, None), (two, None)])
    assert run_dunning(company=company, on=MONDAY, at=AT).groups == []  # nothing to demand
    dispute = investigate(dispute=dispute, note="asked sales", actor=None, on=MONDAY, at=AT)
    assert dispute.state == DisputeState.INVESTIGATING
    with pytest.raises(DunwellError, match="a resolution needs a note"):
        resolve(dispute=dispute, resolution="rejected", note=" ", actor=None, on=MONDAY, at=AT)
    dispute = resolve(dispute=dispute, resolution="rejected", note="price as agreed",
                      actor=None, on=MONDAY, at=AT)  # fmt: skip
    assert (dispute.state, dispute.resolved_on) == (DisputeState.RESOLVED, MONDAY)
    tuesday = MONDAY + timedelta(days=1)
    [group] = run_dunning(company=company, on=tuesday, at=AT + timedelta(days=1)).groups
    assert sorted(r["number"] for r in group.items) == ["INV-1", "INV-2"]
    with pytest.raises(DunwellError, match="is resolved"):
        resolve(dispute=dispute, resolution="adjusted", note="again", actor=None, on=MONDAY,
                at=AT)  # fmt: skip
    resolved = Activity.objects.get(kind=ActivityKind.DISPUTE_RESOLVED, item__isnull=True)
    assert resolved.summary == "dispute resolved (rejected): price as agreed"


def test_a_dispute_names_what_is_wrong_with_its_input(account):
    company, _, one, _ = account
    with pytest.raises(DunwellError, match=r"INV-1: a disputed amount is more than zero and at "
                                           r"most the EUR 1000.00 open"):  # fmt: skip
        opened(account, [(one, 1_000_01)])
    with pytest.raises(DunwellError, match="reason 'cost': expected one of price, quantity"):
        opened(account, [(one, None)], reason="cost")
    other = f.customer(company, "C002", "Other AG")
    theirs = f.invoice(company, other, "INV-9", 10_00, MONDAY - timedelta(days=40))
    with pytest.raises(DunwellError, match="INV-9 is not C001's"):
        opened(account, [(theirs, None)])


def test_the_case_command_opens_lists_and_resolves_disputes_as_json(account, capsys):
    User.objects.create_user("colly")  # the account fixture holds INV-1 and INV-2
    call_command("case", "dispute", "--customer", "C001", "--invoice", "INV-1=300.00",
                 "--invoice", "INV-2", "--reason", "quality", "--note", "scratched",
                 "--owner", "colly", "--by", "colly", "--format", "json")  # fmt: skip
    made = json.loads(capsys.readouterr().out)
    assert made["items"] == [
        {"number": "INV-1", "amount": "300.00", "currency": "EUR"},
        {"number": "INV-2", "amount": "400.00", "currency": "EUR"},
    ]
    assert (made["state"], made["owner"], made["reason"]) == ("open", "colly", "quality")
    call_command("case", "disputes", "--format", "json")
    assert [d["id"] for d in json.loads(capsys.readouterr().out)] == [made["id"]]
    call_command("case", "resolve", str(made["id"]), "--resolution", "credit_note", "--note",
                 "credit note CN-7", "--format", "json")  # fmt: skip
    assert json.loads(capsys.readouterr().out)["resolution"] == "credit_note"
    call_command("case", "disputes", "--format", "json")
    assert json.loads(capsys.readouterr().out) == []
    with pytest.raises(CommandError, match="C001 has no invoice 'INV-404'"):
        call_command("case", "dispute", "--customer", "C001", "--invoice", "INV-404",
                     "--reason", "price")  # fmt: skip
    with pytest.raises(CommandError, match="--invoice 'INV-1=3x': "):
        call_command("case", "dispute", "--customer", "C001", "--invoice", "INV-1=3x",
                     "--reason", "price")  # fmt: skip


def test_the_case_command_adds_notes_and_attachments_to_a_dispute(account, capsys, tmp_path):
    dispute = opened(account, [(account[2], None)])
    call_command("case", "dispute-note", str(dispute.pk), "--note", "photos requested")
    assert capsys.readouterr().out == f"dispute {dispute.pk}: open\n"
    evidence = tmp_path / "damage.png"
    evidence.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    call_command("case", "dispute-attach", str(dispute.pk), str(evidence), "--format", "json")
    shown = json.loads(capsys.readouterr().out)
    assert [(a["name"], a["size"]) for a in shown["attachments"]] == [("damage.png", 28)]
    summaries = Activity.objects.filter(item__isnull=True, data__dispute=dispute.pk).values_list(
        "summary", flat=True
    )
    assert f"dispute {dispute.pk}: photos requested" in summaries
    assert f"dispute {dispute.pk}: attached damage.png (28 bytes)" in summaries
    with pytest.raises(CommandError, match=r"missing\.pdf: No such file or directory"):
        call_command("case", "dispute-attach", str(dispute.pk), str(tmp_path / "missing.pdf"))
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(CommandError, match=r"run\.sh: expected one of"):
        call_command("case", "dispute-attach", str(dispute.pk), str(script))
