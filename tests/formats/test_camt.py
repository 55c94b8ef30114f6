"""camt.053 / camt.054: the shared samples (v02, v04) and a v08 statement written here that
uses what the samples do not: Sts/Cd, Pty/Nm, RfrdDocInf with amounts, charges, returns."""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dunwell.formats.camt import read_camt
from dunwell.formats.errors import FileRejected
from dunwell.formats.statements import EntryStatus, ReferredDocument, Remittance, Transaction


def sample(shared_data: Path, name: str) -> bytes:
    return (shared_data / "bank" / name).read_bytes()


def rejection(data: bytes, file_name: str = "stmt.xml") -> list[str]:
    with pytest.raises(FileRejected) as caught:
        read_camt(data, file_name=file_name)
    return [str(error) for error in caught.value.errors]


def edited(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data, f"{old!r} is no longer in the sample"
    return data.replace(old, new, 1)


# -- the samples ---------------------------------------------------------------------------------


def test_oca_batch_credit_reads_with_its_two_debtors_and_isr_references(shared_data):
    (statement,) = read_camt(
        sample(shared_data, "camt053/oca_test-camt053-txdtls.xml"), file_name="x"
    )
    assert (statement.statement_id, statement.account_iban, statement.currency) == (
        "20170323123456789012345",
        "CH1111000000123456789",
        "CHF",
    )
    assert (statement.opening_balance, statement.closing_balance) == (
        Decimal("75960.15"),
        Decimal("79443.15"),
    )
    assert (statement.opening_on, statement.closing_on) == (date(2017, 3, 22), date(2017, 3, 23))
    assert statement.reconciles() is True
    (entry,) = statement.entries
    assert entry.value_on == date(2017, 3, 23)  # the value date, not the booking date
    assert entry.booked_on == date(2017, 3, 22)
    assert entry.bank_reference == "20170323001234567891234567891234"
    assert entry.bank_code == "PMNT/RCDT/VCOM"
    assert entry.text.startswith("CRÉDIT GROUPÉ BVR TRAITEMENT DU 22.03.2017")
    assert [
        (t.amount, t.counterparty_name, t.counterparty_iban, t.counterparty_bic)
        for t in entry.transactions
    ] == [
        (Decimal("2187.00"), "Banque Cantonale Vaudoise", "CH2222000000123456789", "POFICHBEXXX"),
        (Decimal("1296.00"), "Banque Cantonale Vaudoise", "CH3333000000123456789", "POFICHBEYYY"),
    ]
    assert entry.transactions[0].remittance == Remittance(
        structured=("302388292000011111111111111",)
    )


def test_genkgo_v02_file_has_two_statements_with_a_credit_and_a_debit(shared_data):
    data = sample(shared_data, "camt053/genkgo_camt053.v2.multi.statement.xml")
    first, second = read_camt(data, file_name="x")
    assert [(s.statement_id, s.opening_balance, s.closing_balance) for s in (first, second)] == [
        ("253EURNL26VAYB8060476890", Decimal("18.15"), Decimal("27.00")),
        ("254EURNL26VAYB8060476890", Decimal("27.00"), Decimal("20.00")),
    ]
    credit, debit = first.entries[0], second.entries[0]
    assert (credit.amount, debit.amount) == (Decimal("8.85"), Decimal("-7.00"))
    assert (credit.value_on, credit.booked_on) == (date(2015, 1, 2), date(2014, 12, 31))
    assert credit.bank_code == debit.bank_code == "544"  # proprietary code
    assert credit.transactions[0].end_to_end_id == "000000001"
    assert credit.transactions[0].remittance.unstructured == "Transaction Description 1"
    # A debit's counterparty is the creditor. The credit names only a creditor too, so its
    # counterparty (the debtor) stays empty: the rule is not bent for a file that breaks it.
    assert (debit.transactions[0].counterparty_name, debit.transactions[0].counterparty_iban) == (
        "Company Name 2",
        "NL56AGDH9619008421",
    )
    assert credit.transactions[0].counterparty_name == ""
    assert first.created_at == "2015-03-10T18:43:50+00:00"


def test_oca_camt054_notification_names_its_debtor_and_qrr_reference(shared_data):
    (notification,) = read_camt(sample(shared_data, "camt054/oca_test-camt054.xml"), file_name="x")
    assert notification.format == "camt.054"
    assert notification.currency == "EUR"  # no Acct/Ccy and no balance: the entry's currency
    assert notification.reconciles() is None
    (entry,) = notification.entries
    assert entry.bank_reference == "98888208N8"
    assert entry.transactions == (
        Transaction(
            amount=Decimal("5.00"),
            currency="EUR",
            end_to_end_id="ENDTOENDID-01",
            counterparty_name="Test Customer",
            counterparty_iban="NL46ABNA0499998748",
            remittance=Remittance(structured=("000000000000000000000000003",)),
            references=(
                ("AcctSvcrRef", "15180015077602405"),
                ("InstrId", "MIB InstrId305-312MM20211231v1"),
                ("Prtry", "20220120000000000000001"),
            ),
        ),
    )


# -- a v08 statement ----------------------------------------------------------------------------

V08 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-03-11T06:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-2024-03-10</Id>
      <Acct><Id><Othr><Id>0123456789</Id></Othr></Id><Ccy>EUR</Ccy></Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">100.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Dt><Dt>2024-03-09</Dt></Dt>
      </Bal>
      <Bal>
        <Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">3350.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><DtTm>2024-03-10T23:59:59</DtTm></Dt>
      </Bal>
      <Ntry>
        <Amt Ccy="EUR">3480.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2024-03-10</Dt></BookgDt>
        <ValDt><DtTm>2024-03-09T22:30:00-05:00</DtTm></ValDt>
        <AcctSvcrRef>E1</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId><TxId>TX-9</TxId><UETR>8a562c67-ca16-48ba-b074-65581be6f011</UETR></Refs>
          <Amt Ccy="EUR">3480.00</Amt>
          <AmtDtls><InstdAmt><Amt Ccy="USD">3800.00</Amt></InstdAmt></AmtDtls>
          <Chrgs><TtlChrgsAndTaxAmt Ccy="EUR">12.50</TtlChrgsAndTaxAmt></Chrgs>
          <RltdPties>
            <Dbtr><Pty><Nm>Acme Trading GmbH</Nm></Pty></Dbtr>
            <DbtrAcct><Id><IBAN>de89 3704 0044 0532 0130 00</IBAN></Id></DbtrAcct>
            <UltmtDbtr><Pty><Nm>Acme Holding</Nm></Pty></UltmtDbtr>
            <Cdtr><Pty><Nm>Us</Nm></Pty></Cdtr>
          </RltdPties>
          <RltdAgts><DbtrAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></DbtrAgt></RltdAgts>
          <RmtInf>
            <Ustrd>INV-1001</Ustrd><Ustrd>INV-1002</Ustrd>
            <Strd>
              <RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-1001</Nb><RltdDt>2024-02-01</RltdDt></RfrdDocInf>
              <RfrdDocAmt><DscntApldAmt><Amt Ccy="EUR">50.00</Amt></DscntApldAmt><RmtdAmt Ccy="EUR">2450.00</RmtdAmt></RfrdDocAmt>
              <CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp><Ref>RF18539007547034</Ref></CdtrRefInf>
            </Strd>
            <Strd>
              <RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-1002</Nb></RfrdDocInf>
              <RfrdDocAmt><RmtdAmt Ccy="EUR">1030.00</RmtdAmt></RfrdDocAmt>
            </Strd>
          </RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">30.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <RvslInd>true</RvslInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2024-03-10</Dt></BookgDt>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>E2E-77</EndToEndId><MndtId>MANDATE-5</MndtId></Refs>
          <RltdPties>
            <Dbtr><Pty><Nm>Beta SARL</Nm></Pty></Dbtr>
            <DbtrAcct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></DbtrAcct>
          </RltdPties>
          <RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">99.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>PDNG</Cd></Sts>
        <ValDt><Dt>2024-03-12</Dt></ValDt>
        <AddtlNtryInf>Incoming, not yet booked</AddtlNtryInf>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def test_v08_statement_reads_account_number_and_previous_closing_as_opening():
    (statement,) = read_camt(V08, file_name="v08.xml")
    assert (statement.account_iban, statement.account_number) == ("", "0123456789")
    assert statement.opening_balance == Decimal("-100.00")  # PRCD, a DBIT balance
    assert statement.closing_on == date(2024, 3, 10)
    assert statement.created_at == "2024-03-11T06:00:00+01:00"
    # -100.00 + 3480.00 - 30.00 = 3350.00; the pending entry does not count
    assert statement.reconciles() is True


def test_v08_credit_reads_debtor_references_charges_and_referred_documents():
    credit = read_camt(V08, file_name="v08.xml")[0].entries[0]
    assert credit.value_on == date(2024, 3, 9)  # the day of ValDt/DtTm as written
    assert credit.transactions == (
        Transaction(
            amount=Decimal("3480.00"),
            currency="EUR",
            end_to_end_id="",
            counterparty_name="Acme Trading GmbH",
            counterparty_iban="DE89370400440532013000",
            counterparty_bic="COBADEFFXXX",
            ultimate_party="Acme Holding",
            remittance=Remittance(
                structured=("RF18539007547034",),
                unstructured="INV-1001 INV-1002",
                documents=(
                    ReferredDocument(
                        "INV-1001", "CINV", Decimal("2450.00"), Decimal("50.00"), date(2024, 2, 1)
                    ),
                    ReferredDocument("INV-1002", "CINV", Decimal("1030.00")),
                ),
            ),
            instructed_amount=Decimal("3800.00"),
            instructed_currency="USD",
            charges=Decimal("12.50"),
            references=(("TxId", "TX-9"), ("UETR", "8a562c67-ca16-48ba-b074-65581be6f011")),
        ),
    )


def test_reversed_debit_keeps_its_sign_and_names_the_debtor_it_returns_to():
    returned = read_camt(V08, file_name="v08.xml")[0].entries[1]
    assert (returned.amount, returned.reversal) == (Decimal("-30.00"), True)
    assert returned.value_on == returned.booked_on == date(2024, 3, 10)  # no ValDt
    (transaction,) = returned.transactions
    assert transaction.amount == Decimal("-30.00")  # one detail without amount: the entry's
    assert (transaction.counterparty_name, transaction.return_reason) == ("Beta SARL", "AC04")
    assert transaction.references == (("MndtId", "MANDATE-5"),)


def test_pending_entry_without_details_gets_one_transaction_and_its_text():
    pending = read_camt(V08, file_name="v08.xml")[0].entries[2]
    assert (pending.status, pending.booked_on, pending.value_on) == (
        EntryStatus.PENDING,
        None,
        date(2024, 3, 12),
    )
    assert pending.text == "Incoming, not yet booked"
    assert pending.transactions == (Transaction(amount=Decimal("99.00"), currency="EUR"),)


def test_v02_text_status_is_read_like_v08_status_code(shared_data):
    data = sample(shared_data, "camt053/genkgo_camt053.v2.multi.statement.xml")
    data = edited(data, b"<Sts>BOOK</Sts>", b"<Sts>INFO</Sts>")
    assert read_camt(data, file_name="x")[0].entries[0].status == EntryStatus.INFO


def test_namespace_does_not_matter():
    expected = read_camt(V08, file_name="x")
    plain = V08.replace(b' xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"', b"")
    assert read_camt(plain, file_name="x") == expected
    prefixed = re.sub(rb"<(/?)(?=[A-Z])", rb"<\1c:", V08).replace(b" xmlns=", b" xmlns:c=")
    prefixed = prefixed.replace(b"<c:TxId>", b"<!-- a comment --><c:TxId>")
    assert prefixed.count(b"<c:") > 100
    assert read_camt(prefixed, file_name="x") == expected


# -- refusals --------------------------------------------------------------------------------------


def test_truncated_statement_is_refused_naming_the_line(shared_data):
    data = sample(shared_data, "camt053/oca_test-camt053-txdtls.xml")
    truncated = b"\n".join(data.split(b"\n")[:120]) + b"\n"
    assert rejection(truncated, "camt.xml") == [
        'camt.xml line 121: expected well-formed XML, got "Premature end of data in tag '
        'PstlAdr line 120"'
    ]


def test_batch_whose_details_do_not_add_up_is_refused(shared_data):
    data = sample(shared_data, "camt053/oca_test-camt053-txdtls.xml")
    data = edited(data, b'<Amt Ccy="CHF">1296.00</Amt>', b'<Amt Ccy="CHF">1200.00</Amt>')
    assert rejection(data) == [
        'stmt.xml line 53, field "BkToCstmrStmt/Stmt/Ntry/NtryDtls": expected transaction '
        'amounts (TxDtls) that add up to the entry amount 3483.00, got "3387.00"'
    ]


def test_wrong_values_are_all_reported_with_their_paths(shared_data):
    data = sample(shared_data, "camt053/genkgo_camt053.v2.multi.statement.xml")
    data = edited(data, b'<Amt Ccy="EUR">8.85</Amt>', b'<Amt Ccy="EUR">8,85</Amt>')
    data = edited(data, b"<CdtDbtInd>DBIT</CdtDbtInd>", b"<CdtDbtInd>DEBIT</CdtDbtInd>")
    data = edited(data, b"<Dt>2015-01-02</Dt>", b"<Dt>2015-02-30</Dt>")
    data = edited(data, b'<Amt Ccy="EUR">7.00</Amt>', b'<Amt Ccy="EUR">7.001</Amt>')
    assert rejection(data) == [
        'stmt.xml line 67, field "BkToCstmrStmt/Stmt[1]/Ntry/Amt": expected an amount like '
        '1234.56, got "8,85"',
        'stmt.xml line 75, field "BkToCstmrStmt/Stmt[1]/Ntry/ValDt/Dt": expected a date that '
        'exists, as YYYY-MM-DD, got "2015-02-30"',
        'stmt.xml line 146, field "BkToCstmrStmt/Stmt[2]/Ntry/Amt": expected an amount with at '
        'most 2 decimals for EUR, got "7.001"',
        'stmt.xml line 147, field "BkToCstmrStmt/Stmt[2]/Ntry/CdtDbtInd": expected CRDT (credit) '
        'or DBIT (debit), got "DEBIT"',
    ]


def test_entry_without_amount_currency_or_status_is_refused():
    data = V08.replace(b'<Amt Ccy="EUR">99.00</Amt>', b"<Amt>99.00</Amt>")
    data = data.replace(b"<Sts><Cd>PDNG</Cd></Sts>", b"<Sts><Cd>LATE</Cd></Sts>")
    assert rejection(data) == [
        'stmt.xml line 65, field "BkToCstmrStmt/Stmt/Ntry[3]/Amt@Ccy": expected the currency in '
        "the attribute Ccy, like EUR",
        'stmt.xml line 67, field "BkToCstmrStmt/Stmt/Ntry[3]/Sts": expected the entry status '
        'BOOK, PDNG, FUTR or INFO, got "LATE"',
    ]


def test_message_that_is_no_camt_statement_is_refused_naming_it():
    data = b'<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">\n<CstmrCdtTrfInitn/></Document>'
    assert rejection(data) == [
        "stmt.xml line 2: expected a camt.053 BkToCstmrStmt or camt.054 BkToCstmrDbtCdtNtfctn "
        'message, got "Document/CstmrCdtTrfInitn"'
    ]


def test_statement_with_a_doctype_is_refused_without_expanding_entities():
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>\n'
        b"<Document><BkToCstmrStmt><Stmt><Id>&b;</Id></Stmt></BkToCstmrStmt></Document>"
    )
    assert rejection(data) == [
        'stmt.xml line 1: expected a bank statement without a DOCTYPE, got "<!DOCTYPE Document>"'
    ]


