"""BAI2: the moov sample, funds types and continuations, control totals, and amounts that
survive a round trip through a written file."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.formats.bai2 import read_bai2
from dunwell.formats.errors import FileRejected
from dunwell.formats.statements import Remittance, Transaction


def sample(shared_data: Path) -> bytes:
    return (shared_data / "bank" / "bai2" / "moov_sample1.bai2").read_bytes()


def rejection(data: bytes, file_name: str = "bank.bai2") -> list[str]:
    with pytest.raises(FileRejected) as caught:
        read_bai2(data, file_name=file_name)
    return [str(error) for error in caught.value.errors]


def bai2(records: list[str], balances: str = "010,+000000100000,,,015,+000000150000,,") -> bytes:
    """A one-group, one-account file around `records` (16 and 88 lines) with right totals."""
    amounts = [r.split(",")[2] for r in records if r.startswith("16,")]
    amounts = [int(a) for a in amounts if a.isdigit()]
    balance_total = sum(int(v) for v in balances.split(",")[1::4] if v)
    total = balance_total + sum(amounts)
    account = ["03,987654321,USD," + balances + "/", *records]
    account_records = len(account) + 1
    lines = [
        "01,BANK,CUSTOMER,240311,0615,7,80,1,2/",
        "02,CUSTOMER,BANK,1,240310,2400,USD,2/",
        *account,
        f"49,+{total},{account_records}/",
        f"98,+{total},1,{account_records + 2}/",
        f"99,+{total},1,{account_records + 4}/",
    ]
    return "\n".join(lines).encode()


def test_moov_sample_reads_two_accounts_with_signed_amounts_and_value_dates(shared_data):
    first, second = read_bai2(sample(shared_data), file_name="moov.bai2")
    assert (first.account_number, first.currency, first.statement_id) == (
        "10200123456",
        "CAD",
        "001/2006-03-17",
    )
    assert first.created_at == "2006-03-21T08:29"
    assert [(e.bank_code, e.amount) for e in first.entries[:4]] == [
        ("409", Decimal("-25.00")),
        ("409", Decimal("-900.00")),
        ("409", Decimal("-5.00")),
        ("108", Decimal("2035.00")),
    ]
    returned = first.entries[0]
    assert (returned.value_on, returned.booked_on, returned.line) == (
        date(2006, 3, 16),  # the V funds type's value date
        date(2006, 3, 17),  # the group's as-of date
        5,
    )
    assert returned.transactions[0].remittance.unstructured == "RETURNED CHEQUE"
    assert first.entries[2].transactions[0].remittance.unstructured == "RTD CHQ SERVICE CHRG"
    # 040/045 (available) are the only balances: 0.00 and 0.00, and the entries net to zero
    assert (first.opening_balance, first.closing_balance, first.reconciles()) == (
        Decimal("0.00"),
        Decimal("0.00"),
        True,
    )
    assert sum(e.amount for e in second.entries) == 0
    assert [e.value_on for e in second.entries] == [date(2006, 3, 17)] * 6


def test_funds_types_continuations_and_ledger_balances_are_read():
    data = bai2(
        [
            "16,175,000000000030000,S,10000,15000,5000,BR-1,CUST-1,ACME CORP INV 1001, 1002/",
            "88,AND 1003/",
            "16,475,000000000001250,D,2,1,1000,2,250,BR-2,,FEE/",
            "16,195,000000000000500,0,BR-3,/",
        ]
    )
    (statement,) = read_bai2(data, file_name="x")
    assert (statement.opening_balance, statement.closing_balance) == (
        Decimal("1000.00"),
        Decimal("1500.00"),
    )
    lockbox, fee, wire = statement.entries
    assert lockbox.transactions[0] == Transaction(
        amount=Decimal("300.00"),
        currency="USD",
        remittance=Remittance(unstructured="ACME CORP INV 1001, 1002 AND 1003"),
        references=(("customer_reference", "CUST-1"),),
    )
    assert (lockbox.bank_reference, lockbox.value_on) == ("BR-1", date(2024, 3, 10))
    assert (fee.amount, fee.bank_reference, fee.transactions[0].remittance.unstructured) == (
        Decimal("-12.50"),
        "BR-2",
        "FEE",
    )
    assert (wire.amount, wire.bank_reference, wire.transactions[0].remittance.unstructured) == (
        Decimal("5.00"),
        "BR-3",
        "",
    )
    assert statement.reconciles() is False  # 1000.00 + 300.00 - 12.50 + 5.00 is not 1500.00


def test_control_totals_that_disagree_are_all_reported(shared_data):
    data = sample(shared_data).replace(b"49,+00000000000834000,14/", b"49,+00000000000834001,13/")
    data = data.replace(b"99,+00000000001280000,1,27/", b"99,+00000000001280000,2,26/")
    assert rejection(data, "moov.bai2") == [
        'moov.bai2 line 16, field "account control total": expected 834000, the sum of the '
        'account\'s amounts, got "834001"',
        'moov.bai2 line 16, field "number of records": expected 14, the account\'s records from '
        '03 to 49, got "13"',
        'moov.bai2 line 27, field "number of groups": expected 1, the file\'s 02 group headers, '
        'got "2"',
        'moov.bai2 line 27, field "number of records": expected 27, the file\'s records from 01 '
        'to 99, got "26"',
    ]


def test_file_without_trailer_is_refused_as_truncated(shared_data):
    truncated = sample(shared_data).rsplit(b"\n", 2)[0]
    assert rejection(truncated, "moov.bai2") == [
        'moov.bai2 line 25: expected the 99 file trailer, got "the end of the file"'
    ]


def test_records_out_of_place_are_refused():
    data = bai2(["16,175,000000000030000,0,,/"]).replace(b"49,", b"16,475,1,0,,/\n49,", 1)
    data = data.replace(b"03,987654321", b"02,X,Y,1,240310,,USD/\n03,987654321")
    assert rejection(data) == [
        'bank.bai2 line 3: expected a 98 group trailer before the next group, got "02"'
    ]
    assert rejection(b"02,CUSTOMER,BANK,1,240310/\n") == [
        "bank.bai2 line 1: expected a BAI2 file starting with a 01 file header, got "
        '"02,CUSTOMER,BANK,1,240310"'
    ]


def test_wrong_values_are_refused_naming_the_field():
    assert rejection(bai2(["16,010,000000000030000,0,,/"])) == [
        'bank.bai2 line 4, field "type code": expected a transaction type code 100-399 (credit) '
        'or 400-699 (debit), got "010"'
    ]
    assert rejection(bai2(["16,175,300.00,0,,/"])) == [
        'bank.bai2 line 4, field "amount": expected an amount like 000000000208500 (minor units, '
        'no decimal point), got "300.00"'
    ]
    assert rejection(bai2(["16,175,000000000030000,V,240231,,,/"])) == [
        'bank.bai2 line 4, field "value date": expected the value date that exists, as YYMMDD, '
        'got "240231"'
    ]
    assert rejection(bai2(["16,175,000000000030000,X,,/"])) == [
        'bank.bai2 line 4, field "funds type": expected a funds type 0, 1, 2, V, S, D or Z, got "X"'
    ]


def test_empty_file_is_refused():
    assert rejection(b"") == [
        'bank.bai2: expected a BAI2 file starting with a 01 file header, got "an empty file"'
    ]


@given(
    st.lists(
        st.tuples(
            st.one_of(st.integers(100, 399), st.integers(400, 699)),
            st.integers(0, 10**13),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_amounts_round_trip_through_a_written_file(transactions):
    records = [
        f"16,{code},{minor:015d},0,REF{i},,TEXT {i}/"
        for i, (code, minor) in enumerate(transactions)
    ]
    (statement,) = read_bai2(bai2(records), file_name="x")
    expected = [
        Decimal(minor).scaleb(-2) * (1 if code < 400 else -1) for code, minor in transactions
    ]
    assert [e.amount for e in statement.entries] == expected
    assert [e.bank_reference for e in statement.entries] == [f"REF{i}" for i in range(len(records))]
