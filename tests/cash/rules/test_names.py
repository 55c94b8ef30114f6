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
