"""The base of every `dunwell` command: `--company`, `--as-of`, `--format`, clear errors.

Commands are an outer layer: they read the clock (once) and pass the business date down.
"""

from __future__ import annotations

import json
from argparse import ArgumentTypeError
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.models import Company


def parse_iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a date: expected YYYY-MM-DD") from None


class DunwellCommand(BaseCommand):
    # Django's system checks (a quarter of a second) run in `dunwell check`, `migrate` and the
    # server, not again before every batch command an integrator or cron calls.
    requires_system_checks: list[str] = []
    needs_company = True
    formats: tuple[str, ...] = ("table", "json")

    def add_arguments(self, parser: CommandParser) -> None:
        if self.needs_company:
            parser.add_argument(
                "--company", help="company code (may be left out when there is only one)"
            )
        self.add_format(parser)

    def add_format(self, parser: CommandParser) -> None:
        """`--format`; commands with subcommands add it to each of them."""
        parser.add_argument(
            "--format", choices=self.formats, default=self.formats[0], help="output format"
        )

    def add_to_each(self, actions: Any) -> None:
        """`--company` and `--format` on every subcommand of `actions` (a subparsers action)."""
        for sub in actions.choices.values():
            sub.add_argument("--company", help="company code (may be left out when only one)")
            self.add_format(sub)

    def add_as_of(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of", type=parse_iso_date, help="business date, YYYY-MM-DD (default: today)"
        )

    def company(self, code: str | None) -> Company:
        if code:
            found = Company.objects.filter(code=code).first()
            if found is None:
                known = ", ".join(Company.objects.values_list("code", flat=True)) or "none yet"
                raise CommandError(f"no company {code!r} (known: {known})")
            return found
        companies = list(Company.objects.all()[:2])
        if len(companies) == 1:
            return companies[0]
        if not companies:
            raise CommandError(
                "there is no company yet: create one with `dunwell company create` (see README.md)"
            )
        raise CommandError("there are several companies: name one with --company CODE")

    def now(self) -> datetime:
        return clock.now()

    def today(self, company: Company | None = None) -> date:
        return clock.today(company)

    def user(self, username: str) -> User:
        """The user of `--by` and the like, or a clear refusal."""
        found = User.objects.filter(username=username).first()
        if found is None:
            raise CommandError(f"no user {username!r}")
        return found

    def emit_json(self, payload: Any) -> None:
        self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str))

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except DunwellError as exc:
            raise CommandError(str(exc)) from exc
