import hashlib
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso11649

from dunwell.core.references import (
    BASE_DIGITS,
    KidCheck,
    Scheme,
    find_references,
    format_reference,
    format_rf,
    is_qr_iban,
    is_valid,
    is_valid_kid,
    is_valid_rf,
    kid_check_digit,
    kid_reference,
    national_reference,
    national_scheme,
    ogm_reference,
    parse_reference,
    qrr_reference,
    rf_reference,
    viite_reference,
)


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


# -- national schemes (DOMAIN.md 4.2, test vectors 7.2 item 8) ---------------------------------


@pytest.mark.parametrize(
    ("text", "scheme", "valid"),
    [
        ("010806817183", Scheme.BE_OGM, True),
        ("+++010/8068/17183+++", Scheme.BE_OGM, True),
        ("***010/8068/17183***", Scheme.BE_OGM, True),
        ("010/8068/17184", Scheme.BE_OGM, False),
        ("210000000003139471430009017", Scheme.CH_QRR, True),
        ("21 00000 00003 13947 14300 09017", Scheme.CH_QRR, True),
        ("210000000003139471430009016", Scheme.CH_QRR, False),
        ("123453", Scheme.FI_VIITE, True),
        ("12 34561", Scheme.FI_VIITE, True),
        ("00000000000001234561", Scheme.FI_VIITE, True),
        ("123454", Scheme.FI_VIITE, False),
        ("1234566", Scheme.NO_KID, True),  # MOD10
        ("1234560", Scheme.NO_KID, True),  # MOD11
        ("1234567", Scheme.NO_KID, False),
        ("RF712348231", Scheme.RF, True),
        ("RF17539007547034", Scheme.RF, False),
    ],
)
def test_domain_vectors_validate_in_their_scheme(text, scheme, valid):
    assert is_valid(text, scheme) is valid


def test_references_are_created_with_the_domain_check_digits():
    assert ogm_reference("0108068171") == "010806817183"
    assert qrr_reference("21000000000313947143000901") == "210000000003139471430009017"
    assert viite_reference("12345") == "123453"
    assert kid_reference("123456") == "1234566"
    assert kid_reference("123456", KidCheck.MOD11) == "1234560"


def test_a_mod11_kid_whose_check_is_ten_ends_in_a_hyphen():
    # weights 2,3,4,5,6,7 from the right: 2*2 + 1*3 = 7 -> 11 - 7 = 4; 10 needs a sum of 1 mod 11
    assert kid_reference("12", KidCheck.MOD11) == "124"
    base = next(str(n) for n in range(10, 1000) if kid_check_digit(str(n), KidCheck.MOD11) == "-")
    assert is_valid_kid(f"{base}-", KidCheck.MOD11)
    assert parse_reference(f"{base}-", [Scheme.NO_KID]) == (Scheme.NO_KID, f"{base}-")


def test_a_kid_checked_by_one_method_fails_the_other():
    assert is_valid_kid("1234566", KidCheck.MOD10)
    assert not is_valid_kid("1234566", KidCheck.MOD11)
    assert is_valid_kid("1234560", KidCheck.MOD11)
    assert not is_valid_kid("1234560", KidCheck.MOD10)


@pytest.mark.parametrize(
    ("reference", "scheme", "printed"),
    [
        ("010806817183", Scheme.BE_OGM, "+++010/8068/17183+++"),
        ("210000000003139471430009017", Scheme.CH_QRR, "21 00000 00003 13947 14300 09017"),
        ("1234561", Scheme.FI_VIITE, "12 34561"),
        ("123453", Scheme.FI_VIITE, "1 23453"),
        ("1234566", Scheme.NO_KID, "1234566"),
        ("RF18539007547034", Scheme.RF, "RF18 5390 0754 7034"),
        ("not one", Scheme.BE_OGM, "not one"),
    ],
)
def test_each_scheme_prints_in_its_national_form(reference, scheme, printed):
    assert format_reference(reference, scheme) == printed


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+++010/8068/17183+++", (Scheme.BE_OGM, "010806817183")),
        ("*** 010 / 8068 / 17183 ***", (Scheme.BE_OGM, "010806817183")),
        ("010/8068/17183", (Scheme.BE_OGM, "010806817183")),
        ("rf18 5390 0754 7034", (Scheme.RF, "RF18539007547034")),
        ("21 00000 00003 13947 14300 09017", (Scheme.CH_QRR, "210000000003139471430009017")),
        ("0000 0000 0000 0123 453", (Scheme.FI_VIITE, "123453")),
        ("  ", None),
        ("INV-2025-0042", None),
    ],
)
def test_parse_reference_reads_the_forms_people_type(typed, expected):
    assert parse_reference(typed) == expected


def test_a_bare_number_is_read_in_the_schemes_the_caller_issues():
    assert parse_reference("1234566") == (Scheme.NO_KID, "1234566")
    assert parse_reference("1234566", [Scheme.FI_VIITE]) is None
    assert parse_reference("123453", [Scheme.FI_VIITE, Scheme.NO_KID]) == (
        Scheme.FI_VIITE,
        "123453",
    )


