"""Remittance advices: a CSV advice split per payment, and lines pasted from an email."""

from datetime import date
from decimal import Decimal

import pytest

from dunwell.formats.errors import FileRejected, FormatError
from dunwell.formats.remittance import (
    PastedRemittance,
    RemittanceAdvice,
    parse_pasted,
    read_remittance_csv,
)
from dunwell.formats.statements import ReferredDocument

ADVICE = b"""Payment Reference,Payment Date,Payment Amount,Currency,Invoice Number,Invoice Date,Amount Paid,Discount
PAY-778,2024-03-09,3480.00,EUR,INV-1001,2024-02-01,2450.00,50.00
PAY-778,2024-03-09,3480.00,EUR,INV-1002,2024-02-05,1030.00,
PAY-779,2024-03-10,-100.00,EUR,CN-17,,-100.00,
"""


def rejection(data: bytes, **kwargs: str) -> list[str]:
    with pytest.raises(FileRejected) as caught:
        read_remittance_csv(data, file_name="advice.csv", **kwargs)
    return [str(error) for error in caught.value.errors]


def test_advice_rows_are_grouped_by_payment_with_their_documents():
    assert read_remittance_csv(ADVICE, file_name="advice.csv") == [
        RemittanceAdvice(
            payment_key="PAY-778",
            documents=(
                ReferredDocument(
                    "INV-1001",
                    amount=Decimal("2450.00"),
                    discount=Decimal("50.00"),
                    on=date(2024, 2, 1),
                ),
                ReferredDocument("INV-1002", amount=Decimal("1030.00"), on=date(2024, 2, 5)),
            ),
            paid_on=date(2024, 3, 9),
            amount=Decimal("3480.00"),
            currency="EUR",
            line=2,
        ),
        RemittanceAdvice(
            payment_key="PAY-779",
            documents=(ReferredDocument("CN-17", amount=Decimal("-100.00")),),
            paid_on=date(2024, 3, 10),
            amount=Decimal("-100.00"),
            currency="EUR",
            line=4,
        ),
    ]


def test_advice_with_only_invoice_numbers_and_amounts_is_one_payment():
    data = b"Invoice;Paid\n1001;1.250,00\n1002;750,00\n"
    (advice,) = read_remittance_csv(data, file_name="x.csv", decimal_sep=",", thousands_sep=".")
    assert advice.payment_key == ""
    assert [(d.number, d.amount) for d in advice.documents] == [
        ("1001", Decimal("1250.00")),
        ("1002", Decimal("750.00")),
    ]


def test_columns_can_be_named_with_a_mapping():
    data = b"Check,Doc,Net\n5501,A-1,10.00\n"
    (advice,) = read_remittance_csv(
        data, file_name="x.csv", mapping={"Check": "payment_key", "Doc": "number", "Net": "amount"}
    )
    assert (advice.payment_key, advice.documents) == (
        "5501",
        (ReferredDocument("A-1", amount=Decimal("10.00")),),
    )


def test_amounts_paid_that_do_not_add_up_to_the_payment_are_refused():
    data = ADVICE.replace(b"INV-1002,2024-02-05,1030.00", b"INV-1002,2024-02-05,1000.00")
    assert rejection(data) == [
        'advice.csv line 2, field "amount": expected amounts paid that add up to the payment '
        'amount 3480.00, got "3450.00"'
    ]


def test_payment_amount_that_differs_between_rows_is_refused():
    data = ADVICE.replace(
        b"PAY-778,2024-03-09,3480.00,EUR,INV-1002", b"PAY-778,2024-03-09,3500.00,EUR,INV-1002"
    )
    assert rejection(data) == [
        'advice.csv line 3, field "payment_amount": expected the payment amount 3480.00 of '
        'PAY-778, as on line 2, got "3500.00"'
    ]


def test_wrong_values_and_missing_invoice_numbers_are_refused():
    data = b"Invoice Number,Amount Paid,Invoice Date\nINV-1,12x,2024-01-01\n,5.00,\nINV-3,1.00,2024-13-01\n"
    assert rejection(data) == [
        'advice.csv line 2, field "amount": expected a number like 1,234.56, got "12x"',
        'advice.csv line 3, field "number": expected the invoice number',
        'advice.csv line 4, field "document_date": expected a date that exists, like 2013-01-26, '
        'got "2024-13-01"',
    ]
    assert rejection(b"Payment,Amount\nP-1,5.00\n") == [
        'advice.csv line 1: expected the required column number, got "Payment, Amount"'
    ]


# -- pasted lines -----------------------------------------------------------------------------------

EMAIL = """Hi,

please find our payment of 7,250.00 below:

INV-1001   2,500.00
Invoice 1004: 3,000.00 EUR
#1007 - 1,750.00

Total 7,250.00
Kind regards
"""


def test_pasted_lines_give_documents_and_a_total_that_adds_up():
    assert parse_pasted(EMAIL) == PastedRemittance(
        documents=(
            ReferredDocument("INV-1001", amount=Decimal("2500.00")),
            ReferredDocument("1004", amount=Decimal("3000.00")),
            ReferredDocument("1007", amount=Decimal("1750.00")),
        ),
        total=Decimal("7250.00"),
        errors=(),
    )


def test_pasted_lines_with_european_separators():
    pasted = parse_pasted(
        "RE-2024-17  1.750,00\nRE-2024-18 250,50", decimal_sep=",", thousands_sep="."
    )
    assert [(d.number, d.amount) for d in pasted.documents] == [
        ("RE-2024-17", Decimal("1750.00")),
        ("RE-2024-18", Decimal("250.50")),
    ]


def test_pasted_lines_that_cannot_be_read_or_do_not_add_up_are_reported():
    pasted = parse_pasted("INV-1 100.00\nsee attached:  50.00\nINV-2 12.3.4\nTotal 150.00")
    assert pasted.documents == (ReferredDocument("INV-1", amount=Decimal("100.00")),)
    assert pasted.errors == (
        FormatError(
            "pasted text",
            2,
            None,
            "a document number and an amount, like INV-1001  2,500.00",
            "see attached:  50.00",
        ),
        FormatError("pasted text", 3, None, "a number like 1,234.56", "12.3.4"),
        FormatError("pasted text", None, None, "amounts that add up to the total 150.00", "100.00"),
    )