def test_statement_without_id_or_account_is_refused():
    data = V08.replace(b"<Id>STMT-2024-03-10</Id>", b"").replace(
        b"<Acct><Id><Othr><Id>0123456789</Id></Othr></Id><Ccy>EUR</Ccy></Acct>", b""
    )
    assert rejection(data) == [
        'stmt.xml line 5, field "BkToCstmrStmt/Stmt/Id": expected the statement\'s '
        "identification (Id)",
        'stmt.xml line 5, field "BkToCstmrStmt/Stmt/Acct/Id/IBAN": expected the account '
        "(Acct/Id/IBAN or Acct/Id/Othr/Id)",
    ]


def test_v02_places_of_amount_reference_account_and_charges_are_read(shared_data):
    data = sample(shared_data, "camt053/genkgo_camt053.v2.multi.statement.xml")
    data = edited(
        data,
        b"<RltdPties>\n                            <Cdtr>\n                                <Nm>Company Name 1</Nm>",
        b'<AmtDtls><TxAmt><Amt Ccy="EUR">8.85</Amt></TxAmt></AmtDtls>'
        b'<Chrgs><Amt Ccy="EUR">0.15</Amt></Chrgs><Chrgs><Amt Ccy="EUR">0.10</Amt></Chrgs>'
        b"<RltdPties><Dbtr><Nm>Payer BV</Nm></Dbtr>"
        b"<DbtrAcct><Id><Othr><Id>0499998748</Id></Othr></Id></DbtrAcct>"
        b"<Cdtr><Nm>Company Name 1</Nm>",
    )
    data = edited(
        data,
        b"<Ustrd>Transaction Description 1</Ustrd>",
        b"<Strd><CdtrRefInf><CdtrRefTp><Cd>SCOR</Cd></CdtrRefTp><CdtrRef>RF712348231</CdtrRef>"
        b"</CdtrRefInf></Strd>",
    )
    (transaction,) = read_camt(data, file_name="x")[0].entries[0].transactions
    assert (transaction.amount, transaction.charges) == (Decimal("8.85"), Decimal("0.25"))
    assert (transaction.counterparty_name, transaction.counterparty_iban) == ("Payer BV", "")
    assert transaction.counterparty_account == "0499998748"
    assert transaction.remittance == Remittance(structured=("RF712348231",))


def test_v02_batch_reads_each_detail_amount_from_its_amount_details():
    batch = b"""<Document><BkToCstmrStmt><Stmt><Id>S</Id><Acct><Id><IBAN>NL26VAYB8060476890</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">30.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2015-01-02</Dt></BookgDt>
<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>
<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">10.00</Amt></TxAmt></AmtDtls></TxDtls>
<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">20.00</Amt></TxAmt></AmtDtls></TxDtls>
</NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>"""
    (entry,) = read_camt(batch, file_name="x")[0].entries
    assert [t.amount for t in entry.transactions] == [Decimal("10.00"), Decimal("20.00")]
    missing = batch.replace(b'<AmtDtls><TxAmt><Amt Ccy="EUR">20.00</Amt></TxAmt></AmtDtls>', b"")
    assert rejection(missing) == [
        'stmt.xml line 5, field "BkToCstmrStmt/Stmt/Ntry/NtryDtls/TxDtls[2]/Amt": expected the '
        "transaction amount in EUR (Amt or AmtDtls/TxAmt/Amt)"
    ]
