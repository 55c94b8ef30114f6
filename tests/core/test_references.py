import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso11649

from dunwell.core.references import format_rf, is_valid_rf, rf_reference


def test_rf_reference_gets_check_digits_71_when_the_base_is_2348231():
    assert rf_reference("2348231") == "RF712348231"
    assert is_valid_rf("RF712348231")


@pytest.mark.parametrize(
    ("reference", "valid"),
    [
        ("RF712348231", True),
        ("RF18539007547034", True),
        ("RF18 5390 0754 7034", True),
        ("RF17539007547034", False),
        ("RF712348232", False),
        ("", False),
    ],
)
def test_is_valid_rf_follows_domain_vectors_when_checking_references(reference, valid):
    assert is_valid_rf(reference) is valid


def test_format_rf_groups_by_four_when_printing():
    assert format_rf("RF18539007547034") == "RF18 5390 0754 7034"


def test_rf_reference_ignores_separators_and_case_when_given_a_printed_base():
    assert rf_reference("inv-2025 0042") == rf_reference("INV20250042")


@pytest.mark.parametrize("base", ["", "-", "A" * 22, "ÄBC"])
def test_rf_reference_is_refused_when_the_base_is_empty_too_long_or_not_ascii(base):
    with pytest.raises(ValueError, match="1 to 21"):
        rf_reference(base)


@given(base=st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=21))
def test_every_generated_reference_validates_when_the_base_is_alphanumeric(base):
    reference = rf_reference(base)
    assert iso11649.is_valid(reference)
    assert is_valid_rf(reference)
    assert reference.endswith(base)
    printed = format_rf(reference)
    groups = printed.split(" ")
    assert "".join(groups) == reference
    assert all(len(g) == 4 for g in groups[:-1])
    assert 1 <= len(groups[-1]) <= 4


@given(
    base=st.text(alphabet=string.digits, min_size=1, max_size=21),
    position=st.integers(min_value=0, max_value=20),
    replacement=st.sampled_from(string.digits),
)
def test_a_reference_fails_validation_when_one_digit_of_the_base_changes(
    base, position, replacement
):
    reference = rf_reference(base)
    index = 4 + position % len(base)
    if reference[index] == replacement:
        return
    altered = reference[:index] + replacement + reference[index + 1 :]
    assert not is_valid_rf(altered)
