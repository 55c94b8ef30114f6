"""CSV files in, rows of canonical fields out; plus the value parsers the import service uses.

Reading a file is three steps, each refusing the whole file with a clear `FileRejected` when it
cannot be done:

1. **Decode.** A UTF-8 byte-order mark means UTF-8 (and a UTF-16 mark, as Excel's "Unicode text"
   writes, UTF-16). Without a mark the bytes are tried as UTF-8, then as Windows-1252 (cp1252),
   which is what most accounting exports on Windows produce: "Müller" is ``4d fc 6c 6c 65 72``.
   `CsvTable.encoding` says which was used ("utf-8-sig", "utf-16", "utf-8" or "cp1252").
2. **Find the delimiter and the header.** The first non-blank line is the header; the delimiter
   is whichever of ``,`` ``;`` tab ``|`` splits it into the most columns (ties go to that order).
   Header names match the canonical field names ignoring case, surrounding spaces, and
   space-versus-underscore ("Due On" is ``due_on``). A `mapping` names the source column for a
   field (the CLI's ``--map "Invoice No=number"``) and wins over a column that happens to carry
   the canonical name. No other synonyms are guessed. Missing required columns, a mapped column
   absent from the file, and two columns giving one field are all refused, naming the columns
   found.
3. **Read the rows.** Each `CsvRow` has the physical line where its record starts (the header is
   line 1 in a file without leading blank lines); a quoted value spanning lines does not shift
   the numbers of the rows after it. Values are stripped of surrounding spaces. Blank lines (or
   lines of only delimiters) are skipped. A row with more or fewer cells than the header becomes
   a `FormatError` in `CsvTable.errors`, and the other rows are kept (invariant 4).

Values stay text here; the import service parses each with `parse_date`, `parse_decimal`,
`parse_currency` and `to_minor`, which raise `FieldError`, and places the error with
``error.at(file_name, row.line, field)``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dunwell.core.money import MoneyError, check_currency, exponent, parse_amount
from dunwell.formats.errors import FieldError, FileRejected, FormatError

__all__ = [
    "CsvRow",
    "CsvStream",
    "CsvTable",
    "FieldError",
    "check_date_format",
    "decode",
    "parse_currency",
    "parse_date",
    "parse_decimal",
    "parse_minor",
    "read_csv",
    "stream_csv",
    "to_minor",
]

DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    values: dict[str, str]  # canonical field -> stripped text; only fields present in the file

    def get(self, field: str) -> str:
        """The field's text, or "" when the file has no such column."""
        return self.values.get(field, "")


@dataclass(frozen=True, slots=True)
class CsvTable:
    rows: tuple[CsvRow, ...]
    unknown_columns: tuple[str, ...]  # header names that give no field, as written
    errors: tuple[FormatError, ...]  # rows that could not be split into the header's columns
    columns: dict[str, str]  # canonical field -> the header name it was read from
    encoding: str
    delimiter: str


@dataclass(frozen=True, slots=True)
class CsvStream:
    """A file whose header has been read and whose rows are read as they are iterated.

    `rows` gives each record as a `CsvRow`; `records` gives the same records as they were split
    (the physical line and the cells, checked against the header's width), for a reader that
    builds the rows with `make_row` later. Both draw on one stream: read one of them. `errors`
    fills while it is consumed: read it after the last row.
    """

    rows: Iterator[CsvRow]
    records: Iterator[tuple[int, list[str]]]
    make_row: Callable[[int, list[str]], CsvRow]
    body: CsvBody | None  # when the records can be read in pieces (see `CsvBody`)
    unknown_columns: tuple[str, ...]
    errors: list[FormatError]
    columns: dict[str, str]
    encoding: str
    delimiter: str


