"""Choice labels inside stored and machine text: always English.

The models' choice labels are translatable (`gettext_lazy`), so the staff UI shows "Offen" to a
German reader and "Open" to an English one. Text that is stored or read by programs must not
depend on the language of whoever happened to cause it: a history summary is the legal record of
the account, an error message is matched by scripts and tests, a CLI's JSON and a CSV export are
parsed, a dunning run's skip reason is kept. Such text is written in English, and a label embedded
in it goes through `english`, the one place that resolves a label outside the active language:

    with translation.override("de"):
        f"dispute opened ({english(dispute.get_reason_display).lower()})"
        # "dispute opened (price)", where get_reason_display() would give "Preis"
        english(DisputeReason.PRICE.label)  # "Price"

`get_<field>_display()` resolves in the active language, so outside the web layer it is passed to
`english` uncalled (scripts/check_conventions.py enforces that). Letters, emails and printed
documents are not stored text in this sense: they are rendered in the customer's language
(`ledger.printing.render_document`), and a lazy label handed to them resolves there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils import translation

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


ENGLISH = frozenset({"en", "en-us", None})


def english(label: StrOrPromise | Callable[[], str]) -> str:
    """`label` as English text, whatever language is active: a (lazy) choice label, or a model's
    `get_<field>_display` method, which is called in English."""
    if translation.get_language() in ENGLISH:  # no catalogue to switch: a batch's every entry
        return label() if callable(label) else str(label)
    with translation.override("en"):
        return label() if callable(label) else str(label)
