"""`dunwell case ...`: disputes, promises, plans, calls, placements and the rest of a collector's
cases from the command line, with JSON output for scripts (issue 4 point 9).

Each topic is a module of `dunwell.cases.cli` with its table of subcommands; topics of the layers
above (logging a call in workflows, the case file in reports) register themselves when their app
is ready (`cases.cli.base.register_topic`).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from dunwell.cases.cli import (
    calls,
    disputes,
    history,
    insolvency,
    placements,
    plans,
    promises,
    replies,
    writeoffs,
)
from dunwell.cases.cli.base import REGISTERED, Action, Context
from dunwell.core.management.base import DunwellCommand

TOPICS = (disputes, promises, calls, plans, placements, insolvency, writeoffs, replies, history)


def actions() -> dict[str, Action]:
    found: dict[str, Action] = {}
    for topic in (*TOPICS, *REGISTERED):
        found.update(topic.ACTIONS)
    return found


class Command(DunwellCommand):
    help = "A collector's cases: disputes, promises to pay, payment plans, calls, placements."

    def add_arguments(self, parser: CommandParser) -> None:
        table = actions()
        subparsers = parser.add_subparsers(dest="action", required=True,
                                           metavar="{" + ",".join(table) + "}")  # fmt: skip
        for name, action in table.items():
            sub = subparsers.add_parser(name, help=action.help)
            action.arguments(sub)
            sub.add_argument("--company", help="company code (may be left out when only one)")
            sub.add_argument("--by", help="the user who acts (username)")
            self.add_format(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        actor = self.user(options["by"]) if options.get("by") else None
        context = Context(self, company, actor, self.today(company), self.now(), options)
        actions()[options["action"]].run(context)
