from datetime import date

from dunwell.cash.rules.matching import decide, match, prepare, score
from dunwell.cash.rules.values import Allocation, Document, Proposal, Settings
from tests.cash.rules.make import item, line, payer

BAUER_IBAN = "DE89370400440532013000"
BAUER = payer(1, "Bauer KG", ibans=[(BAUER_IBAN, 3)])
TWO_TEN = {"discount_minor": 20_000, "discount_until": date(2025, 3, 11)}  # 2/10 net 30 of 1 Mar


def best(proposals):
    return proposals[0] if proposals else None


# -- DOMAIN.md 4.5 worked examples ------------------------------------------------------------
def test_one_payment_for_three_invoices_named_in_the_text_is_applied_exactly():
    items = [
        item(1, "INV-1001", 250_000),
        item(2, "INV-1004", 300_000),
        item(3, "INV-1007", 175_000),
    ]
    proposals = match(line(725_000, text="INV-1001 INV-1004 INV-1007"), items)
    chosen = decide(proposals)
    assert chosen is not None and chosen.rule == "invoice-number" and chosen.confidence == 950
    assert chosen.allocations == (
        Allocation(1, 250_000),
        Allocation(2, 300_000),
        Allocation(3, 175_000),
    )
    assert chosen.unapplied_minor == 0
    assert chosen.reason == (
        "the payment text names invoice INV-1001, invoice INV-1004 and invoice INV-1007; "
        "7,250.00 equals the open amounts of INV-1001 (2,500.00) + INV-1004 (3,000.00) + "
        "INV-1007 (1,750.00)"
    )


def test_discount_is_granted_when_the_discounted_amount_arrives_inside_the_window():
    invoice = item(1, "INV-2000", 1_000_000, **TWO_TEN)
    chosen = decide(match(line(980_000, on=date(2025, 3, 9), text="INV-2000"), [invoice]))
    assert chosen is not None
    assert (chosen.discount_minor, chosen.charges_minor, chosen.unapplied_minor) == (20_000, 0, 0)
    assert chosen.allocations == (Allocation(1, 980_000, discount_minor=20_000),)


def test_discounted_amount_after_the_window_is_a_partial_payment_with_the_discount_open():
    invoice = item(1, "INV-2000", 1_000_000, **TWO_TEN)
    proposal = best(match(line(980_000, on=date(2025, 3, 25), text="INV-2000"), [invoice]))
    assert proposal.allocations == (Allocation(1, 980_000),)
    assert proposal.discount_minor == 0
    assert "partial payment: 9,800.00 of 10,000.00 owed" in proposal.reason
    assert "200.00 stays open" in proposal.reason
    assert proposal.confidence < Settings().auto_apply_threshold  # a person decides: case or waiver


def test_bank_charges_within_tolerance_close_the_invoice():
    invoice = item(1, "INV-3000", 1_000_000, payment_reference="RF712348231")
    chosen = decide(match(line(998_500, references=("RF71 2348231",)), [invoice]))
    assert chosen is not None and chosen.charges_minor == 1_500
    assert chosen.allocations == (Allocation(1, 998_500, charges_minor=1_500),)
    assert "within the bank-charges tolerance of 25.00" in chosen.reason


# -- tier 1 and 2: references ------------------------------------------------------------------
def test_valid_rf_reference_we_issued_is_applied_with_the_highest_confidence():
    invoice = item(4, "2024-0815", 125_000, customer=2, payment_reference="RF18539007547034")
    chosen = decide(match(line(125_000, references=("RF18 5390 0754 7034",)), [invoice]))
    assert chosen is not None
    assert (chosen.rule, chosen.confidence, chosen.customer_id) == ("reference", 990, 2)
    assert chosen.reason == (
        "RF reference RF18 5390 0754 7034 matches invoice 2024-0815; "
        "1,250.00 equals the open amount of 2024-0815 (1,250.00)"
    )


