"""`core.i18n.english`: a choice label as English text whatever language the reader has."""

from __future__ import annotations

import pytest
from django.utils import translation

from dunwell.cases.models import Dispute, DisputeReason, DisputeState
from dunwell.core.i18n import english
from dunwell.ledger.models import ActivityKind


def test_a_lazy_label_is_english_under_german_and_german_when_shown() -> None:
    with translation.override("de"):
        assert english(DisputeState.INVESTIGATING.label) == "Investigating"
        assert english(ActivityKind.PROMISE_BROKEN.label) == "Promise broken"
        assert str(DisputeState.INVESTIGATING.label) == "In Prüfung"  # what the UI shows


def test_a_display_method_is_called_in_english() -> None:
    dispute = Dispute(reason=DisputeReason.NOT_RECEIVED, state=DisputeState.OPEN)  # unsaved
    with translation.override("de"):
        assert dispute.get_reason_display() == "Nicht erhalten"
        assert english(dispute.get_reason_display) == "Not received"
        assert translation.get_language() == "de"  # the reader's language is left as it was


@pytest.mark.parametrize("value", ["", "gone"])
def test_a_value_outside_the_choices_is_shown_as_stored(value: str) -> None:
    with translation.override("de"):
        assert english(Dispute(reason=value).get_reason_display) == value
