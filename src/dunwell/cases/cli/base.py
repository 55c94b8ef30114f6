"""The pieces of `dunwell case`: each topic (disputes, promises, plans, ...) is a module with an
`ACTIONS` table of subcommands, so that a topic is added without touching the others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.core.management.base import CommandError, CommandParser

from dunwell.core.models import Company
from dunwell.ledger.models import Customer, OpenItem

if TYPE_CHECKING:
    from dunwell.core.management.base import DunwellCommand


@dataclass(frozen=True)
class Context:
    """What every subcommand gets: the command (for output and user lookups), the company, the
    acting user and the business date and instant, read once by the command."""

    command: DunwellCommand
    company: Company
    actor: User | None
    on: date
    at: datetime
    options: dict[str, Any]

    @property
    def json(self) -> bool:
        return bool(self.options.get("format") == "json")

    def emit(self, payload: Any, text: str) -> None:
        """JSON for scripts, or one line of text for people."""
        if self.json:
            self.command.emit_json(payload)
        else:
            self.command.stdout.write(text)

    def customer(self, account_number: str) -> Customer:
        found = Customer.objects.filter(company=self.company, account_number=account_number).first()
        if found is None:
            raise CommandError(f"no customer {account_number!r} in {self.company.code}")
        return found

    def item(self, customer: Customer, number: str) -> OpenItem:
        found = OpenItem.objects.filter(
            company=self.company, customer=customer, number=number.strip()
        ).first()
        if found is None:
            raise CommandError(f"{customer.account_number} has no invoice {number!r}")
        return found

    def user(self, username: str | None) -> User | None:
        return self.command.user(username) if username else None


@dataclass(frozen=True)
class Action:
    help: str
    arguments: Callable[[CommandParser], None]
    run: Callable[[Context], None]


# Topics of layers above cases (the workflows app's calls, the reports app's case file): they
# register themselves when their app is ready, so cases never imports them.
REGISTERED: list[ModuleType] = []


def register_topic(topic: ModuleType) -> None:
    """Add a module with an `ACTIONS` table to `dunwell case` (once)."""
    if topic not in REGISTERED:
        REGISTERED.append(topic)
