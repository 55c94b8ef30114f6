"""The reserve from the ledger: DOMAIN.md §3's aged receivables rebuilt as invoices, priced with
the company's rates per segment, the illustrative default said as such, rates from a date, credit
balances, currencies, another company's ledger, the roll-forward with a write-off, the command."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dunwell.core.errors import DunwellError
from dunwell.core.models import Company, FxRate
from dunwell.ledger.models import ItemKind
from dunwell.ledger.services.allocations import write_off
from dunwell.reports.models import ReserveRates
from dunwell.reports.reserve import movement, reserve, set_rates
from dunwell.reports.rules.reserve import DEMO_RATES, parse_rates
from tests import factories as f

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 3, 31)
AT = datetime(2025, 4, 1, 8, 0, tzinfo=UTC)
# DOMAIN.md §3's AR at 31 Mar 2025 by days past due: one invoice per bucket, due that many days
# before the as-of date (0: due on it, still current).
AGED = ((0, 140_000_00), (15, 40_000_00), (45, 15_000_00), (75, 8_000_00), (100, 4_000_00),
        (150, 3_000_00))  # fmt: skip


def aged_ledger(company: Company, number: str, segment: str = "", currency: str = "EUR",
                scale: int = 1) -> None:  # fmt: skip
    customer = f.customer(company, number, f"Kunde {number}", currency=currency, segment=segment)
    for days, amount in AGED:
        due = AS_OF - timedelta(days=days)
        f.invoice(company, customer, f"{number}-{days}", amount // scale, due - timedelta(days=30),
                  due_on=due)  # fmt: skip


def test_the_worked_example_with_the_illustrative_default_said_as_such() -> None:
    company = f.company()
    aged_ledger(company, "C1")
    aged_ledger(f.company("other"), "X1")  # another company's ledger never counts

    report = reserve(company, AS_OF)

    (line,) = report.lines
    assert line.bases == [amount for _, amount in AGED]
    assert line.reserves == [700_00, 800_00, 750_00, 1_200_00, 1_400_00, 2_250_00]
    assert report.totals == {"EUR": (210_000_00, 7_100_00)}
    assert report.base_total_minor == 7_100_00
    assert report.uses_default and line.rates.rates == DEMO_RATES
    assert "illustrative" in line.rates.reason


def test_segments_use_their_own_rates_from_their_date_and_others_the_companys() -> None:
    company = f.company()
    aged_ledger(company, "C1", segment="public")
    aged_ledger(company, "C2", segment="retail")
    set_rates(company=company, rates=parse_rates("0,0,1,2,3,4"), segment="public",
              effective_on=date(2025, 1, 1), reason="state bodies pay", at=AT)  # fmt: skip
    set_rates(company=company, rates=parse_rates("0.3,1.6,3.6,6.6,10.6,10.6"), segment="",
              effective_on=date(2025, 1, 1), reason="IFRS 9 matrix, board 2024-12", at=AT)  # fmt: skip
    # decided later, from after the as-of date: not yet standing on it
    set_rates(company=company, rates=parse_rates("1,1,1,1,1,1"), segment="",
              effective_on=AS_OF + timedelta(days=1), reason="later", at=AT)  # fmt: skip

    report = reserve(company, AS_OF)

    public, others = report.lines
    assert (public.segment, others.segment) == ("public", "")
    assert public.reserves == [0, 0, 150_00, 160_00, 120_00, 120_00]
    assert others.reserves == [420_00, 640_00, 540_00, 528_00, 424_00, 318_00]  # 2,870.00
    assert report.totals == {"EUR": (420_000_00, 550_00 + 2_870_00)}
    assert not report.uses_default
    # a day later every invoice is a day older, and the later rates stand
    later = reserve(company, AS_OF + timedelta(days=1)).lines[1]
    assert later.reserves == [0, 1_800_00, 150_00, 80_00, 40_00, 30_00]
    assert later.rates.reason == "later"


def test_a_credit_balance_in_a_bucket_lowers_nobody_elses_reserve() -> None:
    company = f.company()
    aged_ledger(company, "C1")
    refunded = f.customer(company, "C2", "Kunde C2")
    f.invoice(company, refunded, "CN-9", 50_000_00, AS_OF - timedelta(days=60),
              due_on=AS_OF - timedelta(days=20), kind=ItemKind.CREDIT_NOTE)  # fmt: skip

    (line,) = reserve(company, AS_OF).lines

    assert line.bases[1] == 40_000_00  # not 40,000 - 50,000
    assert line.reserve_minor == 7_100_00


def test_currencies_stay_apart_and_the_base_total_converts_at_the_days_rate() -> None:
    company = f.company()
    aged_ledger(company, "C1")
    aged_ledger(company, "U1", currency="USD", scale=10)  # USD 21,000.00 aged alike
    FxRate.objects.create(on=AS_OF, base="EUR", quote="USD", rate=Decimal("1.25"))

    report = reserve(company, AS_OF)

    assert report.totals == {"EUR": (210_000_00, 7_100_00), "USD": (21_000_00, 710_00)}
    assert report.base_total_minor == 7_100_00 + 568_00  # USD 710.00 / 1.25


def test_a_missing_rate_leaves_the_currency_totals_and_says_which() -> None:
    company = f.company()
    aged_ledger(company, "U1", currency="USD", scale=10)

    report = reserve(company, AS_OF)

    assert report.totals == {"USD": (21_000_00, 710_00)}
    assert report.base_total_minor is None
    assert "USD" in report.missing_rate and "EUR" in report.missing_rate


def test_the_roll_forward_charges_what_the_write_offs_used() -> None:
    company = f.company()
    customer = f.customer(company, "C1", "Kunde C1")
    old = f.invoice(company, customer, "INV-1", 10_000_00, date(2024, 9, 1),
                    due_on=date(2024, 10, 1))  # fmt: skip
    start, end = date(2024, 12, 31), AS_OF
    write_off(company=company, item=old, on=date(2025, 2, 15), reason="insolvent",
              amount_minor=4_000_00, actor=None, at=AT)  # fmt: skip

    moved = movement(company, start, end)

    eur = moved.by_currency["EUR"]
    assert eur.opening_minor == 3_500_00  # 10,000 at 91 days past due on 31 Dec: 35 %
    assert eur.written_off_minor == 4_000_00
    assert eur.closing_minor == 4_500_00  # 6,000 over 120 days: 75 %
    assert eur.charge_minor == 4_500_00 - 3_500_00 + 4_000_00


def test_rates_need_a_reason_and_a_known_segment() -> None:
    company = f.company()
    with pytest.raises(DunwellError, match="need a reason"):
        set_rates(company=company, rates=DEMO_RATES, segment="", effective_on=AS_OF,
                  reason=" ", at=AT)  # fmt: skip
    with pytest.raises(DunwellError, match="segment 'nobody'"):
        set_rates(company=company, rates=DEMO_RATES, segment="nobody", effective_on=AS_OF,
                  reason="why", at=AT)  # fmt: skip


def test_the_command_reports_and_sets_rates() -> None:
    company = f.company()
    aged_ledger(company, "C1")
    out = StringIO()
    call_command("reserve", "--company", company.code, "--as-of", "2025-03-31", "--format",
                 "json", stdout=out)  # fmt: skip
    shown = json.loads(out.getvalue())
    assert shown["totals"] == [{"currency": "EUR", "receivables": "210000.00",
                                "reserve": "7100.00", "percent": "3.38"}]  # fmt: skip
    assert shown["rates"][0]["source"] == "illustrative default: set your own"
    assert shown["lines"][0]["reserve"] == ["700.00", "800.00", "750.00", "1200.00", "1400.00",
                                            "2250.00"]  # fmt: skip

    call_command("reserve", "rates", "--company", company.code, "--set", "0.3,1.6,3.6,6.6,10.6,10.6",
                 "--from", "2025-01-01", "--reason", "IFRS 9 matrix", stdout=StringIO())  # fmt: skip
    out = StringIO()
    call_command("reserve", "--company", company.code, "--as-of", "2025-03-31", "--format",
                 "json", stdout=out)  # fmt: skip
    assert json.loads(out.getvalue())["totals"][0]["reserve"] == "2870.00"

    with pytest.raises(CommandError, match="--set: bucket 1-30: 'x' is not a percentage"):
        call_command("reserve", "rates", "--company", company.code, "--set", "1,x,1,1,1,1",
                     "--from", "2025-01-01", "--reason", "typo")  # fmt: skip


def test_the_same_rates_set_again_record_nothing_and_other_rates_are_a_new_row() -> None:
    company = f.company()
    args = {"company": company, "segment": "", "effective_on": AS_OF, "reason": "board", "at": AT}
    first = set_rates(rates=DEMO_RATES, **args)
    assert set_rates(rates=DEMO_RATES, **args).pk == first.pk
    changed = set_rates(rates=parse_rates("1,2,5,15,35,75"), **args)
    assert changed.pk != first.pk
    assert set_rates(rates=DEMO_RATES, **args).pk not in (first.pk, changed.pk)  # back again
    assert ReserveRates.objects.count() == 3
