"""The camt.053.001.02 writer: what it writes, the project's own reader reads back unchanged."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from dunwell.formats.bank import read_statements
from dunwell.formats.camt import read_camt
from dunwell.formats.camt_write import write_camt053
from dunwell.formats.statements import (
    Entry,
    EntryStatus,
    ReferredDocument,
    Remittance,
    Statement,
    Transaction,
)

DAY = date(2026, 11, 20)


def statement(*entries: Entry, statement_id: str = "NW-2026-11-20") -> Statement:
    total = sum((e.amount for e in entries if e.status == EntryStatus.BOOKED), Decimal(0))
    return Statement(
        format="camt.053", statement_id=statement_id, account_iban="DE89370400440532013000",
        account_number="", currency="EUR", entries=entries,
        opening_balance=Decimal("-1250.40"), closing_balance=Decimal("-1250.40") + total,
        opening_on=DAY, closing_on=DAY, created_at="2026-11-20T18:00:00",
    )  # fmt: skip


def entry(index: int, amount: str, *transactions: Transaction, **extra: object) -> Entry:
    return Entry(index=index, amount=Decimal(amount), currency="EUR", value_on=DAY,
                 booked_on=DAY, bank_reference=f"2026112000{index:04d}",
                 transactions=transactions, **extra)  # type: ignore[arg-type]  # fmt: skip


def without_lines(statements: list[Statement]) -> list[Statement]:
    return [
        dataclasses.replace(
            s, line=None, entries=tuple(dataclasses.replace(e, line=None) for e in s.entries)
        )
        for s in statements
    ]


RF_CREDIT = entry(
    1, "1190.00",
    Transaction(
        amount=Decimal("1190.00"), currency="EUR", end_to_end_id="E2E-4711",
        counterparty_name="Müller & Söhne <Antriebstechnik> GmbH",
        counterparty_iban="DE02120300000000202051", counterparty_bic="BYLADEM1001",
        remittance=Remittance(structured=("RF18539007547034",)),
        references=(("AcctSvcrRef", "BANK-1"), ("TxId", "TX-1")),
    ),
    bank_code="PMNT/RCDT/ESCT",
)  # fmt: skip
TEXT_CREDIT = entry(
    2, "4350.77",
    Transaction(
        amount=Decimal("4350.77"), currency="EUR",
        counterparty_name="Stadtwerke Bielefeld GmbH", counterparty_iban="DE75512108001245126199",
        ultimate_party="Stadtwerke Bielefeld, Netze",
        remittance=Remittance(unstructured="Re.-Nr. 815 und 816 " + "Buchungstext " * 15 + "Ende"),
        instructed_amount=Decimal("4358.27"), instructed_currency="EUR", charges=Decimal("7.50"),
    ),
    bank_code="PMNT/RCDT/ESCT", text="GUTSCHRIFT SEPA",
)  # fmt: skip
BATCH = entry(
    3, "3483.00",
    Transaction(amount=Decimal("2187.00"), currency="EUR", counterparty_name="A",
                remittance=Remittance(documents=(ReferredDocument(
                    "NW-2026-000815", "CINV", Decimal("2187.00"), Decimal("44.63"), DAY),))),
    Transaction(amount=Decimal("1296.00"), currency="EUR", counterparty_name="B",
                counterparty_account="0532013000",
                remittance=Remittance(structured=("RF71NW2026000816", "RF18539007547034"))),
)  # fmt: skip
FEE = entry(4, "-12.90", bank_code="ACMT/MDOP/CHRG", text="Kontoführung November")
RETURN = entry(
    5, "-250.00",
    Transaction(amount=Decimal("-250.00"), currency="EUR", counterparty_name="Koch KG",
                counterparty_iban="DE02120300000000202051", return_reason="AC04",
                references=(("MndtId", "M-1"),)),
    reversal=True, bank_code="PMNT/RDDT/ESDD",
)  # fmt: skip
PENDING = entry(6, "99.99", status=EntryStatus.PENDING)


def test_a_written_statement_reads_back_as_the_same_values() -> None:
    written = [
        statement(RF_CREDIT, TEXT_CREDIT, BATCH, FEE, RETURN, PENDING),
        statement(statement_id="NW-2026-11-21"),  # a day without entries
    ]
    data = write_camt053(written, message_id="MSG-1", created_at="2026-11-20T18:00:00")
    read = read_camt(data, file_name="stmt.xml")
    # an entry without details reads as one bare transaction of the entry's amount
    expected_fee = dataclasses.replace(
        FEE, transactions=(Transaction(amount=Decimal("-12.90"), currency="EUR"),)
    )
    expected_pending = dataclasses.replace(
        PENDING, transactions=(Transaction(amount=Decimal("99.99"), currency="EUR"),)
    )
    first = dataclasses.replace(
        written[0], entries=(RF_CREDIT, TEXT_CREDIT, BATCH, expected_fee, RETURN, expected_pending)
    )
    assert without_lines(read) == [first, written[1]]
    assert read[0].reconciles() is True
    assert read[0].closing_balance == Decimal("7510.47")


def test_the_file_is_a_camt053_v02_that_detection_recognises_and_escapes_its_text() -> None:
    data = write_camt053([statement(RF_CREDIT)], message_id="M", created_at="2026-11-20T18:00:00")
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert b'xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"' in data
    assert b"M\xc3\xbcller &amp; S\xc3\xb6hne &lt;Antriebstechnik&gt; GmbH" in data
    assert b"<Sts>BOOK</Sts>" in data and b"<Cd>SCOR</Cd>" in data
    (read,) = read_statements(data, "auszug.xml", None)
    assert read.format == "camt.053"
    assert read.entries[0].transactions[0].remittance.structured == ("RF18539007547034",)


def test_long_free_text_is_cut_into_pieces_of_at_most_140_characters() -> None:
    data = write_camt053([statement(TEXT_CREDIT)], message_id="M", created_at="x")
    pieces = [p.split(b"</Ustrd>")[0] for p in data.split(b"<Ustrd>")[1:]]
    assert len(pieces) == 2 and all(len(p) <= 140 for p in pieces)


def test_an_entry_whose_transactions_do_not_add_up_is_refused() -> None:
    broken = dataclasses.replace(BATCH, amount=Decimal("3000.00"))
    with pytest.raises(ValueError, match=r"do not add up to 3000\.00"):
        write_camt053([statement(broken)], message_id="M", created_at="x")
