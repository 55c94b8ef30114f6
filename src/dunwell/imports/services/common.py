"""What every import shares: options, per-row outcomes, the summary, and the run record.

Each row ends in exactly one state: created, updated, unchanged, conflict (the file disagrees
with what is stored in a way that must not be applied silently) or rejected (the row is wrong).
By default a file is atomic: one rejected row and nothing is stored. With `keep_valid` the good
rows are stored and every rejected row is listed with its line, field and reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from django.contrib.auth.models import User

from dunwell.core.errors import DunwellError
from dunwell.core.models import Company
from dunwell.formats.errors import FieldError, FormatError
from dunwell.imports.models import ImportRun, RejectedRow
from dunwell.ledger.services import activity


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Options:
    date_format: str = "iso"
    decimal_sep: str = "."
    thousands_sep: str = ","
    mapping: dict[str, str] = field(default_factory=dict)
    keep_valid: bool = False
    dry_run: bool = False
    allocate: str = "named"  # named | oldest | none
    create_customers: bool = False


class RowResult(NamedTuple):  # a million per large file: a tuple is the cheapest record
    line: int | None
    outcome: Outcome
    key: str = ""
    field: str | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"line": self.line, "key": self.key}
        if self.field:
            entry["field"] = self.field
        if self.reason:
            entry["reason"] = self.reason
        return entry


@dataclass
class Summary:
    """Every row's outcome, kept per outcome (a million created rows are counted, not searched)."""

    kind: str
    file_name: str
    dry_run: bool
    keep_valid: bool
    notes: list[str] = field(default_factory=list)
    applied: bool = False
    file_rejected: bool = False  # the file itself could not be read to its end
    by_outcome: dict[Outcome, list[RowResult]] = field(
        default_factory=lambda: {outcome: [] for outcome in Outcome}
    )

    def add(self, result: RowResult) -> None:
        self.by_outcome[result.outcome].append(result)

    def reject(
        self,
        error: FormatError | FieldError | DunwellError,
        file: str,
        line: int | None,
        key: str = "",
        field_name: str | None = None,
    ) -> None:
        if isinstance(error, FieldError):
            error = error.at(file, line, field_name)
        if isinstance(error, FormatError):
            self.add(RowResult(error.line, Outcome.REJECTED, key, error.field, str(error)))
        else:
            where = f"{file} line {line}" if line else file
            found = error.context.get("field") or field_name
            label = f', field "{found}"' if found else ""
            self.add(
                RowResult(line, Outcome.REJECTED, key, found, f"{where}{label}: {error.message}")
            )

    @property
    def results(self) -> list[RowResult]:
        """All outcomes in the order of the file's lines."""
        every = [r for results in self.by_outcome.values() for r in results]
        return sorted(every, key=lambda r: r.line or 0)

    @property
    def counts(self) -> dict[str, int]:
        return {o.value: len(results) for o, results in self.by_outcome.items()}

    @property
    def rejected(self) -> list[RowResult]:
        return self.by_outcome[Outcome.REJECTED]

    def blocked(self) -> bool:
        """An atomic import stores nothing when any row was rejected; no import stores a file
        that could not be read to its end."""
        return self.file_rejected or (bool(self.rejected) and not self.keep_valid)

    def as_dict(self, *, brief: bool = False) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "kind": self.kind,
            "file": self.file_name,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "counts": self.counts,
            "notes": self.notes,
        }
        for outcome, results in self.by_outcome.items():
            if brief and outcome in (Outcome.CREATED, Outcome.UNCHANGED):
                continue
            ordered = sorted(results, key=lambda r: r.line or 0)
            payload[outcome.value] = [r.as_dict() for r in ordered]
        return payload


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_run(
    *,
    company: Company,
    summary: Summary,
    data: bytes,
    options: Options,
    actor: User | None,
    started: datetime,
    finished: datetime,
) -> ImportRun:
    run = ImportRun.objects.create(
        company=company,
        kind=summary.kind,
        file_name=summary.file_name[:300],
        sha256=sha256(data),
        keep_valid=options.keep_valid,
        status="applied" if summary.applied else "rejected",
        counts=summary.counts,
        options={
            "date_format": options.date_format,
            "decimal_sep": options.decimal_sep,
            "mapping": options.mapping,
            "allocate": options.allocate,
        },
        started_at=started,
        finished_at=finished,
        actor=activity.stored_actor(actor),
    )
    RejectedRow.objects.bulk_create(
        RejectedRow(
            run=run, line=r.line, field=r.field or "", reason=r.reason, status=r.outcome.value
        )
        for outcome in (Outcome.REJECTED, Outcome.CONFLICT)
        for r in summary.by_outcome[outcome]
    )
    return run
