"""Placements with a collection agency or a lawyer: the placed items are not dunned while the
placement is open, a recall brings them back; recoveries earn commission to the cent; one open
placement per customer and currency; every step in the history; the `case` command as JSON."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from dunwell.cases.models import Placement, PlacementState
from dunwell.cases.services import portal
from dunwell.cases.services.disputes import open_dispute
from dunwell.cases.services.placements import (
    close_placement,
    commission,
    create_agency,
    place_account,
    recall_placement,
    record_recovery,
    totals,
    update_placement_status,
)
from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind
from tests import factories as f

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
PLACED_ON = date(2026, 11, 20)
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
    agency = create_agency(company=company, name="Inkasso Nord", commission_percent="15", at=AT)
    return company, customer, one, two, agency


def placed(account, items=None, on=PLACED_ON, note=""):
    company, customer, *_, agency = account
    return place_account(company=company, customer=customer, agency=agency, items=items, on=on,
                         at=AT, actor=None, note=note)  # fmt: skip


def test_placed_items_are_not_dunned_and_the_rest_of_the_account_is(account):
    company, _, one, _, _ = account
    placement = placed(account, [one], note="no reply to three reminders")
    assert (placement.placed_minor, placement.state) == (1_000_00, PlacementState.PLACED)
    [group] = run_dunning(company=company, on=MONDAY, at=AT).groups
    by_number = {row["number"]: row for row in group.items}
    assert by_number["INV-1"]["paused"] == "placed with Inkasso Nord on 2026-11-20"
    assert "paused" not in by_number["INV-2"]
    entry = Activity.objects.get(kind=ActivityKind.PLACED, item__isnull=True)
    assert entry.summary == ("placed with Inkasso Nord (collection agency): INV-1 EUR 1000.00; "
                             "EUR 1000.00 at 15 % commission: no reply to three reminders")  # fmt: skip
    assert (entry.amount_minor, entry.currency) == (1_000_00, "EUR")
    assert Activity.objects.filter(kind=ActivityKind.PLACED, item=one).exists()


def test_a_placed_account_is_not_dunned_until_it_is_recalled(account):
    company, customer, *_ = account
    placement = placed(account)  # everything open in EUR
    assert placement.placed_minor == 1_400_00
    assert sorted(placement.items.values_list("item__number", flat=True)) == ["INV-1", "INV-2"]
    assert run_dunning(company=company, on=MONDAY, at=AT).groups == []
    with pytest.raises(DunwellError, match="a recall needs a reason"):
        recall_placement(placement=placement, reason=" ", on=MONDAY, at=AT, actor=None)
    placement = recall_placement(placement=placement, reason="customer asked to talk to us",
                                 on=MONDAY, at=AT, actor=None)  # fmt: skip
    assert (placement.state, placement.recalled_on) == (PlacementState.RECALLED, MONDAY)
    tuesday = MONDAY + timedelta(days=1)
    [group] = run_dunning(company=company, on=tuesday, at=AT + timedelta(days=1)).groups
    assert sorted(r["number"] for r in group.items) == ["INV-1", "INV-2"]
    assert all("paused" not in r for r in group.items)
    recalled = Activity.objects.get(kind=ActivityKind.PLACEMENT_RECALLED, item__isnull=True)
    assert recalled.summary == (
        f"placement {placement.pk} recalled from Inkasso Nord: customer asked to talk to us"
    )
    assert Activity.objects.filter(kind=ActivityKind.PLACEMENT_RECALLED,
                                   customer=customer, item__isnull=False).count() == 2  # fmt: skip


def test_recoveries_earn_commission_rounded_half_up_to_the_cent(account):
    company, customer, *_ = account
    agency = create_agency(company=company, name="Kanzlei Roth", kind="lawyer",
                           commission_percent=Decimal("12.5"), at=AT)  # fmt: skip
    placement = place_account(company=company, customer=customer, agency=agency, on=PLACED_ON,
                              at=AT, actor=None)  # fmt: skip
    first = record_recovery(placement=placement, amount_minor=333_33, on=MONDAY, at=AT,
                            actor=None)  # fmt: skip
    second = record_recovery(placement=placement, amount_minor=4, on=MONDAY, at=AT, actor=None)
    assert (first.commission_minor, second.commission_minor) == (41_67, 1)  # 41.66625; 0.005
    assert commission(1_000_00, Decimal("15"), "EUR") == 150_00
    assert commission(1_001, Decimal("12.5"), "JPY") == 125  # 125.125 yen
    assert totals([placement.pk]) == {placement.pk: (333_37, 41_68)}
    entry = Activity.objects.filter(kind=ActivityKind.PLACEMENT_RECOVERED,
                                    item__isnull=True).first()  # fmt: skip
    assert entry.summary == "Kanzlei Roth recovered EUR 333.33 (commission EUR 41.67)"
    closed = close_placement(placement=placement, outcome="settled", note="agreed 333.37",
                             on=MONDAY, at=AT, actor=None)  # fmt: skip
    assert (closed.state, closed.outcome, closed.closed_on) == ("closed", "settled", MONDAY)
    closing = Activity.objects.get(kind=ActivityKind.PLACEMENT_CLOSED, item__isnull=True)
    assert closing.summary == (f"placement {placement.pk} with Kanzlei Roth closed (settled for "
                               "less): recovered EUR 333.37, commission EUR 41.68: agreed 333.37")  # fmt: skip
    with pytest.raises(DunwellError, match="is closed already"):
        recall_placement(placement=closed, reason="again", on=MONDAY, at=AT, actor=None)


def test_a_recovery_names_the_ledger_payment_that_brought_the_money(account):
    company, customer, *_ = account
    placement = placed(account)
    payment = f.payment(company, customer, "BANK-7", 500_00, MONDAY)
    recovery = record_recovery(placement=placement, amount_minor=500_00, on=MONDAY, at=AT,
                               actor=None, payment=payment)  # fmt: skip
    assert recovery.payment == payment and recovery.commission_minor == 75_00
    with pytest.raises(DunwellError, match="is named by a recovery already"):
        record_recovery(placement=placement, amount_minor=1_00, on=MONDAY, at=AT, actor=None,
                        payment=payment)  # fmt: skip
    small = f.payment(company, customer, "BANK-8", 10_00, MONDAY)
    with pytest.raises(DunwellError, match=r"brought EUR 10\.00: less than the amount recovered"):
        record_recovery(placement=placement, amount_minor=20_00, on=MONDAY, at=AT, actor=None,
                        payment=small)  # fmt: skip
    with pytest.raises(DunwellError, match="expected a day from 2026-11-20"):
        record_recovery(placement=placement, amount_minor=1_00, on=PLACED_ON - timedelta(days=1),
                        at=AT, actor=None)  # fmt: skip


def test_one_open_placement_per_customer_and_currency(account):
    company, customer, one, two, agency = account
    first = placed(account, [one])
    with pytest.raises(DunwellError, match="C001 has an open placement in EUR already"):
        placed(account, [two])
    with pytest.raises(IntegrityError), transaction.atomic():
        Placement.objects.create(company=company, customer=customer, agency=agency,
                                 currency="EUR", placed_on=MONDAY, placed_minor=1,
                                 commission_percent=15, state="acknowledged", created_at=AT)  # fmt: skip
    update_placement_status(placement=first, state="acknowledged", on=MONDAY, at=AT, actor=None)
    close_placement(placement=first, outcome="returned", on=MONDAY, at=AT, actor=None)
    again = placed(account, [two], on=MONDAY)
    assert again.placed_minor == 400_00


def test_the_status_moves_forward_and_says_where_it_may_go(account):
    placement = placed(account)
    placement = update_placement_status(placement=placement, state="in_progress",
                                        note="lawyer's letter sent", on=MONDAY, at=AT,
                                        actor=None)  # fmt: skip
    assert placement.state == PlacementState.IN_PROGRESS
    with pytest.raises(DunwellError, match="is in progress: it may move to none"):
        update_placement_status(placement=placement, state="acknowledged", on=MONDAY, at=AT,
                                actor=None)  # fmt: skip
    entry = Activity.objects.get(kind=ActivityKind.PLACEMENT_UPDATED, item__isnull=True)
    assert entry.summary == (f"placement {placement.pk} with Inkasso Nord: in progress: "
                             "lawyer's letter sent")  # fmt: skip


def test_placing_names_what_is_wrong_with_its_input(account):
    company, customer, one, two, agency = account
    open_dispute(company=company, customer=customer, items=[(two, None)], reason="price",
                 actor=None, on=PLACED_ON, at=AT)  # fmt: skip
    with pytest.raises(DunwellError, match=r"INV-2 is in dispute \d+: resolve it before placing"):
        placed(account)
    other = f.customer(company, "C002", "Other AG")
    theirs = f.invoice(company, other, "INV-9", 10_00, MONDAY - timedelta(days=40))
    with pytest.raises(DunwellError, match="INV-9 is not C001's"):
        placed(account, [theirs])
    usd = f.invoice(company, customer, "INV-3", 50_00, MONDAY - timedelta(days=40),
                    currency="USD")  # fmt: skip
    with pytest.raises(DunwellError, match="INV-3 is in USD, Invoice INV-1 in EUR"):
        placed(account, [one, usd])
    with pytest.raises(DunwellError, match="has nothing open in GBP on 2026-11-20 to place"):
        place_account(company=company, customer=customer, agency=agency, currency="GBP",
                      on=PLACED_ON, at=AT, actor=None)  # fmt: skip
    with pytest.raises(DunwellError, match="commission '120': expected a percentage"):
        create_agency(company=company, name="Greedy", commission_percent="120", at=AT)
    with pytest.raises(DunwellError, match="there is an agency 'Inkasso Nord' already"):
        create_agency(company=company, name="Inkasso Nord", commission_percent="10", at=AT)
    agency.active = False
    agency.save(update_fields=["active"])
    with pytest.raises(DunwellError, match="Inkasso Nord is not active"):
        placed(account, [one])


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda company=None: MONDAY)
    monkeypatch.setattr(clock, "now", lambda: AT)
    return MONDAY


def test_the_case_command_places_recovers_and_closes_as_json(account, capsys, today):
    _, _, _, _, agency = account
    call_command("case", "agency", "--name", "Kanzlei Roth", "--kind", "lawyer",
                 "--commission", "20", "--format", "json")  # fmt: skip
    lawyer = json.loads(capsys.readouterr().out)
    assert (lawyer["kind"], lawyer["commission_percent"]) == ("lawyer", "20")
    call_command("case", "agencies", "--format", "json")
    assert [a["name"] for a in json.loads(capsys.readouterr().out)] == [
        "Inkasso Nord", "Kanzlei Roth"
    ]  # fmt: skip
    call_command("case", "place", "--customer", "C001", "--agency", str(agency.pk),
                 "--invoice", "INV-1", "--note", "no answer", "--format", "json")  # fmt: skip
    made = json.loads(capsys.readouterr().out)
    assert (made["state"], made["placed"], made["placed_on"]) == ("placed", "1000.00", "2026-11-23")
    assert made["items"] == [{"number": "INV-1", "amount": "1000.00"}]
    pk = str(made["id"])
    call_command("case", "placement-status", pk, "--state", "acknowledged", "--format", "json")
    assert json.loads(capsys.readouterr().out)["state"] == "acknowledged"
    call_command("case", "recovered", pk, "--amount", "500.00", "--on", "2026-11-23",
                 "--format", "json")  # fmt: skip
    after = json.loads(capsys.readouterr().out)
    assert (after["recovered"], after["commission"]) == ("500.00", "75.00")
    assert after["recoveries"] == [{"on": "2026-11-23", "amount": "500.00",
                                    "commission": "75.00", "payment": None, "note": ""}]  # fmt: skip
    call_command("case", "placements", "--format", "json")
    assert [p["id"] for p in json.loads(capsys.readouterr().out)] == [made["id"]]
    call_command("case", "close-placement", pk, "--outcome", "paid_in_full", "--format", "json")
    assert json.loads(capsys.readouterr().out)["outcome"] == "paid_in_full"
    call_command("case", "placements", "--format", "json")
    assert json.loads(capsys.readouterr().out) == []
    call_command("case", "placements", "--all", "--format", "json")
    assert json.loads(capsys.readouterr().out)[0]["recovered"] == "500.00"
    with pytest.raises(CommandError, match="--amount '5x': "):
        call_command("case", "recovered", pk, "--amount", "5x")
    with pytest.raises(CommandError, match="--agency 999: no such agency in acme"):
        call_command("case", "place", "--customer", "C001", "--agency", "999")
    with pytest.raises(CommandError, match="no placement 999 in acme"):
        call_command("case", "recall", "999", "--reason", "x")


def test_a_recovery_sent_twice_with_its_key_is_booked_once(account):
    placement = placed(account)
    record_recovery(placement=placement, amount_minor=200_00, on=MONDAY, at=AT, actor=None,
                    key="report-17")  # fmt: skip
    with pytest.raises(DunwellError) as again:
        record_recovery(placement=placement, amount_minor=200_00, on=MONDAY, at=AT, actor=None,
                        key=" report-17 ")  # fmt: skip
    assert (again.value.code, again.value.context["field"]) == ("duplicate", "key")
    assert again.value.message == ("sent twice: Inkasso Nord's recovery of EUR 200.00 on "
                                   "2026-11-23 is recorded once, nothing was booked again")  # fmt: skip
    assert placement.recoveries.count() == 1
    assert Activity.objects.filter(kind=ActivityKind.PLACEMENT_RECOVERED,
                                   item__isnull=True).count() == 1  # fmt: skip
    record_recovery(placement=placement, amount_minor=200_00, on=MONDAY, at=AT, actor=None,
                    key="report-18")  # fmt: skip
    record_recovery(placement=placement, amount_minor=1_00, on=MONDAY, at=AT, actor=None)
    record_recovery(placement=placement, amount_minor=1_00, on=MONDAY, at=AT, actor=None)
    assert totals([placement.pk])[placement.pk] == (402_00, 60_30)  # no key: each one counts
    with pytest.raises(DunwellError, match="at most 64 characters"):
        record_recovery(placement=placement, amount_minor=1_00, on=MONDAY, at=AT, actor=None,
                        key="k" * 65)  # fmt: skip


def test_the_case_command_retried_with_its_key_records_the_recovery_once(account, capsys, today):
    pk = str(placed(account).pk)
    for attempt in range(2):
        call_command("case", "recovered", pk, "--amount", "500.00", "--key", "nord-2026-0042",
                     "--format", "json")  # fmt: skip
        out, err = capsys.readouterr()
        assert json.loads(out)["recovered"] == "500.00"
        assert ("sent twice: Inkasso Nord's recovery of EUR 500.00 on 2026-11-23 is recorded once"
                in err) == (attempt == 1)  # fmt: skip
    assert Placement.objects.get(pk=pk).recoveries.count() == 1


def test_placing_the_account_withdraws_its_portal_links(account):
    company, customer, *_ = account
    contact = customer.contacts.get()
    link = portal.issue(company=company, customer=customer, contact=contact, at=AT,
                        source="message 1")  # fmt: skip
    placed(account)
    with pytest.raises(portal.PortalLinkError) as refused:
        portal.resolve(portal.token(link), at=AT + timedelta(minutes=1))
    assert refused.value.reason == "revoked"
    entry = Activity.objects.get(kind=ActivityKind.PORTAL_LINK_REVOKED)
    assert entry.summary == "1 portal link(s) withdrawn: account placed with Inkasso Nord"
