"""The EPC QR code's payload (EPC069-12 version 002) and when a document gets one."""

from urllib.parse import unquote

import pytest
import segno
from segno import helpers

from dunwell.core.epc_qr import EpcTransfer, epc_payload, epc_qr_data_url, epc_transfer
from dunwell.core.references import rf_reference

ACME = {"name": "Acme GmbH", "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"}


def transfer(**changes):
    given = {**ACME, "currency": "EUR", "amount_minor": 12_34, "references": ["RF712348231"],
             "text": "C-100"} | changes  # fmt: skip
    return epc_transfer(**given)


def test_one_invoice_is_paid_with_its_rf_reference_in_the_structured_field():
    assert epc_payload(transfer()) == (
        "BCD\n002\n1\nSCT\nCOBADEFFXXX\nAcme GmbH\nDE89370400440532013000\nEUR12.34\n\nRF712348231"
    )


def test_several_invoices_go_as_their_references_in_the_text_field():
    paid = transfer(amount_minor=1_500_00, references=["RF712348231", "RF18539007547034"])
    assert paid.reference == ""
    assert epc_payload(paid).split("\n")[7:] == [
        "EUR1500",  # trailing zeros dropped, as segno writes it
        "",
        "",
        "RF712348231 RF18539007547034",
    ]


def test_references_that_do_not_fit_in_140_characters_give_way_to_the_text():
    many = [rf_reference(f"INV{n:06d}") for n in range(12)]  # 12 x 13 characters and spaces
    assert len(" ".join(many)) > 140
    assert transfer(references=many).text == "C-100"


@pytest.mark.parametrize(
    "changes",
    [
        {"currency": "CHF"},
        {"iban": ""},
        {"amount_minor": 0},
        {"amount_minor": -5_00},
        {"amount_minor": 1_000_000_000_00},
        {"references": [], "text": ""},
    ],
)
def test_no_code_when_sepa_cannot_carry_the_payment(changes):
    assert transfer(**changes) is None


def test_a_free_reference_or_a_bad_bic_is_left_out_of_the_structured_fields():
    paid = transfer(references=["Payref1"], text="Payref1", bic="COBADE")
    assert (paid.reference, paid.text, paid.bic) == ("", "Payref1", "")
    assert epc_payload(paid).split("\n")[4] == ""


def test_the_image_is_segnos_epc_code_of_exactly_this_payload():
    paid = transfer()
    code = helpers.make_epc_qr(name="Acme GmbH", iban="DE89370400440532013000", amount="12.34",
                               reference="RF712348231", bic="COBADEFFXXX", encoding="utf-8")  # fmt: skip
    from_payload = segno.make_qr(epc_payload(paid).encode(), error="m", boost_error=False)
    assert code.matrix == from_payload.matrix
    url = epc_qr_data_url(paid)
    assert url == code.svg_data_uri(scale=4, border=2)
    assert url.startswith("data:image/svg+xml;") and "<svg" in unquote(url)


def test_a_payload_segno_refuses_gives_no_image():
    too_long = EpcTransfer(name="Ü" * 70, iban="DE89370400440532013000", bic="", amount_minor=1,
                           text="€" * 140)  # fmt: skip
    assert epc_qr_data_url(too_long) == ""
