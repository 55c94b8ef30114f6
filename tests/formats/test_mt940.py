"""MT940: the shared samples (Rabobank, Knab, three banks' cmxl file) and a German SEPA
statement written here; then what is refused, naming the line of the tag."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dunwell.formats.errors import FileRejected
from dunwell.formats.mt940 import read_mt940
from dunwell.formats.statements import Remittance, Statement, Transaction


def sample(shared_data: Path, name: str) -> list[Statement]:
    return read_mt940((shared_data / "bank" / "mt940" / name).read_bytes(), file_name=name)


def rejection(data: bytes, file_name: str = "stmt.sta") -> list[str]:
    with pytest.raises(FileRejected) as caught:
        read_mt940(data, file_name=file_name)
    return [str(error) for error in caught.value.errors]


def lines(shared_data: Path, name: str) -> list[bytes]:
    return (shared_data / "bank" / "mt940" / name).read_bytes().split(b"\n")


# -- the samples ---------------------------------------------------------------------------------


def test_rabobank_reads_dutch_structured_details_and_the_iban_after_the_statement_line(
    shared_data,
):
    first, second = sample(shared_data, "wolph_jejik_rabobank-iban.sta")
    assert (first.account_iban, first.opening_balance, first.closing_balance) == (
        "NL71RABO0123456789",
        Decimal("1000.00"),
        Decimal("965.00"),
    )
    assert (second.opening_on, second.closing_on) == (date(2013, 1, 8), date(2013, 1, 15))
    eref, named = first.entries
    assert (eref.amount, eref.value_on, eref.bank_code, eref.line) == (
        Decimal("-25.00"),
        date(2013, 1, 1),
        "N102",
        6,
    )
    assert eref.transactions[0] == Transaction(
        amount=Decimal("-25.00"),
        currency="EUR",
        end_to_end_id="01-01-2013 12:00 0030000987654321",
        counterparty_name="CONTRA ACCOUNT HOLDER",  # joined across the wrapped line
        counterparty_iban="NL70ABNA0987654321",  # from the line after :61:
        references=(("customer_reference", "EREF"),),
    )
    (transaction,) = named.transactions
    assert (transaction.counterparty_name, transaction.counterparty_account) == (
        "JOHN DOE",
        "P001234567",
    )
    assert transaction.remittance == Remittance(unstructured="Reference 201301234")


def test_knab_reads_rek_and_naam_and_amounts_without_decimals(shared_data):
    first, second = sample(shared_data, "wolph_jejik_knab.sta")
    assert (first.opening_balance, first.closing_balance) == (Decimal(0), Decimal(500))
    assert first.entries[0].transactions[0].remittance.unstructured == (
        "HIER EEN MOOIE OMSCHRIJVING IN HOOFDLETTERS WANT DAT IS ZOALS DE NEDERLANDSE BANKEN "
        "COMMUNICEREN"
    )
    assert second.reconciles() is False  # the README: 3058.98 - 7260 + 500 is not 798.98
    invoices, media = second.entries
    assert (invoices.amount, invoices.bank_reference) == (Decimal(-7260), "B4G29PGCVO7Q06US")
    assert invoices.transactions[0] == Transaction(
        amount=Decimal(-7260),
        currency="EUR",
        counterparty_name="PICQER",
        counterparty_iban="NL65INGB0123456789",
        remittance=Remittance(unstructured="FACTUUR 201403110, 201403113"),
    )
    assert media.amount == Decimal(500)
    assert media.transactions[0].counterparty_name == "MMS ONLINE NEDERLAND B.V."
    assert media.transactions[0].counterparty_iban == "NL84INGB0234561789"
    assert media.transactions[0].references == (("customer_reference", "29-07-2014 10:05"),)


def test_cmxl_german_statement_reads_gvc_fields_wrapped_across_lines(shared_data):
    dem, eur, _ = sample(shared_data, "wolph_cmxl_mt940.sta")
    assert (dem.currency, dem.account_number, dem.statement_id) == (
        "DEM",
        "45050050/76198810",
        "131110/27/01",
    )
    assert (
        dem.entries[0].transactions[0].remittance.unstructured == "PN5477SCHECK-NR. 0000016703074"
    )
    assert dem.entries[0].transactions[0].references == (
        ("customer_reference", "16703074"),
        ("GVC", "999"),
    )
    # The 62F date 131017 is earlier than some entries (24 and 27 October): read as given.
    assert dem.closing_on == date(2013, 10, 17)
    assert max(e.value_on for e in dem.entries) == date(2013, 10, 27)
    rent, salary = eur.entries
    assert eur.closing_on == date(2002, 11, 30)  # written 021131: 31 November
    assert (rent.amount, rent.value_on, rent.booked_on, rent.text) == (
        Decimal(-800),
        date(2002, 11, 1),
        date(2002, 11, 2),
        "DAUERAUFTRAG",
    )
    assert rent.transactions[0].counterparty_account == "10020030/234567"  # ?30 BLZ / ?31
    assert salary.transactions[0] == Transaction(
        amount=Decimal(3000),
        currency="EUR",
        counterparty_name="MUELLER",
        counterparty_account="50060400/0847564700",
        remittance=Remittance(unstructured="Gehalt OktoberFirmaMustermannGmbH"),
        references=(("GVC", "051"),),
    )


def test_cmxl_polish_statement_reads_the_iban_of_field_38_and_the_non_ascii_text(shared_data):
    pln = sample(shared_data, "wolph_cmxl_mt940.sta")[2]
    card, transfer, interest = pln.entries
    assert card.transactions[0].counterparty_iban == "PL08106000760000777777777777"
    assert card.transactions[0].counterparty_name == (
        "HUTA SZKLA TOPIC ULPRZEMYSLOWA 67 32-669 WROCLAW"
    )
    assert card.text == "Wyplata-(dysp/przel); Card transaction"  # ?00 and the line after :61:
    assert card.transactions[0].remittance.unstructured.endswith(
        "I OPORNIKI-500 SZT GTX847 FAKTURA 333/2003."
    )
    assert transfer.amount == Decimal("-10000.00")
    assert interest.text == "Uznanie kwotą odsetek; Interest credit"
    assert pln.reconciles() is True


# -- a German SEPA statement ---------------------------------------------------------------------

SEPA = """{1:F01COBADEFFAXXX0000000000}{2:O9400000000000COBADEFFXXXX00000000000000000000N}{4:
:20:STARTUMS
:25:DE89370400440532013000EUR
:28C:00012/001
:60F:C240308EUR1000,00
:61:2403090311CR2450,00NTRFNONREF//BANKREF-1
:86:166?00SEPA-GUTSCHRIFT?109249?20EREF+RE-2024-0001?21MREF+M-77?22CRED+DE98ZZZ09999999
999?23SVWZ+Rechnung INV-1001 und?24 INV-1002?25ABWA+Acme Holding?30COBADEFFXXX?31DE89370
400440532013000?32ACME TRADING GMBH
:61:240310RC30,00NRTINONREF
:86:109?00SEPA-LASTSCHRIFT RETOURE?20EREF+NOTPROVIDED?21SVWZ+Lastschrift Retoure?30DEUT
DEFF?31DE02120300000000202051?32BETA GMBH
:62F:C240310EUR3420,00
:86:Informationen zum Kontoauszug: keine
-}
"""


def test_sepa_tags_in_the_purpose_are_read_across_subfields():
    (statement,) = read_mt940(SEPA.encode(), file_name="sepa.sta")
    assert (statement.account_iban, statement.account_number) == ("DE89370400440532013000", "")
    assert statement.statement_id == "STARTUMS/00012/001"
    credit = statement.entries[0]
    assert (credit.value_on, credit.booked_on, credit.bank_reference, credit.line) == (
        date(2024, 3, 9),
        date(2024, 3, 11),
        "BANKREF-1",
        6,
    )
    assert credit.transactions[0] == Transaction(
        amount=Decimal("2450.00"),
        currency="EUR",
        end_to_end_id="RE-2024-0001",
        counterparty_name="ACME TRADING GMBH",
        counterparty_iban="DE89370400440532013000",
        counterparty_bic="COBADEFFXXX",
        ultimate_party="Acme Holding",
        remittance=Remittance(unstructured="Rechnung INV-1001 und INV-1002"),
        references=(("GVC", "166"), ("MREF", "M-77"), ("CRED", "DE98ZZZ09999999999")),
    )


def test_reversal_keeps_the_booked_sign_and_statement_information_is_not_an_entry_detail():
    (statement,) = read_mt940(SEPA.encode(), file_name="sepa.sta")
    returned = statement.entries[1]
    assert (returned.amount, returned.reversal, returned.bank_code) == (
        Decimal("-30.00"),
        True,
        "NRTI",
    )
    assert returned.transactions[0].end_to_end_id == ""
    assert returned.transactions[0].remittance.unstructured == "Lastschrift Retoure"
    assert statement.reconciles() is True


def test_years_before_2000_are_read_as_such():
    data = SEPA.replace("C240308EUR", "C991231EUR").encode()
    assert read_mt940(data, file_name="x")[0].opening_on == date(1999, 12, 31)


def test_windows_1252_text_is_read():
    data = SEPA.replace("Acme Holding", "Müller Holding").encode("cp1252")
    entry = read_mt940(data, file_name="x")[0].entries[0]
    assert entry.transactions[0].ultimate_party == "Müller Holding"


# -- refusals --------------------------------------------------------------------------------------


def test_statement_without_closing_balance_is_refused_as_truncated(shared_data):
    truncated = b"\n".join(lines(shared_data, "wolph_jejik_knab.sta")[:19])
    assert rejection(truncated, "knab.sta") == [
        "knab.sta line 19: expected the closing balance (:62F: or :62M:) of the statement from "
        'line 10, got "the end of the file"'
    ]


def test_statement_cut_before_the_next_one_is_refused_naming_both():
    data = SEPA.replace(":62F:C240310EUR3420,00\n", "").replace("-}\n", SEPA.split("{4:\n")[1])
    assert rejection(data.encode()) == [
        "stmt.sta line 13: expected the closing balance (:62F: or :62M:) of the statement from "
        'line 2, got "the next statement (:20:)"'
    ]


def test_impossible_date_is_refused_naming_the_tag_and_line():
    data = SEPA.replace(":60F:C240308EUR", ":60F:C241308EUR").encode()
    assert rejection(data) == [
        'stmt.sta line 5, field ":60F:": expected a date that exists, as YYMMDD, got "241308"'
    ]


def test_wrong_amount_and_missing_type_are_refused():
    data = SEPA.replace("CR2450,00NTRF", "CR2,450,00NTRF").encode()
    assert rejection(data) == [
        'stmt.sta line 6, field ":61:": expected an amount like 1234,56, got "2,450,00"'
    ]
    data = SEPA.replace("RC30,00NRTINONREF", "RC30,00//X").encode()
    assert rejection(data) == [
        'stmt.sta line 10, field ":61:": expected a transaction type like NTRF after the amount, '
        'got "30,00"'
    ]


def test_statement_line_that_does_not_parse_is_refused():
    data = SEPA.replace(":61:240310RC30,00NRTINONREF", ":61:TEN EURO").encode()
    assert rejection(data) == [
        'stmt.sta line 10, field ":61:": expected a statement line like '
        '1403010301C500,00NTRFNONREF//BANKREF, got "TEN EURO"'
    ]


def test_more_decimals_than_the_currency_has_are_refused():
    data = SEPA.replace("RC30,00NRTI", "RC30,001NRTI").encode()
    assert rejection(data) == [
        'stmt.sta line 10, field ":61:": expected an amount with at most 2 decimals for EUR, '
        'got "30,001"'
    ]


def test_file_without_statements_is_refused():
    assert rejection(b"{1:F01}\r\n:25:NL71RABO0123456789\r\n") == [
        'stmt.sta: expected an MT940 statement starting with a :20: line, got ":25:NL71RABO0123456789"'
    ]


DUTCH = """:20:ABN
:25:NL77ABNA0574908765
:28C:1
:60F:C240301EUR100,00
:61:240302C25,00N654NONREF
:86:/TRTP/SEPA OVERBOEKING/IBAN/NL46ABNA0499998748/BIC/ABNANL2A/NAME/
TEST CUSTOMER/REMI/INV-1001 INV-1002/EREF/NOTPROVIDED
:61:240303C10,00N654NONREF
:86:/CNTP/NL65INGB0123456789/INGBNL2A/PICQER BV/AMSTERDAM/REMI/USTD//F
ACTUUR 2024-77/ULTD/NAME/Picqer Holding/MARF/MANDATE-9/
:61:240304C5,00N654NONREF
:86:/REMI/STRD/CUR/RF18539007547034/NAME/BETA/
:62F:C240304EUR140,00
"""


def test_abn_amro_and_ing_structured_details_are_read():
    (statement,) = read_mt940(DUTCH.encode(), file_name="nl.sta")
    abn, ing, structured = (entry.transactions[0] for entry in statement.entries)
    assert (abn.counterparty_name, abn.counterparty_iban, abn.counterparty_bic) == (
        "TEST CUSTOMER",
        "NL46ABNA0499998748",
        "ABNANL2A",
    )
    assert (abn.remittance.unstructured, abn.end_to_end_id) == ("INV-1001 INV-1002", "")
    assert statement.entries[0].text == "SEPA OVERBOEKING"
    assert (ing.counterparty_name, ing.counterparty_iban, ing.counterparty_bic) == (
        "PICQER BV",
        "NL65INGB0123456789",
        "INGBNL2A",
    )
    assert ing.remittance.unstructured == "FACTUUR 2024-77"
    assert (ing.ultimate_party, ing.references) == ("Picqer Holding", (("MARF", "MANDATE-9"),))
    assert structured.remittance == Remittance(structured=("RF18539007547034",))
    assert structured.counterparty_name == "BETA"
