"""Errors as data: what was wrong in which file, on which line, in which field.

A reader never prints and never stops at the first bad row. Row-level problems become
`FormatError` values the import service shows (and keeps, as rejected rows); a problem that makes
the whole file unreadable (undecodable bytes, malformed XML, a header without the required
columns) raises `FileRejected` carrying the same values.

Every message has one shape, so a person can find the spot and fix it:

    invoices.csv line 14, field "amount": expected a number like 1,234.56, got "12,3x"

Value parsers (`csv_rows.parse_date`, `parse_decimal`, ...) do not know the file or the line:
they raise `FieldError`, and the caller places it with `FieldError.at(file, line, field)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

_MAX_GOT = 80  # a whole line of garbage helps nobody; the start of it does


@dataclass(frozen=True, slots=True)
class FormatError:
    """One problem in a file. `line` is the physical line (1-based) where it is known."""

    file: str
    line: int | None
    field: str | None
    expected: str
    got: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.field is not None:
            where += f', field "{self.field}"'
        message = f"{where}: expected {self.expected}"
        if self.got is not None:
            got = self.got if len(self.got) <= _MAX_GOT else self.got[: _MAX_GOT - 1] + "…"
            message += f', got "{got}"'
        return message


class FileRejected(Exception):  # noqa: N818 - names the outcome, as callers say it
    """The whole file cannot be read; `errors` says why (at least one `FormatError`)."""

    def __init__(self, errors: Iterable[FormatError]) -> None:
        self.errors: list[FormatError] = list(errors)
        if not self.errors:
            raise ValueError("FileRejected needs at least one FormatError")
        super().__init__("; ".join(str(error) for error in self.errors))

    def __reduce__(self) -> tuple[type[FileRejected], tuple[list[FormatError]]]:
        return FileRejected, (self.errors,)  # raised in an import's worker process, re-raised here


class FieldError(ValueError):
    """A value that does not parse; the caller knows the file and line and places it with `at`."""

    def __init__(self, expected: str, got: str | None, *, field: str | None = None) -> None:
        self.expected = expected
        self.got = got
        self.field = field
        super().__init__(f"expected {expected}" + ("" if got is None else f', got "{got}"'))

    def at(self, file: str, line: int | None, field: str | None = None) -> FormatError:
        return FormatError(file, line, field or self.field, self.expected, self.got)