def test_rf_reference_written_in_the_text_counts_like_the_reference_field():
    invoice = item(4, "2024-0815", 125_000, payment_reference="RF18539007547034")
    proposal = best(match(line(125_000, text="Zahlung RF18 5390 0754 7034 danke"), [invoice]))
    assert (proposal.rule, proposal.confidence) == ("reference", 990)


def test_rf_reference_with_a_typo_points_at_the_invoice_but_waits_for_review():
    invoice = item(4, "2024-0815", 125_000, payment_reference="RF18539007547034")
    proposals = match(line(125_000, references=("RF18 5390 0754 7043",)), [invoice])
    assert [p.rule for p in proposals] == ["reference-typo"]
    assert proposals[0].confidence < Settings().auto_apply_threshold
    assert "RF reference with a typo" in proposals[0].reason
    assert "one character off RF18 5390 0754 7034 of invoice 2024-0815" in proposals[0].reason
    assert decide(proposals) is None


def test_belgian_structured_reference_matches_in_any_framing():
    invoice = item(7, "F-77", 50_000, national_reference="010806817183")
    for where in ({"references": ("+++010/8068/17183+++",)}, {"text": "***010/8068/17183***"}):
        proposal = best(match(line(50_000, **where), [invoice]))
        assert (proposal.rule, proposal.allocations) == ("reference", (Allocation(7, 50_000),))


def test_national_reference_one_digit_off_is_a_typo_hint():
    invoice = item(7, "F-77", 50_000, national_reference="010806817183")
    proposal = best(match(line(50_000, references=("010806817184",)), [invoice]))
    assert proposal.rule == "reference-typo" and proposal.confidence < 900


def test_end_to_end_id_we_issued_matches_exactly():
    invoice = item(8, "INV-88", 42_000, payment_reference="RF712348231")
    proposal = best(match(line(42_000, end_to_end_id="RF712348231"), [invoice]))
    assert (proposal.rule, proposal.confidence) == ("end-to-end", 990)


def test_invoice_number_in_the_reference_field_is_read_as_an_invoice_number():
    invoice = item(9, "INV-1001", 250_000)
    proposal = best(match(line(250_000, references=("INV-1001",)), [invoice]))
    assert (proposal.rule, proposal.confidence) == ("invoice-number", 950)


def test_overpayment_by_reference_leaves_the_rest_unapplied():
    invoice = item(4, "2024-0815", 125_000, payment_reference="RF18539007547034")
    chosen = decide(match(line(150_000, references=("RF18539007547034",)), [invoice]))
    assert chosen is not None and chosen.unapplied_minor == 25_000
    assert chosen.allocations == (Allocation(4, 125_000),)


def test_payment_in_another_currency_never_allocates():
    invoice = item(4, "2024-0815", 125_000, currency="USD", payment_reference="RF18539007547034")
    assert match(line(125_000, references=("RF18539007547034",)), [invoice]) == []


# -- tier 3: invoice numbers -------------------------------------------------------------------
def test_several_numbers_in_german_text_need_the_payer_when_they_are_short():
    items = [item(1, "1001", 250_000), item(2, "1004", 300_000)]
    text = "Rechnung 1001 und 1004"
    unknown = best(match(line(550_000, text=text), items))
    known = best(match(line(550_000, text=text, payer_iban=BAUER_IBAN), items, [BAUER]))
    assert unknown.confidence == 860 and decide([unknown]) is None
    assert (known.rule, known.confidence) == ("invoice-number", 950)
    assert known.reason.startswith("payer IBAN DE89…3000 is Bauer KG's (confirmed 3 times); ")


def test_a_bare_short_number_matches_only_the_identified_payers_items():
    theirs, others = item(1, "123", 10_000, customer=1), item(2, "124", 20_000, customer=2)
    unknown = match(line(55_555, text="123 124"), [theirs, others])
    assert unknown == []
    known = match(line(55_555, text="123 124", payer_iban=BAUER_IBAN), [theirs, others], [BAUER])
    assert {a.item_id for p in known for a in p.allocations} == {1}


