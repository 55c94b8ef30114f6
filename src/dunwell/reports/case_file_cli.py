"""`dunwell case file --customer C001 [--as-of D] --out FILE.zip`: the case file (`case_file`)
written to a file, its export recorded in the customer's history."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError, CommandParser

from dunwell.cases.cli.base import Action, Context
from dunwell.cases.services.placements import record_case_file_export
from dunwell.core.management.base import parse_iso_date
from dunwell.reports.case_file import build


def _arguments(parser: CommandParser) -> None:
    parser.add_argument("--customer", required=True, help="account number")
    parser.add_argument("--as-of", type=parse_iso_date, help="the day it shows (default: today)")
    parser.add_argument("--out", required=True, type=Path, help="the ZIP file to write")


def _file(context: Context) -> None:
    options = context.options
    customer = context.customer(options["customer"])
    as_of = options["as_of"] or context.on
    out: Path = options["out"]
    if not out.parent.is_dir():
        raise CommandError(f"--out {str(out)!r}: the folder {str(out.parent)!r} does not exist")
    made = build(context.company, customer, as_of)
    out.write_bytes(made.data)
    record_case_file_export(company=context.company, customer=customer, as_of=as_of,
                            files=made.files, sha256=made.sha256, on=context.on, at=context.at,
                            actor=context.actor)  # fmt: skip
    payload = {"customer": customer.account_number, "as_of": as_of.isoformat(),
               "out": str(out), "files": made.files, "size": len(made.data),
               "sha256": made.sha256}  # fmt: skip
    context.emit(payload, f"{out}: {made.files} files, {len(made.data)} bytes, SHA-256 "
                          f"{made.sha256}")  # fmt: skip


ACTIONS = {"file": Action("the case file of a customer, as a ZIP", _arguments, _file)}
