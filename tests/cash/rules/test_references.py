import pytest

from dunwell.cash.rules.references import (
    Reference,
    normalise_reference,
    parse_reference,
    references_in_text,
)


@pytest.mark.parametrize(
    ("given", "compact"),
    [
        ("RF18 5390 0754 7034", "RF18539007547034"),
        ("rf18-5390-0754-7034", "RF18539007547034"),
        ("+++010/8068/17183+++", "010806817183"),
        ("***010/8068/17183***", "010806817183"),
        ("21 00000 00003 13947 14300 09017", "210000000003139471430009017"),
        ("12345 67890 3", "12345678903"),
        ("  ", ""),
    ],
)
def test_references_are_compared_in_compact_form(given, compact):
    assert normalise_reference(given) == compact


def test_rf_reference_is_valid_when_its_check_digits_agree():
    assert parse_reference("RF18 5390 0754 7034") == Reference("RF18539007547034", "rf", True)
    assert parse_reference("RF71 2348231") == Reference("RF712348231", "rf", True)


def test_rf_reference_with_a_wrong_check_digit_is_invalid():
    assert parse_reference("RF17 5390 0754 7034") == Reference("RF17539007547034", "rf", False)


def test_national_and_unknown_references_are_kept_without_a_verdict():
    assert parse_reference("+++010/8068/17183+++") == Reference("010806817183", "other", None)
    assert parse_reference("INV-1001") == Reference("INV1001", "other", None)
    assert parse_reference(" / ") is None


def test_valid_rf_prints_in_groups_of_four():
    assert Reference("RF18539007547034", "rf", True).shown() == "RF18 5390 0754 7034"


def test_rf_reference_in_text_is_cut_back_to_its_valid_form_when_words_follow():
    found = references_in_text("PAYMENT RF18 5390 0754 7034 INV 17 THANKS")
    assert [f.readings for f in found] == [(Reference("RF18539007547034", "rf", True),)]
    start, end = found[0].span
    assert "PAYMENT RF18 5390 0754 7034 INV 17 THANKS"[start:end].startswith("RF18 5390 0754 7034")


def test_mistyped_rf_reference_in_text_offers_every_cut_longest_first():
    (found,) = references_in_text("RF18 5390 0754 7043")
    assert [r.compact for r in found.readings] == [
        "RF18539007547043",
        "RF1853900754",
        "RF185390",
    ]
    assert not any(r.valid for r in found.readings)


def test_belgian_and_swiss_references_are_found_in_text():
    found = references_in_text(
        "MEDEDELING +++010/8068/17183+++ EN 21 00000 00003 13947 14300 09017"
    )
    assert [f.readings[0].compact for f in found] == [
        "010806817183",
        "210000000003139471430009017",
    ]
