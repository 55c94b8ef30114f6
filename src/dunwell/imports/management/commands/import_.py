"""`dunwell import customers|invoices|credit-notes|payments FILE.csv` and `dunwell import einvoice FILE...`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.core.management.base import DunwellCommand
from dunwell.formats.csv_rows import check_date_format
from dunwell.imports.services.common import Options, Outcome
from dunwell.imports.services.run import KINDS, run_import


def parse_map(values: list[str]) -> dict[str, str]:
    mapping = {}
    for value in values:
        source, sep, target = value.rpartition("=")
        if not sep or not source.strip() or not target.strip():
            raise CommandError(
                f"--map {value!r}: expected SOURCE_COLUMN=FIELD, e.g. 'Invoice No=number'"
            )
        mapping[source.strip()] = target.strip()
    return mapping


class Command(DunwellCommand):
    help = (
        "Import customers, invoices, credit notes or payments from CSV, or e-invoices (UBL, CII)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("files", nargs="+", type=Path)
        super().add_arguments(parser)
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="SOURCE=FIELD",
            help="read column SOURCE as FIELD (repeatable)",
        )
        parser.add_argument(
            "--date-format",
            default="iso",
            help="iso (2013-01-26), dmy (26.01.2013), mdy (1/26/2013) or a %%-pattern",
        )
        parser.add_argument("--decimal", default=".", help="decimal separator (default '.')")
        parser.add_argument(
            "--thousands", default=None, help="thousands separator (default ',' or '.')"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report; store nothing"
        )
        parser.add_argument(
            "--keep-valid",
            action="store_true",
            help="store the valid rows and report the rejected ones (default: all or nothing)",
        )
        parser.add_argument(
            "--allocate",
            choices=("named", "oldest", "none"),
            default="named",
            help="payments: allocate to the invoices named in the row (default), or oldest first",
        )
        parser.add_argument(
            "--create-customers",
            action="store_true",
            help="einvoice: create a customer for an unknown buyer",
        )
        parser.add_argument(
            "--brief", action="store_true", help="json: leave out created and unchanged rows"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        kind = options["kind"]
        if kind != "einvoice" and len(options["files"]) != 1:
            raise CommandError(f"import {kind} takes one CSV file at a time")
        try:
            check_date_format(options["date_format"])
        except ValueError as exc:
            raise CommandError(f"--date-format: {exc}") from None
        thousands = options["thousands"] or ("." if options["decimal"] == "," else ",")
        files = []
        for path in options["files"]:
            try:
                files.append((path.name, path.read_bytes()))
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        settings = Options(
            date_format=options["date_format"],
            decimal_sep=options["decimal"],
            thousands_sep=thousands,
            mapping=parse_map(options["map"]),
            keep_valid=options["keep_valid"],
            dry_run=options["dry_run"],
            allocate=options["allocate"],
            create_customers=options["create_customers"],
        )
        summary = run_import(
            company=company, kind=kind, files=files, options=settings, actor=None, at=self.now()
        )
        if options["format"] == "json":
            self.emit_json(summary.as_dict(brief=options["brief"]))
        else:
            self._table(summary)
        if summary.rejected and not summary.applied and not summary.dry_run:
            raise CommandError(
                f"{len(summary.rejected)} row(s) rejected: nothing was imported "
                "(fix them, or pass --keep-valid to import the rest)"
            )

    def _table(self, summary: Any) -> None:
        counts = summary.counts
        state = (
            "dry run, nothing stored"
            if summary.dry_run
            else ("applied" if summary.applied else "NOT applied")
        )
        self.stdout.write(
            f"{summary.kind} from {summary.file_name} ({state}): "
            + ", ".join(f"{n} {k}" for k, n in counts.items())
        )
        for note in summary.notes:
            self.stdout.write(f"  note: {note}")
        shown = (Outcome.REJECTED, Outcome.CONFLICT, Outcome.UPDATED)
        for result in sorted(
            (r for outcome in shown for r in summary.by_outcome[outcome]), key=lambda r: r.line or 0
        ):
            self.stdout.write(
                f"  {result.outcome.value:9} line {result.line or '-'}: {result.reason or result.key}"
            )
