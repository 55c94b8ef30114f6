"""Limitation dates by governing law (DOMAIN.md 7.1) and the warning a collector sees."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.terms.rules.limitation import WARN_DAYS, limitation_date, urgency

pytestmark = pytest.mark.pure


def test_german_claims_expire_at_the_end_of_the_third_year_after_they_fell_due():
    # DOMAIN.md 7.1: 2022 invoices expire 31 Dec 2025
    assert limitation_date("DE", due_on=date(2022, 1, 1)) == date(2025, 12, 31)
    assert limitation_date("DE", due_on=date(2022, 12, 31)) == date(2025, 12, 31)


def test_dutch_claims_run_five_years_and_two_for_a_consumer_sale():
    assert limitation_date("NL", due_on=date(2021, 6, 30)) == date(2026, 6, 30)
    assert limitation_date("NL", due_on=date(2024, 6, 30), consumer=True) == date(2026, 6, 30)


def test_english_claims_run_six_years_again_from_a_part_payment():
    assert limitation_date("UK", due_on=date(2020, 2, 29)) == date(2026, 2, 28)
    restarted = limitation_date("UK", due_on=date(2020, 3, 1), last_payment_on=date(2023, 5, 2))
    assert restarted == date(2029, 5, 2)


def test_french_american_and_no_period_laws():
    assert limitation_date("FR", due_on=date(2021, 4, 1)) == date(2026, 4, 1)
    assert limitation_date("US", due_on=date(2021, 4, 1)) == date(2025, 4, 1)
    assert limitation_date("EU", due_on=date(2021, 4, 1)) is None
    assert limitation_date("CONTRACT", due_on=date(2021, 4, 1)) is None


def test_a_collector_is_warned_ninety_days_before_and_after():
    limit = date(2025, 12, 31)
    assert urgency(limit, date(2025, 10, 1)) == ("ok", 91)
    assert urgency(limit, date(2025, 10, 2)) == ("soon", 90)
    assert urgency(limit, date(2025, 12, 31)) == ("soon", 0)
    assert urgency(limit, date(2026, 1, 1)) == ("barred", -1)


@given(
    law=st.sampled_from(["DE", "NL", "UK", "FR", "US"]),
    due=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
)
def test_a_claim_is_never_time_barred_before_it_is_two_years_old(law, due):
    limit = limitation_date(law, due_on=due, consumer=True)
    assert limit is not None and limit >= due + timedelta(days=365 * 2 - 1)
    assert urgency(limit, due).level == ("soon" if (limit - due).days <= WARN_DAYS else "ok")