def stream_csv(
    data: bytes,
    *,
    file_name: str,
    required: Collection[str],
    optional: Collection[str] = (),
    mapping: Mapping[str, str] | None = None,
) -> CsvStream:
    """Like `read_csv`, but rows are produced one at a time (a million rows need no list)."""
    fields = [*required, *(f for f in optional if f not in required)]
    targets = _check_mapping(mapping or {}, fields)
    text, encoding = _decode(data, file_name)
    delimiter = _sniff(text)
    records = _Records(text, delimiter, file_name)
    header = next(records, None)
    if header is None:
        raise FileRejected([FormatError(file_name, 1, None, "a header line with column names")])
    header_line, names = header
    columns, unknown = _match_header(
        names, targets, fields, required=set(required), file_name=file_name, line=header_line
    )
    errors: list[FormatError] = []
    width = len(names)
    make_row = _RowMaker(list(columns.items()))
    split = _checked(records, width, delimiter, file_name, errors)
    body = None
    if '"' not in text and text.count("\r") == text.count("\r\n"):
        start = 0
        for _ in range(header_line):  # the header's line and any blank lines before it
            start = text.find("\n", start) + 1 or len(text)
        body = CsvBody(text, start, header_line + 1, delimiter, width, file_name)
    return CsvStream(
        rows=(make_row(line, cells) for line, cells in split),
        records=split,
        make_row=make_row,
        body=body,
        unknown_columns=tuple(unknown),
        errors=errors,
        columns={field: names[i].strip() for field, i in columns.items()},
        encoding=encoding,
        delimiter=delimiter,
    )


@dataclass(frozen=True, slots=True)
class CsvBody:
    """The records after the header as pieces of the decoded text, read independently (by
    worker processes, which get the text by fork, not by copy).

    Only for a file without quote characters and without lone carriage returns: there every
    line feed ends a record, so the text can be cut after any line feed and each piece knows
    the physical line it starts on.
    """

    text: str
    start: int  # offset of the first line after the header
    line: int  # its physical line number
    delimiter: str
    width: int
    file_name: str

    def pieces(self, size: int) -> Iterator[tuple[int, int, int]]:
        """(start, end, first line) of consecutive pieces of about `size` characters."""
        text, start, line = self.text, self.start, self.line
        while start < len(text):
            end = text.find("\n", start + size)
            end = len(text) if end < 0 else end + 1
            yield start, end, line
            line += text.count("\n", start, end)
            start = end

    def records(
        self, start: int, end: int, line: int, errors: list[FormatError]
    ) -> Iterator[tuple[int, list[str]]]:
        """The records of one piece, as `CsvStream.records` gives them; bad widths to `errors`."""
        records = _Records(self.text[start:end], self.delimiter, self.file_name, first_line=line)
        return _checked(records, self.width, self.delimiter, self.file_name, errors)


def read_csv(
    data: bytes,
    *,
    file_name: str,
    required: Collection[str],
    optional: Collection[str] = (),
    mapping: Mapping[str, str] | None = None,
) -> CsvTable:
    """Read CSV bytes into rows keyed by canonical field names (see the module docstring).

    Raises `FileRejected` when the file cannot be read at all, and `ValueError` when `mapping`
    names a field that is neither required nor optional (a usage error, not a file error).
    """
    stream = stream_csv(
        data, file_name=file_name, required=required, optional=optional, mapping=mapping
    )
    rows = tuple(stream.rows)
    return CsvTable(
        rows=rows,
        unknown_columns=stream.unknown_columns,
        errors=tuple(stream.errors),
        columns=stream.columns,
        encoding=stream.encoding,
        delimiter=stream.delimiter,
    )


# -- reading ----------------------------------------------------------------------------------


def _normalise(name: str) -> str:
    return " ".join(name.strip("\ufeff").replace("_", " ").split()).casefold()


def _check_mapping(mapping: Mapping[str, str], fields: list[str]) -> dict[str, tuple[str, str]]:
    """Normalised source column -> (source as given, field); refuses targets that are no field."""
    targets: dict[str, tuple[str, str]] = {}
    for source, field in mapping.items():
        if field not in fields:
            raise ValueError(
                f"mapping {source}={field}: {field!r} is not a field; expected one of "
                + ", ".join(fields)
            )
        targets[_normalise(source)] = (source, field)
    return targets


def decode(data: bytes, file_name: str) -> tuple[str, str]:
    """The text and the encoding it was read in, as step 1 above says; for the other text
    formats (MT940, BAI2) that decode the same way."""
    return _decode(data, file_name)


def _decode(data: bytes, file_name: str) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return _decode_as(data[len(codecs.BOM_UTF8) :], "utf-8", file_name), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_as(data, "utf-16", file_name), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return _decode_as(data, "cp1252", file_name), "cp1252"


def _decode_as(data: bytes, encoding: str, file_name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 1].hex()
        expected = "text in UTF-8 or Windows-1252 (cp1252)"
        if encoding != "cp1252":
            expected = f"text in {encoding.upper()}, as its byte-order mark says"
        raise FileRejected(
            [FormatError(file_name, line, None, expected, f"byte 0x{bad}")]
        ) from None


