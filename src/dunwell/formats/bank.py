"""One entry point for bank statement files: tell the format from the content, then read it.

`detect` looks at the bytes, never at the file name (a camt.054 saved as ``.txt`` is still a
camt.054):

- XML: the message element or the namespace says camt.053 (``BkToCstmrStmt``) or camt.054
  (``BkToCstmrDbtCdtNtfctn``); an ``<?OFX`` header or ``<OFX>`` root says OFX 2.
- ``OFXHEADER`` or ``<OFX>`` near the start: OFX 1 (SGML).
- ``{1:`` (a SWIFT envelope) at the start, or a ``:20:`` line: MT940.
- ``01,`` at the start: BAI2.
- Any other text: CSV.

Empty files, PDFs, spreadsheets and other binary files, and XML that is no bank statement are
refused with a message naming the file. `read_statements` then calls the format's reader, which
refuses a truncated file (XML cut mid-way, an MT940 statement without its closing balance, a
BAI2 file without its 99 trailer) naming the line.

Statement ids are made unique within a file: a statement whose account and id repeat an earlier
one's gets "#2", "#3"... appended (the Rabobank sample has two statements ``940S130101/0`` for
one account), so that account, statement id and entry position stay a key.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import replace

from dunwell.formats.bai2 import read_bai2
from dunwell.formats.bank_csv import CsvMapping, read_bank_csv
from dunwell.formats.camt import read_camt
from dunwell.formats.errors import FileRejected, FormatError
from dunwell.formats.mt940 import read_mt940
from dunwell.formats.ofx import read_ofx
from dunwell.formats.statements import Statement

FORMATS = ("camt.053", "camt.054", "mt940", "ofx", "bai2", "csv")
_HEAD = 4096  # bytes looked at: the root element and headers sit well inside them
_EXPECTED = "a bank statement: camt.053, camt.054, MT940, OFX, BAI2 or CSV"
_BINARY = {
    b"%PDF-": "a PDF file",
    b"PK\x03\x04": "a ZIP archive (an Excel workbook?): export the statement as CSV",
    b"\xd0\xcf\x11\xe0": "an old Excel or Word file: export the statement as CSV",
}
_CAMT = {
    "BkToCstmrStmt": "camt.053",
    "BkToCstmrDbtCdtNtfctn": "camt.054",
}
_CAMT_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.")


def detect(data: bytes, filename: str) -> str:
    """The format of the file's content, one of `FORMATS`; `FileRejected` when it is none."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        text = data[: 2 * _HEAD].decode("utf-16", "replace").lstrip("\ufeff \t\r\n")
        head = text.encode("utf-8")
    else:
        head = data[:_HEAD].lstrip(b"\xef\xbb\xbf \t\r\n")
        text = head.decode("utf-8", "replace")
    if not head:
        raise FileRejected([FormatError(filename, None, None, _EXPECTED, "an empty file")])
    for magic, what in _BINARY.items():
        if head.startswith(magic):
            raise FileRejected([FormatError(filename, None, None, _EXPECTED, what)])
    upper = text.upper()
    if "OFXHEADER" in upper[:512] or upper.startswith("<OFX>") or "<?OFX" in upper[:512]:
        return "ofx"
    if text.startswith("<"):
        return _xml_format(text, filename)
    if text.startswith(("{1:", ":940:")) or re.search(r"(?m)^:20:", text):
        return "mt940"
    if text.startswith("01,"):
        return "bai2"
    if "\x00" in text:
        raise FileRejected([FormatError(filename, None, None, _EXPECTED, "a binary file")])
    return "csv"


def _xml_format(text: str, filename: str) -> str:
    for element, kind in _CAMT.items():
        if re.search(rf"<(\w+:)?{element}[\s>]", text):
            return kind
    namespace = _CAMT_NAMESPACE.search(text)
    if namespace and namespace[1] in ("053", "054"):
        return f"camt.{namespace[1]}"
    root = re.search(r"<(?![?!])([\w:.-]+)", text)
    got = f"XML with the root element {root[1]}" if root else "XML"
    if namespace and namespace[1] == "052":
        got = "a camt.052 intraday report (read its end-of-day camt.053 instead)"
    raise FileRejected([FormatError(filename, 1, None, _EXPECTED, got)])


def read_statements(
    data: bytes, filename: str, format: str | None = None, *, mapping: CsvMapping | None = None
) -> list[Statement]:
    """The statements in the file, read as `format` (one of `FORMATS`) or as `detect` says.

    `mapping` names the columns of a CSV file (`bank_csv.CsvMapping`); without it common
    headers are recognised. Raises `FileRejected` for a file that cannot be read, and
    `ValueError` for a `format` that is none of `FORMATS` (a usage error).
    """
    kind = format or detect(data, filename)
    if kind in ("camt.053", "camt.054"):
        statements = read_camt(data, file_name=filename)
        other = next((s.format for s in statements if s.format != kind), None)
        if format is not None and other is not None:
            got = f"a {other} message"
            raise FileRejected([FormatError(filename, 1, None, f"a {kind} message", got)])
    elif kind == "mt940":
        statements = read_mt940(data, file_name=filename)
    elif kind == "ofx":
        statements = read_ofx(data, file_name=filename)
    elif kind == "bai2":
        statements = read_bai2(data, file_name=filename)
    elif kind == "csv":
        statements = read_bank_csv(data, file_name=filename, mapping=mapping)
    else:
        raise ValueError(
            f"unknown bank statement format {kind!r}: expected one of {', '.join(FORMATS)}"
        )
    return _unique_ids(statements)


def _unique_ids(statements: list[Statement]) -> list[Statement]:
    seen: Counter[tuple[str, str, str]] = Counter()
    unique = []
    for statement in statements:
        key = (statement.account_iban, statement.account_number, statement.statement_id)
        seen[key] += 1
        repeat = seen[key]
        unique.append(
            replace(statement, statement_id=f"{statement.statement_id}#{repeat}")
            if repeat > 1
            else statement
        )
    return unique