def test_postcode_is_not_taken_for_another_customers_invoice():
    other = item(2, "80331", 99_000, customer=2)
    assert match(line(12_345, text="Bauer KG 80331 Muenchen"), [other]) == []


def test_a_long_number_matches_without_the_payer():
    items = [item(1, "201403110", 100_000, customer=5), item(2, "201403113", 50_000, customer=5)]
    chosen = decide(match(line(150_000, text="FACTUUR 201403110, 201403113"), items))
    assert chosen is not None and chosen.item_ids == {1, 2} and chosen.customer_id == 5


def test_leading_zeros_and_separators_do_not_matter():
    invoice = item(1, "INV-000123", 10_000)
    for text in ("inv 123", "INV000123", "Invoice INV 000123"):
        assert best(match(line(10_000, text=text), [invoice])).rule == "invoice-number"
    slash = item(2, "2024-0815", 10_000)
    assert best(match(line(10_000, text="Invoice no. 2024/0815"), [slash])).confidence == 950


def test_ocr_reading_is_only_a_hint():
    invoice = item(1, "INV-1023", 10_000)
    proposal = best(match(line(10_000, text="INV-1O23"), [invoice]))
    assert proposal.rule == "invoice-number-ocr" and proposal.confidence < 900
    assert "read with O as 0" in proposal.reason


def test_the_prefix_decides_between_two_items_with_the_same_digits():
    items = [item(1, "INV-123456", 10_000), item(2, "CN-123456", 10_000, kind="fee")]
    proposal = best(match(line(10_000, text="INV 123456"), items))
    assert proposal.item_ids == {1} and proposal.confidence == 950
    both = match(line(10_000, text="123456"), items)
    assert decide(both) is None


def test_invoice_named_less_an_open_credit_note_of_the_same_customer():
    items = [item(1, "INV-5", 1_000_000), item(2, "CN-2", -200_000)]
    chosen = decide(match(line(800_000, text="INV-5"), items))
    assert chosen is not None
    assert chosen.allocations == (Allocation(1, 1_000_000), Allocation(2, -200_000))
    assert "less open credit note CN-2, not named in the payment" in chosen.reason


def test_when_only_some_of_the_named_invoices_add_up_a_person_confirms():
    items = [
        item(1, "INV-1001", 250_000),
        item(2, "INV-1004", 300_000),
        item(3, "INV-1007", 175_000),
    ]
    proposals = match(line(425_000, text="INV-1001 INV-1004 INV-1007"), items)
    adding_up = next(p for p in proposals if p.item_ids == {1, 3})
    assert adding_up.confidence == 870 and "2 of the 3 items named add up" in adding_up.reason
    assert decide(proposals) is None


def test_remittance_with_amounts_per_invoice_is_followed():
    items = [item(1, "INV-1", 100_000), item(2, "INV-2", 50_000)]
    documents = (Document("INV-1", 70_000), Document("INV-2", 50_000))
    chosen = decide(match(line(120_000, documents=documents), items))
    assert chosen is not None and chosen.rule == "remittance"
    assert chosen.allocations == (Allocation(1, 70_000), Allocation(2, 50_000))
    assert chosen.reason.startswith(
        "the remittance lists invoice INV-1 (700.00), invoice INV-2 (500.00)"
    )


def test_references_to_two_unrelated_customers_count_less():
    items = [
        item(1, "A-1", 10_000, customer=1, payment_reference="RF712348231"),
        item(2, "B-1", 10_000, customer=2, payment_reference="RF18539007547034"),
    ]
    proposals = match(line(10_000, references=("RF712348231", "RF18539007547034")), items)
    assert sorted(p.confidence for p in proposals) == [890, 890]
    assert decide(proposals) is None


# -- tier 4: payer and amount ------------------------------------------------------------------
def test_known_iban_and_the_exact_amount_of_one_open_item():
    items = [item(1, "INV-17", 125_000), item(2, "INV-18", 80_000)]
    chosen = decide(match(line(125_000, payer_iban="DE89 3704 0044 0532 0130 00"), items, [BAUER]))
    assert chosen is not None and (chosen.rule, chosen.confidence) == ("iban+amount", 935)
    assert chosen.reason == (
        "payer IBAN DE89…3000 is Bauer KG's (confirmed 3 times); "
        "1,250.00 equals the open amount of INV-17 (1,250.00)"
    )


