"""`dunwell case correct`: a correcting entry for a history entry (the entry itself never changes).

Reading the history is `dunwell history` (in `reports`, where the timeline read model lives).
"""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser

from dunwell.cases.cli.base import Action, Context
from dunwell.ledger.models import Activity
from dunwell.ledger.services.activity import record_correction


def _correct_arguments(parser: CommandParser) -> None:
    parser.add_argument("entry_id", type=int, help="the history entry's id (see dunwell history)")
    parser.add_argument("--text", required=True, help="what was wrong and what is right")


def _correct(context: Context) -> None:
    entry_id = context.options["entry_id"]
    found = Activity.objects.filter(company=context.company, pk=entry_id).first()
    if found is None:
        raise CommandError(f"entry_id: no history entry {entry_id} in {context.company.code}")
    made = record_correction(entry=found, text=context.options["text"], actor=context.actor,
                             at=context.at)  # fmt: skip
    context.emit(
        {"id": made.pk, "corrects": found.pk, "summary": made.summary,
         "recorded_at": made.recorded_at.isoformat()},
        f"entry {made.pk} corrects entry {found.pk}",
    )  # fmt: skip


ACTIONS = {
    "correct": Action("add a correcting entry to the history", _correct_arguments, _correct),
}
