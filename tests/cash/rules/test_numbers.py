import pytest

from dunwell.cash.rules.numbers import NumberKey, number_key, numbers_in_text


def keys(text):
    return [(t.key.prefix, t.key.core) for t in numbers_in_text(text.upper())]


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("INV-000123", NumberKey("INV", "123", "000123")),
        ("inv 123", NumberKey("INV", "123", "123")),
        ("2024/0815", NumberKey("", "20240815", "20240815")),
        ("RE-2024-0815", NumberKey("RE", "20240815", "20240815")),
        ("123A", NumberKey("", "123A", "123A")),
        ("0", NumberKey("", "0", "0")),
        ("ABC", NumberKey("ABC", "", "")),
    ],
)
def test_invoice_numbers_reduce_to_prefix_and_core(number, key):
    assert number_key(number) == key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("INV-000123", [("INV", "123")]),
        ("inv 123", [("INV", "123")]),
        ("Rechnung 123 und 124", [("RECHNUNG", "123"), ("RECHNUNG", "124")]),
        ("FACTUUR 201403110, 201403113", [("FACTUUR", "201403110"), ("FACTUUR", "201403113")]),
        ("Invoice no. 2024/0815", [("NO", "20240815")]),
        ("INV-1001 INV-1004 INV-1007", [("INV", "1001"), ("INV", "1004"), ("INV", "1007")]),
        ("INV-1001, 1004 and 1007", [("INV", "1001"), ("INV", "1004"), ("INV", "1007")]),
        ("#4711", [("", "4711")]),
    ],
)
def test_invoice_numbers_are_found_in_any_common_formatting(text, expected):
    assert keys(text) == expected


def test_a_short_number_after_a_word_like_invoice_is_labelled():
    labelled = {t.key.core: t.labelled for t in numbers_in_text("RECHNUNG 123 ORDER 456 789")}
    assert labelled == {"123": True, "456": False, "789": False}


@pytest.mark.parametrize(
    "text",
    [
        "vom 09.03.2025",
        "value 2025-03-09",
        "Betrag 1.250,00 EUR",
        "amount 1,250.00",
        "7250.00",
        "EUR 7250",
        "Skonto 2 %",
        "Tel +49 89 1234567",
        "IBAN DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
    ],
)
def test_dates_amounts_phone_numbers_and_ibans_are_not_invoice_numbers(text):
    assert keys(text) == []


def test_iban_shaped_text_that_fails_the_check_stays_a_number():
    assert keys("RE2024000123457") == [("RE", "2024000123457")]


def test_number_beside_an_amount_and_a_date_survives():
    assert keys("Rechnung 4711 ueber 1.250,00 EUR vom 09.03.2025") == [("RECHNUNG", "4711")]


def test_numbers_joined_by_a_slash_are_also_read_one_by_one():
    (token,) = numbers_in_text("RECHNUNG 123/124")
    assert token.key.core == "123124"
    assert [part.core for part in token.parts] == ["123", "124"]


def test_ocr_confusions_are_read_as_digits_and_flagged():
    (token,) = numbers_in_text("INV-1O23")
    assert (token.key, token.ocr) == (NumberKey("INV", "1023", "1023"), True)
    (token,) = numbers_in_text("INV 2O24O815")
    assert token.key.core == "20240815"


def test_plain_words_are_not_read_as_ocr_numbers():
    assert numbers_in_text("OIL LOL BILL") == []