def test_iban_confirmed_once_is_not_enough_to_apply_alone():
    once = payer(1, "Bauer KG", ibans=[(BAUER_IBAN, 1)])
    proposal = best(
        match(line(125_000, payer_iban=BAUER_IBAN), [item(1, "INV-17", 125_000)], [once])
    )
    assert proposal.confidence == 885 and "(confirmed once)" in proposal.reason


def test_two_open_items_with_the_same_amount_go_to_review():
    items = [item(1, "INV-17", 125_000), item(2, "INV-18", 125_000)]
    proposals = match(line(125_000, payer_iban=BAUER_IBAN), items, [BAUER])
    assert len(proposals) == 2 and proposals[0].confidence == proposals[1].confidence
    assert decide(proposals) is None


def test_name_and_amount_never_apply_on_their_own_even_with_a_low_threshold():
    lenient = Settings(auto_apply_threshold=800)
    mueller = payer(2, "Müller Bau GmbH")
    proposals = match(
        line(125_000, payer_name="MUELLER BAU"),
        [item(4, "R-4", 125_000, customer=2)],
        [mueller],
        lenient,
    )
    assert proposals[0].rule == "name+amount" and proposals[0].confidence == 799
    assert 'payer name "MUELLER BAU" resembles Müller Bau GmbH (100 %)' in proposals[0].reason
    assert decide(proposals, lenient) is None


def test_unique_combination_of_the_payers_items_is_proposed_for_review():
    items = [item(1, "INV-1", 250_000), item(2, "INV-2", 300_000), item(3, "INV-3", 175_000)]
    proposals = match(line(425_000, payer_iban=BAUER_IBAN), items, [BAUER])
    assert [(p.rule, p.item_ids, p.confidence) for p in proposals] == [("subset", {1, 3}, 875)]
    assert "a combination of 2 of its open items" in proposals[0].reason


def test_two_combinations_with_the_same_sum_tie():
    items = [
        item(k, f"INV-{k}", amount) for k, amount in enumerate([100_00, 200_00, 300_00, 400_00], 1)
    ]
    proposals = match(line(500_00, payer_iban=BAUER_IBAN), items, [BAUER])
    assert [p.rule for p in proposals] == ["subset", "subset"]
    assert proposals[0].confidence == proposals[1].confidence == 725
    assert decide(proposals) is None


def test_payer_known_but_amount_fits_nothing_suggests_oldest_first():
    items = [item(1, "INV-1", 100_000, due=date(2025, 1, 31)), item(2, "INV-2", 100_000)]
    (proposal,) = match(line(130_000, payer_iban=BAUER_IBAN), items, [BAUER])
    assert proposal.rule == "payer" and proposal.confidence == 535
    assert proposal.allocations == (Allocation(1, 100_000), Allocation(2, 30_000))


def test_parent_company_pays_its_branchs_invoice():
    parent = payer(10, "Holding AG", ibans=[("CH9300762011623852957", 2)])
    branch = payer(11, "Holding Filiale Bern", parent=10)
    invoice = item(5, "INV-55", 77_000, customer=11)
    chosen = best(
        match(line(77_000, payer_iban="CH93 0076 2011 6238 5295 7"), [invoice], [parent, branch])
    )
    assert (chosen.customer_id, chosen.allocations) == (10, (Allocation(5, 77_000),))


# -- tier 5 and decide ---------------------------------------------------------------------------
def test_amount_alone_is_a_low_suggestion():
    proposals = match(line(125_000), [item(1, "INV-17", 125_000, customer=3)])
    assert [(p.rule, p.confidence, p.customer_id) for p in proposals] == [("amount", 300, 3)]
    assert decide(proposals) is None