def _sniff(text: str) -> str:
    """The candidate delimiter that splits the first non-blank line into the most cells."""
    first = next((line for line in text.splitlines() if line.strip()), "")

    def cells(delimiter: str) -> int:
        return len(next(csv.reader([first], delimiter=delimiter), []))

    return max(DELIMITERS, key=cells)  # max keeps the first of equals: DELIMITERS' order


class _RowMaker:
    """Builds a `CsvRow` from split cells (a class, not a closure, so that it can be pickled)."""

    def __init__(self, wanted: list[tuple[str, int]]) -> None:
        self.wanted = wanted

    def __call__(self, line: int, cells: list[str]) -> CsvRow:
        return CsvRow(line, {field: cells[i].strip() for field, i in self.wanted})


def _checked(
    records: Iterator[tuple[int, list[str]]],
    width: int,
    delimiter: str,
    file_name: str,
    errors: list[FormatError],
) -> Iterator[tuple[int, list[str]]]:
    """The records with the header's number of cells; the others become errors."""
    for line, cells in records:
        extra = cells[width:]
        if extra and not any(cell.strip() for cell in extra):
            del cells[width:]  # trailing delimiters, as some spreadsheets write
        if len(cells) != width:
            expected = f"{width} values separated by {_delimiter_name(delimiter)}"
            errors.append(FormatError(file_name, line, None, expected, f"{len(cells)} values"))
            continue
        yield line, cells


class _Records:
    """Non-blank records with the physical line on which each starts."""

    def __init__(self, text: str, delimiter: str, file_name: str, first_line: int = 1) -> None:
        self._reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        self._file_name = file_name
        self._before = first_line - 1

    def __iter__(self) -> _Records:
        return self

    def __next__(self) -> tuple[int, list[str]]:
        while True:
            start = self._before + self._reader.line_num + 1
            try:
                cells = next(self._reader)
            except csv.Error as exc:
                expected = "a well-formed CSV record (a quoted value must end with a quote)"
                error = FormatError(self._file_name, start, None, expected, str(exc))
                raise FileRejected([error]) from None
            if cells and (cells[0].strip() or any(cell.strip() for cell in cells)):
                return start, cells


def _match_header(
    names: list[str],
    targets: dict[str, tuple[str, str]],
    fields: list[str],
    *,
    required: set[str],
    file_name: str,
    line: int,
) -> tuple[dict[str, int], list[str]]:
    """Field -> column index, and the names of the columns that give no field."""
    canonical = {_normalise(field): field for field in fields}
    mapped = {field for _, field in targets.values()}
    columns: dict[str, int] = {}
    unknown: list[str] = []
    errors: list[FormatError] = []
    found = ", ".join(name.strip() for name in names)
    for index, name in enumerate(names):
        key = _normalise(name)
        field = targets[key][1] if key in targets else canonical.get(key)
        if field is not None and key not in targets and field in mapped:
            field = None  # the mapping names another column for this field
        if field is None:
            if key:
                unknown.append(name.strip())
        elif field in columns:
            first = names[columns[field]].strip()
            expected = f'one column for field "{field}"'
            errors.append(FormatError(file_name, line, None, expected, f"{first}, {name.strip()}"))
        else:
            columns[field] = index
    present = {_normalise(name) for name in names}
    for key, (source, field) in targets.items():
        if key not in present:
            expected = f'a column "{source}" (mapped to {field})'
            errors.append(FormatError(file_name, line, None, expected, found))
    missing = [f for f in fields if f in required and f not in columns and f not in mapped]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        expected = f"the required column{plural} {', '.join(missing)}"
        errors.append(FormatError(file_name, line, None, expected, found))
    if errors:
        raise FileRejected(errors)
    return columns, unknown


def _delimiter_name(delimiter: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}[delimiter]


# -- values -----------------------------------------------------------------------------------

