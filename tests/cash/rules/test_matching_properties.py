"""Properties every proposal keeps, on random ledgers and bank lines (hypothesis)."""

from datetime import date, timedelta
from itertools import combinations

from hypothesis import event, given, settings
from hypothesis import strategies as st

from dunwell.cash.rules import confidence
from dunwell.cash.rules.amounts import fit, subsets
from dunwell.cash.rules.matching import decide, prepare, score
from dunwell.cash.rules.proposing import what
from dunwell.cash.rules.values import (
    Allocation,
    Candidate,
    Document,
    Line,
    Payer,
    Proposal,
    Settings,
)
from dunwell.core.references import rf_reference

START = date(2025, 1, 1)
SETTINGS = Settings()
IBANS = ("DE89370400440532013000", "GB82WEST12345698765432", "NL91ABNA0417164300")
NAMES = ("Bauer KG", "Müller Bau GmbH", "Acme Ltd")

days = st.integers(min_value=0, max_value=120).map(lambda n: START + timedelta(days=n))


@st.composite
def candidates(draw):
    count = draw(st.integers(min_value=0, max_value=12))
    items = []
    for item_id in range(1, count + 1):
        open_minor = draw(st.integers(min_value=-50_000, max_value=300_000).filter(bool))
        issued = draw(days)
        discount = draw(st.integers(min_value=0, max_value=max(open_minor // 10, 0)))
        items.append(
            Candidate(
                item_id=item_id,
                customer_id=draw(st.integers(min_value=1, max_value=3)),
                number=draw(st.sampled_from(["INV-{}", "{}", "RE {}", "2025/{:04d}"])).format(
                    draw(st.integers(min_value=1, max_value=60))
                ),
                currency=draw(st.sampled_from(["EUR", "EUR", "EUR", "USD"])),
                open_minor=open_minor,
                due_on=issued + timedelta(days=30),
                issued_on=issued,
                kind="credit_note" if open_minor < 0 else draw(st.sampled_from(["invoice", "fee"])),
                payment_reference=rf_reference(f"{item_id}7{count}") if draw(st.booleans()) else "",
                discount_minor=discount,
                discount_until=issued + timedelta(days=10) if discount else None,
            )
        )
    return items


@st.composite
def payers(draw):
    found = []
    for customer_id in (1, 2, 3):
        ibans = [(IBANS[customer_id - 1], draw(st.integers(0, 5)))] if draw(st.booleans()) else []
        parent = 1 if customer_id == 3 and draw(st.booleans()) else None
        found.append(Payer(customer_id, (NAMES[customer_id - 1],), tuple(ibans), parent))
    return found


@st.composite
def lines(draw, items):
    mentioned = draw(st.lists(st.sampled_from(items), max_size=4)) if items else []
    words = [i.number for i in mentioned] + draw(
        st.lists(st.sampled_from(["und", "1.250,00", "09.03.2025", "INV-1O2", "123"]), max_size=3)
    )
    references = [
        i.payment_reference for i in mentioned if i.payment_reference and draw(st.booleans())
    ]
    owed = sum(i.open_minor for i in mentioned)
    some_item = [i.open_minor for i in items if i.open_minor > 0] or [1]
    amount = draw(
        st.one_of(
            st.integers(min_value=1, max_value=600_000),
            st.just(max(owed, 1)),
            st.just(max(owed - 1_500, 1)),
            st.sampled_from(some_item),
            st.just(sum(sorted(some_item)[:2])),
        )
    )
    documents = tuple(
        Document(
            i.number,
            draw(st.one_of(st.none(), st.integers(-10_000, 300_000))),
            draw(st.one_of(st.none(), st.integers(0, 5_000))),
        )
        for i in mentioned
        if draw(st.booleans())
    )
    return Line(
        amount_minor=amount,
        currency=draw(st.sampled_from(["EUR", "EUR", "USD"])),
        value_on=draw(days),
        references=tuple(references),
        text=" ".join(draw(st.permutations(words))),
        payer_name=draw(st.sampled_from(["", "BAUER", "MUELLER BAU", "ACME"])),
        payer_iban=draw(st.sampled_from(["", *IBANS])),
        documents=documents,
    )


@st.composite
def worlds(draw):
    items = draw(candidates())
    return items, draw(payers()), draw(lines(items))


def check_proposal(proposal: Proposal, line: Line, items: list[Candidate]) -> None:
    by_id = {i.item_id: i for i in items}
    assert (
        sum(a.amount_minor for a in proposal.allocations) + proposal.unapplied_minor
        == line.amount_minor
    )
    assert proposal.unapplied_minor >= 0
    assert 0 <= proposal.confidence <= 1000
    assert len(proposal.item_ids) == len(proposal.allocations)
    assert proposal.discount_minor == sum(a.discount_minor for a in proposal.allocations)
    assert proposal.charges_minor == sum(a.charges_minor for a in proposal.allocations)
    for allocation in proposal.allocations:
        owed = by_id[allocation.item_id]
        assert owed.currency == line.currency
        assert allocation.discount_minor >= 0 and allocation.charges_minor >= 0
        if owed.open_minor > 0:
            assert 0 < allocation.settled_minor <= owed.open_minor
            assert allocation.amount_minor >= 0
        else:
            assert owed.open_minor <= allocation.amount_minor < 0
            assert allocation.discount_minor == allocation.charges_minor == 0
        if allocation.discount_minor:
            assert owed.discount_until is not None and line.value_on <= owed.discount_until
            assert allocation.discount_minor <= owed.discount_minor
        assert allocation.charges_minor <= (SETTINGS.charges_tolerance_minor or 0)
    if proposal.rule in confidence.REVIEW_ONLY:
        assert proposal.confidence < SETTINGS.auto_apply_threshold


@settings(max_examples=300)
@given(worlds())
def test_proposals_add_up_stay_within_their_items_and_only_a_clear_winner_is_applied(world):
    items, known, bank_line = world
    proposals = score(bank_line, prepare(items, known), SETTINGS)
    for proposal in proposals:
        check_proposal(proposal, bank_line, items)
        event(f"rule {proposal.rule}")
    chosen = decide(proposals, SETTINGS)
    event(f"decided {chosen.rule if chosen else None}")
    if chosen is None:
        return
    assert chosen.confidence >= SETTINGS.auto_apply_threshold
    for other in proposals:
        if what(other) != what(chosen):
            assert other.confidence < chosen.confidence - SETTINGS.unique_margin


allocations = st.tuples(st.integers(1, 5), st.integers(1, 10_000)).map(lambda t: (Allocation(*t),))


@given(
    st.integers(0, 1000),
    allocations,
    allocations,
    st.lists(st.integers(0, 1000)),
    st.integers(0, 200),
)
def test_decide_never_applies_when_two_different_proposals_tie(
    level, first, second, others, margin
):
    tie = [
        Proposal(1, first, 0, level, "reference", "a"),
        Proposal(1, second, 1, level, "reference", "b"),
    ]
    rest = [Proposal(2, first, 0, min(c, level), "amount", "c") for c in others]
    assert decide(tie + rest, Settings(unique_margin=margin)) is None


def _mistype(reference: str, position: int, character: str) -> str:
    body = reference[4:]
    index = position % len(body)
    return reference[:4] + body[:index] + character + body[index + 1 :]


@settings(max_examples=300)
@given(
    candidates(),
    st.integers(0, 40),
    st.sampled_from("0123456789"),
    st.booleans(),
    st.integers(1, 600_000),
    st.integers(1, 1000),
)
def test_a_reference_typo_alone_never_reaches_the_threshold(
    items, position, character, exact, amount, threshold
):
    referenced = [
        i for i in items if i.payment_reference and i.open_minor > 0 and i.currency == "EUR"
    ]
    if not referenced:
        return
    target = referenced[position % len(referenced)]
    typo = _mistype(target.payment_reference, position, character)
    if typo == target.payment_reference:
        return
    lenient = Settings(auto_apply_threshold=threshold)
    bank_line = Line(target.open_minor if exact else amount, "EUR", START, references=(typo,))
    proposals = score(bank_line, prepare(items), lenient)
    assert all(
        p.confidence < threshold for p in proposals if p.rule in ("reference-typo", "amount")
    )
    assert all(p.rule in ("reference-typo", "amount", "reference") for p in proposals)
    # a mistyped RF fails its check, so it never matches exactly
    assert not any(p.rule == "reference" for p in proposals)
    assert decide(proposals, lenient) is None


@given(
    st.lists(st.integers(1, 1_000), max_size=9),
    st.integers(1, 3_000),
    st.integers(1, 5),
)
def test_subset_search_finds_exactly_the_combinations_brute_force_finds(amounts, target, size):
    found, exhaustive = subsets(amounts, target, target, size, limit=10**6)
    expected = {
        combo
        for k in range(1, size + 1)
        for combo in combinations(range(len(amounts)), k)
        if sum(amounts[i] for i in combo) == target
    }
    assert exhaustive
    assert set(found) == expected and len(found) == len(expected)


@given(candidates(), st.integers(1, 600_000), days)
def test_fit_keeps_the_money_identity(items, amount, on):
    same = [i for i in items if i.currency == "EUR"]
    found = fit(amount, same, on, SETTINGS)
    if found is None:
        assert sum(i.open_minor for i in same) <= 0 or not any(i.open_minor > 0 for i in same)
        return
    assert sum(a.amount_minor for a in found.allocations) + found.unapplied_minor == amount
    owed = {i.item_id: i.open_minor for i in same}
    for allocation in found.allocations:
        if owed[allocation.item_id] > 0:
            assert 0 < allocation.settled_minor <= owed[allocation.item_id]
        else:
            assert owed[allocation.item_id] <= allocation.amount_minor < 0
