"""`dunwell fx add|list`: the command the missing-rate error points to."""

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dunwell.core.errors import DunwellError
from dunwell.ledger.services.fx import rate_on

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("fx", *args, stdout=out)
    return out.getvalue()


def test_a_missing_rate_names_the_command_and_the_command_adds_it():
    with pytest.raises(DunwellError, match="add one with `dunwell fx add`"):
        rate_on("USD", "EUR", date(2026, 3, 2))
    run("add", "--on", "2026-03-02", "--base", "usd", "--quote", "EUR", "--rate", "0.9231",
        "--source", "ECB")  # fmt: skip
    assert rate_on("USD", "EUR", date(2026, 3, 3)) == (Decimal("0.9231"), date(2026, 3, 2))
    listed = json.loads(run("list", "--format", "json"))
    assert listed == [
        {"on": "2026-03-02", "base": "USD", "quote": "EUR", "rate": "0.9231000000", "source": "ECB"}
    ]
    assert "2026-03-02  1 USD = 0.9231 EUR  ECB" in run("list")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--base", "EUR", "--quote", "XYZ", "--rate", "1.1"), "'XYZ' is not a currency"),
        (
            ("--base", "EUR", "--quote", "USD", "--rate", "-1"),
            "argument --rate: '-1': expected a number above zero",
        ),
        (
            ("--base", "EUR", "--quote", "USD", "--rate", "1,1"),
            "argument --rate: '1,1': expected a",
        ),
        (("--base", "EUR", "--quote", "EUR", "--rate", "1"), "--base and --quote are the same"),
    ],
)
def test_bad_options_are_refused_naming_the_option(args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run("add", "--on", "2026-03-02", *args)
