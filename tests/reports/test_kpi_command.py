"""`dunwell kpi` from the command line: JSON, CSV and the table, the default period, bad input."""

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dunwell.core import clock
from tests import factories as f
from tests.reports.test_kpi import K, dataset

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("kpi", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def acme():
    company = f.company()
    dataset(company)
    return company


def test_json_gives_every_month_and_the_period_with_its_named_cei_variants(acme):
    report = json.loads(run("--from", "2025-01", "--to", "2025-03", "--format", "json"))
    assert (report["company"], report["from"], report["to"], report["by"]) == (
        "acme", "2025-01", "2025-03", "company")  # fmt: skip
    assert report["cei_default"] == "total_sales"
    [series] = report["series"]
    assert (series["group"], series["label"], series["currency"]) == ("acme", "Acme GmbH", "EUR")
    assert [m["month"] for m in series["months"]] == ["2025-01", "2025-02", "2025-03"]
    march = series["months"][2]
    assert (march["credit_sales"], march["ending_ar"], march["current_ar"], march["over_90_ar"]) == (
        "150000.00", "210000.00", "140000.00", "7000.00")  # fmt: skip
    assert (march["cei"], march["cei_variant"]) == ("66.67", "one_month")
    period = series["period"]
    assert period["month"] == "2025-01..2025-03"
    assert {k: period[k] for k in ("days", "credit_sales", "opening_ar", "cash_collected", "dso",
                                    "dso_average_ar", "dso_countback", "best_possible_dso", "add",
                                    "cei", "cei_variant", "percent_current", "percent_over_90",
                                    "turnover", "turnover_annualised", "dbt")} == {
        "days": 90, "credit_sales": "370000.00", "opening_ar": "190000.00",
        "cash_collected": "350000.00", "dso": "51.08", "dso_average_ar": "48.65",
        "dso_countback": "45.00", "best_possible_dso": "34.05", "add": "17.03", "cei": "83.33",
        "cei_variant": "total_sales", "percent_current": "66.67", "percent_over_90": "3.33",
        "turnover": "1.85", "turnover_annualised": "7.50", "dbt": "11.67",
    }  # fmt: skip
    assert period["cei_variants"] == {
        "total_sales": "83.33", "average_of_months": period["cei_variants"]["average_of_months"],
        "crf_sales_over_n": "59.62",
    }  # fmt: skip
    assert report["dunning"] == {"paid_within_days": 30, "steps": []}


def test_a_month_without_sales_has_no_dso_null_in_json_and_empty_in_csv(acme):
    report = json.loads(run("--from", "2025-04", "--to", "2025-04", "--format", "json"))
    april = report["series"][0]["months"][0]
    assert (april["credit_sales"], april["dso"], april["best_possible_dso"]) == ("0.00", None,
                                                                                 None)  # fmt: skip
    [_, row, _] = list(csv.reader(io.StringIO(run("--from", "2025-04", "--to", "2025-04",
                                                  "--format", "csv"))))  # fmt: skip
    assert row[3:6] == ["2025-04", "30", "0.00"]
    assert row[11] == ""  # dso


def test_csv_has_a_row_per_group_and_month_then_the_period_and_defuses_formulas(acme):
    f.customer(acme, "C009", '=HYPERLINK("http://x")', segment="@evil")
    evil = f.invoice(acme, acme.customers.get(account_number="C009"), "X-1", 10 * K,
                     date(2025, 2, 1), date(2025, 3, 3))  # fmt: skip
    assert evil.amount_minor == 10 * K
    rows = list(csv.DictReader(io.StringIO(run("--from", "2025-01", "--to", "2025-03", "--by",
                                               "customer", "--format", "csv"))))  # fmt: skip
    assert [(r["group_key"], r["month"]) for r in rows] == [
        (key, month) for key in ("C009", "C001", "C002")
        for month in ("2025-01", "2025-02", "2025-03", "2025-01..2025-03")
    ]  # fmt: skip
    assert rows[0]["group"] == '\'=HYPERLINK("http://x")'
    assert (rows[7]["group"], rows[7]["ending_ar"], rows[7]["cei_variant"]) == (
        "Bauer KG", "163000.00", "total_sales")  # fmt: skip
    by_segment = list(csv.DictReader(io.StringIO(run("--from", "2025-01", "--to", "2025-03",
                                                     "--by", "segment", "--format", "csv"))))  # fmt: skip
    assert {r["group_key"] for r in by_segment} == {"'@evil", "retail", "wholesale"}


def test_the_table_shows_each_month_and_the_period(acme):
    text = run("--from", "2025-01", "--to", "2025-03")
    assert "Acme GmbH (EUR), 2025-01 to 2025-03; period CEI: total sales" in text
    [march] = [line for line in text.splitlines() if "2025-03" in line and "│" in line]
    assert "150000.00" in march and "66.67" in march
    [period] = [line for line in text.splitlines() if "period" in line and "│" in line]
    assert all(v in period for v in ("370000.00", "51.08", "45.00", "83.33", "11.67"))


def test_the_default_period_is_the_twelve_months_to_the_last_complete_one(acme, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda company=None: date(2025, 4, 15))
    report = json.loads(run("--format", "json"))
    assert (report["from"], report["to"]) == ("2024-04", "2025-03")
    assert report["series"][0]["months"][-1]["ending_ar"] == "210000.00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2025-06", "--to", "2025-01"),
         r"--from 2025-06 is after --to 2025-01: expected --from <= --to"),
        (("--from", "2010-01", "--to", "2025-01"),
         r"--from/--to: at most 120 months at once, not 181"),
        (("--paid-within", "0"), r"--paid-within 0: expected a number of days, at least 1"),
        (("--company", "nope"), r"no company 'nope' \(known: acme\)"),
    ],
)  # fmt: skip
def test_bad_options_are_refused_naming_the_option(acme, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_malformed_month_is_a_usage_error_naming_the_option(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/none.sqlite3"}
    done = subprocess.run(
        [sys.executable, "-m", "dunwell.cli", "kpi", "--from", "2025-13"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "error: argument --from: '2025-13' is not a month: expected YYYY-MM" in done.stderr
    assert "Traceback" not in done.stderr
