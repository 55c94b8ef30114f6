from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.terms.rules.fees import FeeError, LateFee

TWO_PERCENT = LateFee(percent=Decimal(2), minimum_minor=5_00, maximum_minor=50_00)


@pytest.mark.parametrize(
    ("overdue", "fee"),
    [
        (0, 0),
        (100_00, 5_00),
        (250_00, 5_00),
        (1_000_00, 20_00),
        (1_234_56, 24_69),
        (10_000_00, 50_00),
    ],
)
def test_a_share_with_a_floor_and_a_cap(overdue, fee):
    assert TWO_PERCENT.charge(overdue) == fee


def test_a_fixed_fee_and_a_share_add_up_before_the_cap():
    fee = LateFee(fixed_minor=10_00, percent=Decimal("1.5"), maximum_minor=40_00)
    assert fee.charge(1_000_00) == 25_00
    assert fee.charge(5_000_00) == 40_00


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fixed_minor": -1}, "cannot be negative"),
        (
            {"percent": Decimal(2), "minimum_minor": 10_00, "maximum_minor": 5_00},
            "under its minimum",
        ),
        ({}, "needs a fixed amount"),
    ],
)
def test_a_fee_that_cannot_be_charged_is_refused(kwargs, message):
    with pytest.raises(FeeError, match=message):
        LateFee(**kwargs)


@given(
    overdue=st.integers(1, 10**12),
    fixed=st.integers(0, 10**6),
    percent=st.decimals(0, 25, places=3),
    minimum=st.integers(0, 10**5),
    extra=st.integers(0, 10**6),
)
def test_the_fee_stays_between_floor_and_cap_and_grows_with_the_debt(
    overdue, fixed, percent, minimum, extra
):
    if not fixed and not percent and not minimum:
        minimum = 1
    fee = LateFee(fixed, percent, minimum, minimum + extra)
    assert minimum <= fee.charge(overdue) <= minimum + extra
    assert fee.charge(overdue) <= fee.charge(overdue + 1)
