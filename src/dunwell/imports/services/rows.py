"""Reading one CSV row's fields with the file's formats; a bad value raises a placed FormatError."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dunwell.formats.csv_rows import CsvRow, parse_currency, parse_date, parse_minor
from dunwell.formats.errors import FieldError, FormatError
from dunwell.imports.services.common import Options


class RowError(Exception):
    def __init__(self, error: FormatError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class RowReader:
    """Reads fields of one file's rows. Dates and currency codes repeat across a file's rows, so
    each distinct text is parsed once (a million invoices have a few thousand issue dates)."""

    file_name: str
    options: Options
    _dates: dict[str, date] = field(default_factory=dict, compare=False, repr=False)
    _currencies: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

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
        known = self._dates.get(value)
        if known is not None:
            return known
        try:
            parsed = self._dates[value] = parse_date(value, self.options.date_format)
            return parsed
        except FieldError as error:
            raise self._fail(row, name, error) from None

    def currency(self, row: CsvRow, name: str, default: str = "") -> str:
        value = row.get(name) or default
        known = self._currencies.get(value)
        if known is not None:
            return known
        try:
            code = self._currencies[value] = parse_currency(value)
            return code
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
            minor = parse_minor(
                value, currency, self.options.decimal_sep, self.options.thousands_sep
            )
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
