"""`dunwell verify`: recompute every stored balance from the allocation rows and report drift."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from dunwell.core.management.base import DunwellCommand
from dunwell.ledger.queries import drift
from dunwell.ledger.services.balances import refresh_company


class Command(DunwellCommand):
    help = "Recompute open amounts, settlement dates and unapplied cash; report any drift."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--repair", action="store_true", help="rewrite the drifted copies")

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        found = drift(company)
        if options["format"] == "json":
            self.emit_json({"company": company.code, "drift": [d.__dict__ for d in found]})
        elif found:
            for d in found[:200]:
                self.stdout.write(
                    f"{d.what:18} {d.record:40} stored {d.stored:>14} computed {d.computed:>14}"
                )
            if len(found) > 200:
                self.stdout.write(f"... and {len(found) - 200} more")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"{company.code}: every stored balance matches the allocations")
            )
        if found and options["repair"]:
            with transaction.atomic():
                refresh_company(company)
            self.stdout.write(self.style.WARNING(f"repaired {len(found)} drifted values"))
        elif found:
            raise CommandError(
                f"{len(found)} stored values drifted: run with --repair to rewrite them"
            )