def test_find_references_picks_them_out_of_a_remittance_line():
    text = "Inv 2025-17 RF18 5390 0754 7034 2025 and +++010/8068/17183+++ thanks"
    assert list(find_references(text, [Scheme.RF, Scheme.BE_OGM])) == [
        (Scheme.RF, "RF18539007547034"),
        (Scheme.BE_OGM, "010806817183"),
    ]
    assert list(find_references("viite 12 34561, viite 12 34561", [Scheme.FI_VIITE])) == [
        (Scheme.FI_VIITE, "1234561")
    ]


def test_only_a_qr_iban_gives_a_swiss_company_the_qr_reference():
    assert is_qr_iban("CH44 3199 9123 0008 8901 2")  # IID 31999
    assert not is_qr_iban("CH9300762011623852957")  # IID 00762: a regular IBAN
    assert national_scheme("CH", "CH4431999123000889012") is Scheme.CH_QRR
    assert national_scheme("CH", "CH9300762011623852957") is None
    assert national_scheme("CH", "") is None
    assert national_scheme("be") is Scheme.BE_OGM
    assert national_scheme("NO") is Scheme.NO_KID
    assert national_scheme("FI") is Scheme.FI_VIITE
    assert national_scheme("DE", "DE89370400440532013000") is None


@pytest.mark.parametrize(
    ("number", "scheme", "reference"),
    [
        ("INV-2025-0042", Scheme.BE_OGM, "002025004231"),  # 20250042 zero-padded to 10
        ("INV-2025-0042", Scheme.FI_VIITE, "202500421"),
        ("INV-2025-0042", Scheme.NO_KID, "202500427"),
        ("INV-2025-0042", Scheme.CH_QRR, "000000000000000000202500423"),
        ("0001", Scheme.NO_KID, "18"),  # leading zeros dropped
    ],
)
def test_a_numeric_reference_is_built_on_the_digits_of_the_number(number, scheme, reference):
    assert national_reference(number, scheme) == reference


@pytest.mark.parametrize(
    ("number", "scheme"),
    [
        ("ABC", Scheme.BE_OGM),  # no digits
        ("2025-0000001234", Scheme.BE_OGM),  # 14 digits: more than an OGM's 10
        ("INV-7", Scheme.FI_VIITE),  # 1 digit: a viite base needs 3
    ],
)
def test_a_number_without_usable_digits_gets_a_stable_derived_base(number, scheme):
    reference = national_reference(number, scheme)
    assert reference == national_reference(number, scheme)
    assert is_valid(reference, scheme)
    digits = str(int(hashlib.sha256(number.encode()).hexdigest(), 16))
    assert reference[: -2 if scheme is Scheme.BE_OGM else -1] == digits[: BASE_DIGITS[scheme]]


document_numbers = st.text(
    alphabet=string.ascii_uppercase + string.digits + "-/ ", min_size=1, max_size=40
)
numeric_schemes = st.sampled_from([Scheme.BE_OGM, Scheme.CH_QRR, Scheme.NO_KID, Scheme.FI_VIITE])


@given(number=document_numbers, scheme=numeric_schemes, kid=st.sampled_from(list(KidCheck)))
def test_every_issued_reference_validates_and_prints_back_to_itself(number, scheme, kid):
    reference = national_reference(number, scheme, kid)
    assert reference == national_reference(number, scheme, kid)  # deterministic
    assert is_valid(reference, scheme)
    if scheme is Scheme.NO_KID:
        assert is_valid_kid(reference, kid)
    printed = format_reference(reference, scheme)
    assert parse_reference(printed, [scheme]) == (scheme, reference)
    assert parse_reference(printed.replace(" ", ""), [scheme]) == (scheme, reference)


@given(
    number=document_numbers,
    scheme=numeric_schemes,
    kid=st.sampled_from(list(KidCheck)),
    position=st.integers(min_value=0, max_value=40),
    shift=st.integers(min_value=1, max_value=9),
)
def test_changing_one_digit_of_an_issued_reference_is_detected(
    number, scheme, kid, position, shift
):
    reference = national_reference(number, scheme, kid)
    digits = [i for i, c in enumerate(reference) if c.isdigit()]
    index = digits[position % len(digits)]
    changed = str((int(reference[index]) + shift) % 10)
    altered = reference[:index] + changed + reference[index + 1 :]
    if scheme is Scheme.FI_VIITE and altered[0] == "0":
        return  # a leading zero is not printed: "0123" is the viite 123, another length
    if scheme is Scheme.NO_KID:
        # Under the creditor's own method; a payer's bank that does not know it accepts a
        # number valid under either, so an altered KID may pass the other one.
        assert not is_valid_kid(altered, kid)
    else:
        assert not is_valid(altered, scheme)


@given(number=document_numbers)
def test_an_issued_rf_reference_prints_and_parses_back(number):
    base = "".join(c for c in number if c.isalnum())[:21] or "0"
    reference = rf_reference(base)
    assert parse_reference(format_rf(reference)) == (Scheme.RF, reference)
