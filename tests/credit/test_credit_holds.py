"""Credit holds placed and released by a person, with why: the service, `dunwell credit` and the
customer page."""

import json
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from dunwell.core.errors import DunwellError
from dunwell.credit.models import CreditHold
from dunwell.credit.services.holds import place_credit_hold, release_credit_hold
from dunwell.ledger.models import Activity, ActivityKind
from tests import factories as f

pytestmark = pytest.mark.django_db

ON = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_a_hold_is_released_once_with_a_reason_and_the_history_says_who():
    company = f.company()
    customer = f.customer(company, "C001")
    manager = User.objects.create_user("manny")
    place_credit_hold(company=company, customer=customer, on=ON, at=AT, reason="90 days late",
                      source="dunning step 5")  # fmt: skip
    with pytest.raises(DunwellError, match="releasing a credit hold needs a reason"):
        release_credit_hold(company=company, customer=customer, on=ON, at=AT, reason=" ",
                            actor=manager)  # fmt: skip
    hold = release_credit_hold(company=company, customer=customer, on=ON, at=AT,
                               reason="paid in full", actor=manager)  # fmt: skip
    assert (hold.released_on, hold.release_reason, hold.released_by) == (ON, "paid in full",
                                                                         manager)  # fmt: skip
    entry = Activity.objects.get(kind=ActivityKind.CREDIT_HOLD_RELEASED)
    assert entry.summary == "credit hold released: paid in full" and entry.actor == manager
    with pytest.raises(DunwellError, match="C001 is not on credit hold"):
        release_credit_hold(company=company, customer=customer, on=ON, at=AT, reason="again",
                            actor=manager)  # fmt: skip
    again, new = place_credit_hold(company=company, customer=customer, on=ON, at=AT,
                                   reason="new order refused", source="by hand", actor=manager)  # fmt: skip
    assert new and again.pk != hold.pk  # a new hold; the old one stays as history


def test_the_command_lists_places_and_releases_holds(capsys):
    company = f.company()
    f.customer(company, "C001", "Bauer KG")
    User.objects.create_user("manny")
    call_command("credit", "hold", "--customer", "C001", "--reason", "over limit", "--by", "manny")
    call_command("credit", "holds", "--format", "json")
    out = capsys.readouterr().out
    [row] = json.loads(out[out.index("[") :])
    assert (row["customer"], row["reason"], row["source"], row["placed_by"]) == (
        "C001", "over limit", "by hand", "manny",
    )  # fmt: skip
    call_command("credit", "release", "--customer", "C001", "--reason", "limit raised", "--by",
                 "manny", "--format", "json")  # fmt: skip
    released = json.loads(capsys.readouterr().out)
    assert released["result"] == "released" and released["release_reason"] == "limit raised"
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("credit", "hold", "--customer", "C001", "--reason", "x", "--by", "nobody")
    assert not CreditHold.objects.filter(released_on__isnull=True).exists()
