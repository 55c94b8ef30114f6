"""Reading one CSV row's fields with the file's formats; a bad value raises a placed FormatError."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dunwell.formats.csv_rows import CsvRow, parse_currency, parse_date, parse_decimal, to_minor
from dunwell.formats.errors import FieldError, FormatError
from dunwell.imports.services.common import Options


class RowError(Exception):
    def __init__(self, error: FormatError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class RowReader:
    file_name: str
    options: Options

    def _fail(self, row: CsvRow, name: str, error: FieldError) -> RowError:
        return RowError(error.at(self.file_name, row.line, name))

    def text(self, row: CsvRow, name: str, *, required: bool = False) -> str:
        value = row.get(name)
        if required and not value:
            raise self._fail(row, name, FieldError("a value", ""))
        return value

    def date(self, row: CsvRow, name: str, *, required: bool = True) -> date | None:
        value = row.get(name)
        if not value:
            if required:
                raise self._fail(row, name, FieldError("a date", ""))
            return None
        try:
            return parse_date(value, self.options.date_format)
        except FieldError as error:
            raise self._fail(row, name, error) from None

    def currency(self, row: CsvRow, name: str, default: str = "") -> str:
        value = row.get(name) or default
        try:
            return parse_currency(value)
        except FieldError as error:
            raise self._fail(row, name, error) from None

    def amount(
        self, row: CsvRow, name: str, currency: str, *, required: bool = True, positive: bool = True
    ) -> int | None:
        value = row.get(name)
        if not value:
            if required:
                raise self._fail(row, name, FieldError("an amount", ""))
            return None
        try:
            number = parse_decimal(value, self.options.decimal_sep, self.options.thousands_sep)
            minor = to_minor(number, currency)
        except FieldError as error:
            raise self._fail(row, name, error) from None
        if positive and minor <= 0:
            raise self._fail(row, name, FieldError("an amount above zero", value))
        return minor

    def flag(self, row: CsvRow, name: str) -> bool:
        value = row.get(name).lower()
        if value in ("", "0", "no", "false", "n"):
            return False
        if value in ("1", "yes", "true", "y", "x"):
            return True
        raise self._fail(row, name, FieldError("yes or no", row.get(name)))
