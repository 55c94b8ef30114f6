"""`dunwell interest calc` and `dunwell rates`, on the reference rates the migration stores."""

import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def calc(*args: str) -> dict:
    return json.loads(run("interest", "calc", *args, "--format", "json"))


def test_german_interest_by_half_year_from_the_stored_rates():
    result = calc("--jurisdiction", "DE", "--amount", "10000.00", "--currency", "EUR",
                  "--due", "2025-06-15", "--paid", "2025-07-30")  # fmt: skip
    assert [(p["from"], p["to"], p["days"], p["rate_percent"], p["interest"])
            for p in result["periods"]] == [
        ("2025-06-16", "2025-06-30", 15, "11.27", "46.3151"),
        ("2025-07-01", "2025-07-30", 30, "10.27", "84.4110"),
    ]  # fmt: skip
    assert result["interest"] == "130.73"
    assert result["compensation"] == {"amount": "40.00", "currency": "EUR"}
    assert result["partial_payments_go_to"] == ["costs", "interest", "principal"]
    assert result["days_late"] == 45 and result["notes"] == []


def test_uk_debt_in_pounds_with_its_fixed_sum_and_an_earlier_part_payment():
    result = calc("--jurisdiction", "uk", "--amount", "10000.00", "--due", "2025-03-14",
                  "--paid", "2025-04-28", "--payment", "2025-03-31=4000.00")  # fmt: skip
    assert result["currency"] == "GBP"
    assert [p["base"] for p in result["periods"]] == ["10000.00", "6000.00"]
    assert result["interest"] == "118.07"  # 12.75 %: 59.3836 + 58.6849
    assert result["compensation"] == {"amount": "100.00", "currency": "GBP"}


def test_a_contractual_rate_with_grace_and_the_table_a_person_reads():
    text = run("interest", "calc", "--rate", "9", "--grace", "5", "--amount", "2500.00",
               "--due", "2025-03-01", "--paid", "2025-03-31", "--day-count", "ACT/360")  # fmt: skip
    assert "contract: 9 % a year: 2500.00 EUR due 2025-03-01, paid 2025-03-31" in text
    assert "2025-03-07" in text and "interest: 15.63 EUR" in text  # 2,500 x 9 % x 25 / 360


def test_a_later_day_uses_the_last_rate_and_says_so_until_someone_confirms_it():
    args = ("--jurisdiction", "DE", "--amount", "1000.00", "--due", "2026-01-15",
            "--paid", "2026-02-14")  # fmt: skip
    assumed = calc(*args)
    assert assumed["periods"][0]["rate_percent"] == "10.27"
    assert assumed["notes"] == [
        "Basiszinssatz on 2026-01-01 is assumed unchanged: the rates were checked through "
        "2025-11-30 (`dunwell rates add` to confirm or correct)"
    ]
    run("rates", "add", "--kind", "de_base", "--from", "2026-01-01", "--percent", "1.27",
        "--checked-on", "2026-06-30", "--source", "Bundesbank")  # fmt: skip
    assert calc(*args)["notes"] == []
    listed = json.loads(run("rates", "list", "--kind", "de_base", "--format", "json"))
    assert listed[-1] == {"kind": "de_base", "from": "2026-01-01", "percent": "1.27",
                          "checked_on": "2026-06-30", "source": "Bundesbank"}  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--jurisdiction", "XX"), "unknown jurisdiction 'XX': expected one of EU, DE, FR, NL"),
        (("--jurisdiction", "DE", "--due", "2015-01-15"), "no Basiszinssatz known on 2015-01-01"),
        (("--jurisdiction", "DE", "--amount", "10.005"), "more decimals than EUR allows"),
        (("--jurisdiction", "DE", "--payment", "2025-04-01"), "expected DATE=AMOUNT"),
    ],
)
def test_bad_input_is_refused_with_what_was_expected(args, message):
    base = {"--amount": "100.00", "--due": "2025-03-01", "--paid": "2025-04-01"}
    given = dict(zip(args[::2], args[1::2], strict=True))
    options = [x for k, v in {**base, **given}.items() for x in (k, v)]
    with pytest.raises(CommandError, match=message):
        run("interest", "calc", *options)


def test_rates_refuse_a_check_before_the_rate_applies():
    with pytest.raises(CommandError, match=r"checked on 2025-12-31: before the rate applies"):
        run("rates", "add", "--kind", "ecb_mro", "--from", "2026-01-01", "--percent", "2.15",
            "--checked-on", "2025-12-31")  # fmt: skip


def test_a_bad_option_from_the_command_line_is_a_usage_error_not_a_traceback(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/none.sqlite3"}
    done = subprocess.run(
        [sys.executable, "-m", "dunwell.cli", "aging", "--as-of", "2025-13-01"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "error: argument --as-of: '2025-13-01' is not a date: expected YYYY-MM-DD" in done.stderr
    assert "Traceback" not in done.stderr
