"""`dunwell credit`: limits, exposure, the policy's check, scores, an application from receipt
to approval with the suggested limit, and the refusals that name the option."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from dunwell.core import clock
from dunwell.credit.models import CreditApplication, CreditHold
from dunwell.ledger.services.allocations import allocate_payment
from tests import factories as f

pytestmark = pytest.mark.django_db


def credit(*args: str) -> object:
    out = StringIO()
    call_command("credit", *args, "--company", "acme", "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def test_a_limit_then_the_exposure_and_the_policys_hold() -> None:
    company = f.company()
    customer = f.customer(company, "C1", "Kunde C1")
    f.invoice(company, customer, "INV-1", 12_000_00, clock.today(company) - timedelta(days=5))
    User.objects.create_user("cora")

    shown = credit("limit", "--customer", "C1", "--set", "10,000.00", "--reason", "opening",
                   "--by", "cora")  # fmt: skip

    assert shown["limit"] == "10000.00" and shown["previous"] is None  # type: ignore[index]
    assert shown["exposure"]["over_limit"] == "2000.00"  # type: ignore[index]
    hold = CreditHold.objects.get(customer=customer)
    assert hold.reason == "exposure EUR 12000.00 is over the limit EUR 10000.00 by EUR 2000.00"
    (row,) = credit("exposure", "--over")  # type: ignore[misc]
    assert (row["customer"], row["exposure"], row["limit"]) == ("C1", "12000.00", "10000.00")
    assert credit("check") == {"placed": [], "released": [], "overridden": []}
    credit("limit", "--customer", "C1", "--set", "none", "--reason", "no limit any more")
    assert CreditHold.objects.get(customer=customer).released_on == clock.today(company)


def test_an_application_is_suggested_a_limit_and_approved(tmp_path: Path) -> None:
    company = f.company()
    f.customer(company, "C9", "Neukunde GmbH")
    references = tmp_path / "refs.json"
    references.write_text(json.dumps([{"name": "Metall AG", "high_credit_minor": 9_000_000},
                                      {"name": "Stahl KG", "high_credit_minor": 11_000_000}]))  # fmt: skip

    made = credit("apply", "--customer", "C9", "--requested", "120000", "--net-worth",
                  "2,000,000", "--working-capital", "800000", "--annual-sales", "7200000",
                  "--monthly-purchases", "40000", "--terms-days", "30",
                  "--expected-delay-days", "10", "--references", str(references))  # fmt: skip

    assert made["suggested"] == {  # type: ignore[index]
        "by_method": {"net_worth": "200000.00", "working_capital": "80000.00",
                      "sales": "60000.00", "trade_references": "100000.00"},
        "blend": "110000.00", "needs_based": "53333.33"}  # fmt: skip
    decided = credit("decide", str(made["id"]), "--approve", "--limit", "80000",  # type: ignore[index]
                     "--reason", "blend less a margin")  # fmt: skip
    assert decided["state"] == "approved" and decided["decided"] == "80000.00"  # type: ignore[index]
    (row,) = credit("exposure", "--customer", "C9")  # type: ignore[misc]
    assert row["limit"] == "80000.00"
    with pytest.raises(CommandError, match="already approved"):
        credit("decide", str(made["id"]), "--decline", "--reason", "changed my mind")  # type: ignore[index]


def test_the_same_application_sent_twice_is_recorded_once(tmp_path: Path) -> None:
    company = f.company()
    f.customer(company, "C9", "Neukunde GmbH")
    references = tmp_path / "refs.json"
    references.write_text(json.dumps([{"name": "Metall AG", "high_credit_minor": 9_000_000}]))
    sent = ("apply", "--customer", "C9", "--requested", "120000", "--received", "2026-11-02",
            "--net-worth", "2000000", "--references", str(references))  # fmt: skip
    first = credit(*sent)
    assert credit(*sent) == first
    changed = credit(*sent[:-4], "--net-worth", "2500000", "--references", str(references))
    assert changed["id"] != first["id"]  # type: ignore[index]
    assert CreditApplication.objects.filter(company=company).count() == 2


def test_refusals_name_the_option() -> None:
    company = f.company()
    f.customer(company, "C1", "Kunde C1")
    with pytest.raises(CommandError, match="--set 'abc': 'abc' is not a number"):
        credit("limit", "--customer", "C1", "--set", "abc", "--reason", "x")
    with pytest.raises(CommandError, match="--customer: no customer 'C2' in acme"):
        credit("limit", "--customer", "C2", "--set", "1", "--reason", "x")
    with pytest.raises(CommandError, match="--reason: a credit limit needs a reason"):
        credit("limit", "--customer", "C1", "--set", "1", "--reason", " ")
    with pytest.raises(CommandError, match="--requested: the limit asked for must be more"):
        credit("apply", "--customer", "C1", "--requested", "0")
    with pytest.raises(CommandError, match="no credit application 99 in acme"):
        credit("application", "99")


def test_scores_worst_first_with_why() -> None:
    company = f.company()
    today = clock.today(company)
    for number, late in (("GOOD", 0), ("SLOW", 45)):
        customer = f.customer(company, number, f"Kunde {number}")
        for n in range(3):
            due = today - timedelta(days=100 + 30 * n)
            item = f.invoice(company, customer, f"{number}-{n}", 1_000_00, due - timedelta(days=30),
                             due_on=due)  # fmt: skip
            paid = f.payment(
                company, customer, f"P-{number}-{n}", 1_000_00, due + timedelta(days=late)
            )
            allocate_payment(company=company, payment=paid, item=item, amount_minor=1_000_00,
                             on=due + timedelta(days=late), actor=None, at=f.AT)  # fmt: skip
    rows = credit("scores", "--refresh")
    assert [(r["customer"], r["score"], r["band"]) for r in rows] == [  # type: ignore[attr-defined]
        ("SLOW", 45, "high"), ("GOOD", 80, "low")]  # fmt: skip
    assert rows[0]["explanation"] == (  # type: ignore[index]
        "45 (high risk): payment index 45.0 over 3 invoice(s) (DBT 45.0 days)"
    )