_EXAMPLE_DAY = date(2013, 1, 26)
# name -> (pattern with groups year, month, day; the same with a two-digit year; example)
_NAMED_FORMATS: dict[str, tuple[re.Pattern[str], re.Pattern[str], str]] = {
    "iso": (
        re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
        re.compile(r"\d{2}-\d{1,2}-\d{1,2}"),
        "2013-01-26",
    ),
    "dmy": (
        re.compile(r"(?P<d>\d{1,2})(?P<s>[./-])(?P<m>\d{1,2})(?P=s)(?P<y>\d{4})"),
        re.compile(r"\d{1,2}(?P<s>[./-])\d{1,2}(?P=s)\d{2}"),
        "26.01.2013",
    ),
    "mdy": (
        re.compile(r"(?P<m>\d{1,2})(?P<s>[/-])(?P<d>\d{1,2})(?P=s)(?P<y>\d{4})"),
        re.compile(r"\d{1,2}(?P<s>[/-])\d{1,2}(?P=s)\d{2}"),
        "1/26/2013",
    ),
}


def check_date_format(fmt: str) -> str:
    """Return `fmt` if it is "iso", "dmy", "mdy" or a strftime pattern with a four-digit year.

    Raises `ValueError` (a usage error: the format comes from the command line or settings).
    """
    if fmt in _NAMED_FORMATS:
        return fmt
    if "%" not in fmt:
        raise ValueError(f"unknown date format {fmt!r}: expected iso, dmy, mdy or a %-pattern")
    if "%y" in fmt:
        raise ValueError(f"date format {fmt!r} has a two-digit year (%y): use %Y")
    if "%Y" not in fmt or "%d" not in fmt or not ("%m" in fmt or "%b" in fmt or "%B" in fmt):
        raise ValueError(f"date format {fmt!r} needs a day (%d), a month (%m/%b) and %Y")
    return fmt


def parse_date(text: str, fmt: str) -> date:
    """Read a date written as `fmt` (see `check_date_format`); two-digit years are refused.

    iso: 2013-01-26; dmy: 26.01.2013, 26/01/2013, 26-01-2013; mdy: 1/26/2013, 01/26/2013.
    """
    raw = text.strip()
    if check_date_format(fmt) not in _NAMED_FORMATS:
        example = f"{_EXAMPLE_DAY.strftime(fmt)} ({fmt})"
        try:
            parsed = time.strptime(raw, fmt)
        except ValueError:
            raise FieldError(f"a date like {example}", text) from None
        return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)
    pattern, two_digit_year, example = _NAMED_FORMATS[fmt]
    if two_digit_year.fullmatch(raw):
        raise FieldError(f"a date with a four-digit year like {example}", text)
    match = pattern.fullmatch(raw)
    if match is None:
        raise FieldError(f"a date like {example}", text)
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        raise FieldError(f"a date that exists, like {example}", text) from None


def parse_decimal(text: str, decimal_sep: str = ".", thousands_sep: str = ",") -> Decimal:
    """Read a number such as 1,234.56 or (with the separators swapped) 1.234,56.

    Delegates to `core.money.parse_amount`: negative amounts may be written -12.00, (12.00) or
    12.00-; thousands groups must have three digits.
    """
    try:
        return parse_amount(text, decimal_sep=decimal_sep, thousands_sep=thousands_sep)
    except MoneyError:
        raise FieldError(f"a number like 1{thousands_sep}234{decimal_sep}56", text) from None


def parse_currency(text: str) -> str:
    """An ISO 4217 code, upper-cased ("eur" is EUR)."""
    try:
        return check_currency(text.strip())
    except MoneyError:
        raise FieldError("an ISO 4217 currency code like EUR", text) from None


_PLAIN_AMOUNT = re.compile(r"(-?)(\d{1,15})(?:\.(\d{1,3}))?")


def parse_minor(text: str, currency: str, decimal_sep: str = ".", thousands_sep: str = ",") -> int:
    """`to_minor(parse_decimal(text, ...), currency)`, with a quick path for plain "1234.56"."""
    plain = _PLAIN_AMOUNT.fullmatch(text) if decimal_sep == "." else None
    if plain is not None:
        fraction: str = plain[3] or ""
        places = exponent(currency)
        if len(fraction) <= places:
            minor = int(plain[2] + fraction.ljust(places, "0"))
            return -minor if plain[1] else minor
    return to_minor(parse_decimal(text, decimal_sep, thousands_sep), currency)


def to_minor(amount: Decimal, currency: str) -> int:
    """Integer minor units; refuses more decimals than the currency has (1.005 EUR)."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        places = exponent(currency)
        expected = f"an amount with at most {places} decimals for {currency}"
        raise FieldError(expected, str(amount))
    return int(scaled)
