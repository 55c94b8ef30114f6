"""`dunwell demo build [--fresh]` and `dunwell demo serve`: the demo company, ready to click through.

`build --fresh` deletes the SQLite database file first and migrates; without it the demo is added
to the current database (refused when the demo company is already there).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from rich.console import Console
from rich.table import Table

from dunwell.core import clock
from dunwell.core.management.base import parse_iso_date
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.demo.bank import DAYS as BANK_DAYS
from dunwell.demo.build import COMPANY_CODE, PASSWORD, DemoStats, build_demo


class Command(BaseCommand):
    help = "Build the demo company (Northwind Components GmbH) or serve the web interface."
    requires_system_checks: list[str] = []  # `build --fresh` deletes the database first

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{build,serve}")
        build = actions.add_parser("build", help="create the demo company and 18 months of history")
        build.add_argument(
            "--fresh", action="store_true", help="delete the SQLite database and migrate first"
        )
        build.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
        build.add_argument("--customers", type=int, default=320, help="number of customers")
        build.add_argument("--months", type=int, default=18, help="months of history")
        build.add_argument(
            "--as-of", type=parse_iso_date, help="last day of the history (default: today)"
        )
        serve = actions.add_parser("serve", help="serve the web interface")
        serve.add_argument("--addr", default="127.0.0.1:8000", help="address:port to listen on")

    def handle(self, *args: Any, **options: Any) -> None:
        self.console = Console(file=cast("IO[str]", self.stdout._out), highlight=False, width=100)
        if options["action"] == "build":
            self.build(options)
        else:
            self.serve(options["addr"])

    # -- build ------------------------------------------------------------------------------------

    def build(self, options: dict[str, Any]) -> None:
        if options["customers"] < 1 or options["months"] < 1:
            raise CommandError("--customers and --months must be at least 1")
        if options["fresh"]:
            self.fresh()
        if Company.objects.filter(code=COMPANY_CODE).exists():
            raise CommandError(
                f"the demo company {COMPANY_CODE!r} already exists: "
                "run `dunwell demo build --fresh` to start over"
            )
        as_of = options["as_of"] or clock.today()
        at = clock.now().astimezone(UTC)
        if as_of > at.date():  # a demo "as of" a later day: record everything on that day
            at = datetime(as_of.year, as_of.month, as_of.day, 23, 59, tzinfo=UTC)
        console = self.console
        started = time.perf_counter()

        # Lines, not a spinner: a spinner's refresh thread would keep the statements of the
        # last day from being laid out in worker processes (core.processes).
        stats = build_demo(
            seed=options["seed"],
            customers=options["customers"],
            months=options["months"],
            as_of=as_of,
            at=at,
            progress=console.log,
        )
        self.summary(stats, as_of, time.perf_counter() - started)

    def fresh(self) -> None:
        database = settings.DATABASES["default"]
        if database["ENGINE"] != "django.db.backends.sqlite3":
            raise CommandError(
                "--fresh deletes the SQLite database file; with another database, "
                "drop and recreate it yourself, then run `dunwell demo build`"
            )
        connections.close_all()
        name = Path(str(database["NAME"]))
        for path in (name, Path(f"{name}-wal"), Path(f"{name}-shm"), Path(f"{name}-journal")):
            if path.exists():
                path.unlink()
        self.console.log(f"deleted {name}; migrating")
        call_command("migrate", interactive=False, verbosity=0)

    def summary(self, stats: DemoStats, as_of: Any, seconds: float) -> None:
        table = Table(title=f"{stats.company.legal_name}: demo as of {as_of}", show_header=False)
        table.add_column("what")
        table.add_column("count", justify="right")
        for label, value in (
            ("customers", stats.customers),
            ("contacts", stats.contacts),
            ("invoices", stats.invoices),
            ("credit notes", stats.credit_notes),
            ("payments booked directly", stats.payments),
            ("allocations", stats.allocations),
            ("write-offs", stats.write_offs),
            ("history entries", stats.activities),
            ("open invoices", stats.open_invoices),
            ("overdue invoices", stats.overdue_invoices),
        ):
            table.add_row(label, f"{value:,}")
        for currency, minor in stats.overdue_by_currency.items():
            table.add_row(f"overdue {currency}", _money(minor, currency))
        for currency, minor in stats.unapplied_by_currency.items():
            table.add_row(f"unapplied cash {currency}", _money(minor, currency))
        table.add_row(
            "payment behaviours", ", ".join(f"{k} {v}" for k, v in stats.behaviours.items())
        )
        cycle = stats.cycle
        table.add_row(
            f"collections, last {cycle.days} business days",
            f"{cycle.decisions:,} decisions, {cycle.emails:,} emails sent (to a mailbox in "
            f"memory), {cycle.letters:,} letters, {cycle.calls:,} call tasks ({cycle.calls_made:,} "
            f"made), {cycle.approved:,} "
            f"approved, {cycle.waiting:,} awaiting approval",
        )
        cases = cycle.cases
        table.add_row(
            "cases worked in the month",
            f"{cases.calls_logged:,} calls logged, {cases.promises:,} promises to pay, "
            f"{cases.disputes:,} disputes, {cases.plans:,} payment plan, {cases.placements:,} "
            f"placement with an agency, {cases.payments:,} payments applied",
        )
        bank = stats.bank
        share = f" ({100 * bank.applied / bank.credits:.1f} %)" if bank.credits else ""
        table.add_row(
            f"bank statements, last {BANK_DAYS} days",
            f"{bank.statements:,} camt.053 statements, {bank.entries:,} lines: {bank.applied:,} of "
            f"{bank.credits:,} credits applied automatically{share}, {bank.queued:,} in the "
            "review queue",
        )
        table.add_row("build seconds", f"{seconds:.1f}")
        self.console.print(table)
        self.login_lines()
        existing = [
            u for u in ("admin", "credit", "collector", "viewer") if u not in stats.users_created
        ]
        if existing:
            self.console.print(
                f"(users that existed before kept their passwords: {', '.join(existing)})"
            )

    def login_lines(self) -> None:
        # The address is `demo serve`'s to print: only it knows where it listens.
        self.console.print(
            f"\nLog in as [bold]collector[/] / [bold]{PASSWORD}[/] (also admin, credit, viewer) "
            "once [bold]dunwell demo serve[/] runs: it prints the address to open. "
            "admin sets up an authenticator app at the first sign-in (administrators need one)."
        )

    # -- serve ------------------------------------------------------------------------------------

    def serve(self, addr: str) -> None:
        settings.DEBUG = False  # WhiteNoise (with finders) serves the static files
        self.console.print(
            f"\nOpen [bold]{serve_url(addr)}[/] and log in as [bold]collector[/] / "
            f"[bold]{PASSWORD}[/] (also admin, credit, viewer; admin sets up an authenticator "
            "app at the first sign-in)"
        )
        call_command("runserver", addr, use_reloader=False)


def serve_url(addr: str) -> str:
    """The address to open in a browser for `runserver ADDR` ("8000", "0.0.0.0:8080", "[::1]:80")."""
    host, _, port = addr.rpartition(":")
    if host in ("", "0.0.0.0", "[::]"):  # noqa: S104 - listening everywhere: this machine answers
        host = "127.0.0.1"
    return f"http://{host}:{port or '8000'}"


def _money(minor: int, currency: str) -> str:
    return f"{Money.from_minor(minor, currency).amount:,} {currency}"
