import pytest

from dunwell.cash.rules.names import normalise_name, similar_names


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("Müller Bau GmbH & Co. KG", "muller bau"),
        ("MUELLER BAU", "muller bau"),
        ("MULLER BAU", "muller bau"),
        ("Société Générale S.A.", "societe generale"),
        ("Acme B.V.", "acme"),
        ("Straße Holding Sp. z o.o.", "strasse holding"),
        ("ООО Ромашка", "romashka"),
        ("Αθηνά Α.Ε.", "athina"),
        ("GmbH", "gmbh"),
    ],
)
def test_names_lose_legal_forms_accents_and_scripts(name, normalised):
    assert normalise_name(name) == normalised


def test_bank_spelling_without_umlauts_matches_the_ledger_name():
    choices = [normalise_name(n) for n in ("Müller Bau GmbH", "Bauer KG", "Müller Transporte AG")]
    assert similar_names(normalise_name("MUELLER BAU"), choices, cutoff=86) == [(0, 100)]


def test_a_shortened_name_still_resembles_the_whole_one():
    choices = [normalise_name("Bauer Logistik GmbH")]
    [(index, score)] = similar_names(normalise_name("BAUER LOGISTIK MUENCHEN"), choices, 86)
    assert index == 0 and 86 <= score < 97


def test_unrelated_and_too_short_names_resemble_nothing():
    choices = [normalise_name("Bauer Logistik GmbH")]
    assert similar_names(normalise_name("Schmidt Elektro"), choices, 86) == []
    assert similar_names("ba", choices, 86) == []


def test_among_many_customers_a_payer_name_is_compared_with_those_sharing_a_telling_word():
    """With more names than FEW_NAMES the index compares only names sharing a rare word (or its
    first letters): the transliterated payer is found among a handful compared, not 6,000."""
    from dunwell.cash.rules.index import FEW_NAMES, Names, prepare
    from dunwell.cash.rules.names import normalise_name
    from dunwell.cash.rules.values import Settings
    from tests.cash.rules.make import line, payer

    crowd = [payer(n, f"Customer {n} Handel GmbH") for n in range(1, FEW_NAMES * 3)]
    index = prepare((), [*crowd, payer(99_999, "Müller Baustoffe Schröder KG")])
    hits = index.payers_of(line(100_00, payer_name="MUELLER BAUSTOFE SCHROEDER"), Settings())
    assert [h.customer_id for h in hits] == [99_999]
    names = Names([*crowd, payer(99_999, "Müller Baustoffe Schröder KG")])
    assert len(names._positions(normalise_name("MUELLER BAUSTOFE SCHROEDER"))) == 1
    assert (
        index.payers_of(line(100_00, payer_name="Customer 4711 Handel"), Settings())[0].customer_id
        == 4711
    )