def test_nothing_is_proposed_for_money_going_out_or_nothing_at_all():
    invoice = item(1, "INV-17", 125_000, payment_reference="RF712348231")
    assert match(line(-125_000, references=("RF712348231",)), [invoice]) == []
    assert match(line(0), [invoice]) == []
    assert match(line(99), [invoice]) == []


def proposal(confidence, item_id, rule="reference"):
    return Proposal(1, (Allocation(item_id, 100),), 0, confidence, rule, "why")


def test_decide_applies_a_confident_proposal_that_is_clearly_ahead():
    assert decide([proposal(950, 1), proposal(899, 2)]) == proposal(950, 1)


def test_decide_refuses_when_a_different_proposal_comes_within_the_margin():
    assert decide([proposal(950, 1), proposal(900, 2)]) is None
    assert decide([proposal(950, 1), proposal(950, 2)], Settings(unique_margin=0)) is None


def test_decide_refuses_below_the_threshold_and_on_nothing():
    assert decide([proposal(899, 1)]) is None
    assert decide([]) is None


def test_the_same_allocation_found_twice_is_not_a_competitor():
    assert decide([proposal(950, 1), proposal(940, 1, rule="invoice-number")]) == proposal(950, 1)


def test_a_prepared_index_serves_many_lines():
    index = prepare([item(1, "INV-1", 100), item(2, "INV-2", 200)])
    assert [
        best(score(line(amount, text=f"INV-{n}"), index)).item_ids
        for n, amount in ((1, 100), (2, 200))
    ] == [{1}, {2}]


def test_norwegian_kid_written_in_the_text_matches_the_reference_we_issued():
    invoice = item(6, "F-2025-6", 80_000, national_reference="1234566")
    proposal = best(match(line(80_000, text="KID 1234566"), [invoice]))
    assert (proposal.rule, proposal.confidence) == ("reference", 990)
    assert proposal.reason.startswith("reference 1234566 matches invoice F-2025-6")


def test_payers_invoice_less_its_credit_note_is_a_combination_for_review():
    items = [item(1, "INV-5", 1_000_000), item(2, "INV-6", 400_000), item(3, "CN-2", -200_000)]
    (proposal,) = match(line(800_000, payer_iban=BAUER_IBAN), items, [BAUER])
    assert proposal.rule == "subset" and proposal.confidence == 875
    assert proposal.allocations == (Allocation(1, 1_000_000), Allocation(3, -200_000))
    assert "less credit note CN-2 (2,000.00)" in proposal.reason


def test_combination_paid_with_the_discounts_taken_is_found():
    early = {"discount_minor": 2_000, "discount_until": date(2025, 3, 25)}
    items = [
        item(1, "INV-1", 100_000, **early),
        item(2, "INV-2", 50_000, **early),
        item(3, "INV-3", 70_000),
    ]
    (proposal,) = match(line(146_000, payer_iban=BAUER_IBAN), items, [BAUER])
    assert proposal.item_ids == {1, 2} and proposal.discount_minor == 4_000


def test_an_iban_shared_by_two_customers_identifies_neither_for_sure():
    shared = [
        payer(1, "Bauer KG", ibans=[(BAUER_IBAN, 3)]),
        payer(2, "Bauer Bau", ibans=[(BAUER_IBAN, 3)]),
    ]
    items = [item(1, "INV-1", 125_000, customer=1), item(2, "INV-2", 99_000, customer=2)]
    proposal = best(match(line(125_000, payer_iban=BAUER_IBAN), items, shared))
    assert (proposal.customer_id, proposal.confidence) == (1, 835)


def test_name_that_resembles_two_customers_counts_less():
    both = [payer(1, "Bauer Logistik GmbH"), payer(2, "Bauer Logistik AG")]
    items = [item(1, "INV-1", 125_000, customer=1), item(2, "INV-2", 99_000, customer=2)]
    proposal = best(match(line(125_000, payer_name="BAUER LOGISTIK"), items, both))
    assert proposal.rule == "name+amount" and proposal.confidence == 820 - 80
