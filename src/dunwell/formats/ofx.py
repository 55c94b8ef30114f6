"""OFX bank statements in, `Statement` values out: OFX 1.x (SGML) and 2.x (XML), via `ofxtools`.

`ofxtools` reads the header and builds the element tree, which is the hard part of OFX 1.x:
SGML where data elements have no closing tags. The values are read from that tree here rather
than through ofxtools' `convert()`, for three reasons:

- `convert()` turns every timestamp into UTC, so a posting at 20:00 PST on 31 August becomes
  1 September; a statement's dates are the bank's local days, read here as written (the first
  eight digits of ``20130831165153.000[-8:PST]``).
- It refuses a whole file for a field Dunwell does not need: a statement without a ledger
  balance, a transaction without a FITID.
- Its tree keeps the markup's entities (``&amp;``) as written; they are unescaped here.

ofxtools refuses a file without an OFX header, or with a header it cannot read (a version 2
header missing OLDFILEUID, a CHARSET of NONE over Windows-1252 text). Such a file is read again
with a plain version 1 header in front of its ``<OFX>`` element, which its parser reads for both
syntaxes.

What is read: each ``STMTRS`` (bank) and ``CCSTMTRS`` (credit card) is a statement in
``CURDEF`` for ``BANKACCTFROM/ACCTID`` (``CCACCTFROM``); ``LEDGERBAL`` is the closing balance
(OFX has no opening one); the id is the ``BANKTRANLIST`` period (DTSTART-DTEND). Each
``STMTTRN``: ``TRNAMT`` as signed by the bank, ``FITID`` the bank reference, ``TRNTYPE`` the
code, ``DTPOSTED`` the booking date and ``DTAVAIL`` (funds available) the value date, else
``DTPOSTED`` (``DTUSER``, the day the payer initiated it, is kept as a reference: it would date
a payment before the money arrived). ``NAME`` (or ``PAYEE/NAME``) is the counterparty, ``MEMO``
the remittance text, ``CHECKNUM``/``REFNUM``/``SRVRTID`` references, ``BANKACCTTO`` the
counterparty's account, ``CURRENCY/CURSYM`` the currency when not ``CURDEF``.

A file that does not end with ``</OFX>`` is refused as truncated.
"""

from __future__ import annotations

import io
import re
import warnings
import xml.etree.ElementTree as ET  # ofxtools builds the tree; ElementTree parses nothing here
from datetime import date
from decimal import Decimal

from dunwell.formats.bank_values import check_places, currency_code, iban_or_account
from dunwell.formats.errors import FieldError, FileRejected, FormatError
from dunwell.formats.statements import Entry, Remittance, Statement, Transaction

_PLAIN_HEADER = (
    "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:{encoding}\n"
    "CHARSET:{charset}\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
)
_OFX_START = re.compile(rb"<OFX>", re.IGNORECASE)
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_AMOUNT = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def read_ofx(data: bytes, *, file_name: str) -> list[Statement]:
    """Every bank or credit-card statement in the file, in file order."""
    root = _tree(data, file_name)
    if not data.rstrip().upper().endswith(b"</OFX>"):
        last = data.rstrip().count(b"\n") + 1
        expected = "the end of the OFX document (</OFX>)"
        raise FileRejected([FormatError(file_name, last, None, expected, "the end of the file")])
    reader = _Reader(file_name, data, root)
    statements = [
        reader.statement(node) for node in root.iter() if node.tag in ("STMTRS", "CCSTMTRS")
    ]
    if not statements and not reader.errors:
        expected = "a bank or credit card statement (STMTRS or CCSTMTRS)"
        reader.errors.append(FormatError(file_name, None, None, expected, None))
    if reader.errors:
        raise FileRejected(reader.errors)
    return [statement for statement in statements if statement is not None]


def _tree(data: bytes, file_name: str) -> ET.Element:
    """The element tree ofxtools builds; with a plain header when it refuses the file's.
    (ofxtools is imported here, by the first OFX file: it takes 0.16 s, every command would.)"""
    from ofxtools.header import OFXHeaderError  # noqa: PLC0415 - see the docstring

    try:
        return _parse(data, file_name, data)
    except (OFXHeaderError, UnicodeDecodeError):
        start = _OFX_START.search(data)
        if start is None:
            got = next((line.strip() for line in data.splitlines() if line.strip()), b"")
            expected = "an OFX file (an OFX header and an <OFX> element)"
            shown = got.decode("ascii", "replace")[:80] or "an empty file"
            raise FileRejected([FormatError(file_name, 1, None, expected, shown)]) from None
        body = data[start.start() :]
        try:
            body.decode("utf-8")
            header = _PLAIN_HEADER.format(encoding="UTF-8", charset="NONE")
        except UnicodeDecodeError:
            header = _PLAIN_HEADER.format(encoding="USASCII", charset="1252")
        return _parse(header.encode("ascii") + body, file_name, data)


def _parse(prepared: bytes, file_name: str, data: bytes) -> ET.Element:
    from ofxtools.Parser import OFXTree, ParseError  # noqa: PLC0415 - see _tree

    tree = OFXTree()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ofxtools warns about private tags (INTU.BID), harmless
        try:
            tree.parse(io.BytesIO(prepared))
        except ParseError as exc:
            got = re.sub(r" - position=\[.*$", "", str(exc.args[0]), flags=re.DOTALL)
            got = got.split(" in ", 1)[0] if got.startswith("Tail text") else got
            error = FormatError(
                file_name, _error_line(exc, data), None, "well-formed OFX markup", got
            )
            raise FileRejected([error]) from None
    root = tree.getroot()
    if root is None:
        raise FileRejected([FormatError(file_name, None, None, "an <OFX> element", None)])
    return root


def _error_line(exc: Exception, data: bytes) -> int | None:
    """The physical line of a markup error: ofxtools counts characters from <OFX>."""
    start = _OFX_START.search(data)
    position = re.search(r"position=\[(\d+):", str(exc.args[0]))
    if start is None:
        return None
    body = data[start.start() :].decode("utf-8", "replace")
    offset = int(position[1]) if position else 0
    return data[: start.start()].count(b"\n") + 1 + body[:offset].count("\n")


def _lines_of(data: bytes, tag: bytes) -> list[int]:
    """The physical line of each occurrence of `tag`, counting newlines once through the file."""
    lines: list[int] = []
    line, position = 1, 0
    for match in re.finditer(re.escape(tag), data, re.IGNORECASE):
        line += data.count(b"\n", position, match.start())
        position = match.start()
        lines.append(line)
    return lines


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _ENTITIES[name]

    return _ENTITY.sub(replace, text)


class _Reader:
    def __init__(self, file_name: str, data: bytes, root: ET.Element) -> None:
        self.file_name = file_name
        self.errors: list[FormatError] = []
        self.created_at = self.text(root, ".//SONRS/DTSERVER")
        # The tree has no line numbers: the n-th <STMTTRN> in the text is the n-th element.
        self.lines = {
            tag: _lines_of(data, rb"<" + tag + rb">")
            for tag in (b"STMTRS", b"CCSTMTRS", b"STMTTRN")
        }
        self.seen = dict.fromkeys(self.lines, 0)

    def line_of(self, tag: str) -> int | None:
        key = tag.encode("ascii")
        index = self.seen[key]
        self.seen[key] += 1
        found = self.lines[key]
        return found[index] if index < len(found) else None

    @staticmethod
    def text(node: ET.Element | None, path: str) -> str:
        found = node.find(path) if node is not None else None
        return _unescape((found.text or "").strip()) if found is not None else ""

    def error(self, line: int | None, field: str, expected: str, got: str | None) -> None:
        self.errors.append(FormatError(self.file_name, line, field, expected, got))

    def day(self, node: ET.Element, path: str, line: int | None, *, required: bool) -> date | None:
        raw = self.text(node, path)
        if not raw:
            if required:
                self.error(line, path, "a date like 20130824 (YYYYMMDD)", None)
            return None
        match = _DATE.match(raw)
        try:
            if match is None:
                raise ValueError(raw)
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            self.error(line, path, "a date that exists, like 20130824 (YYYYMMDD)", raw)
            return None

    def amount(
        self, node: ET.Element, path: str, currency: str, line: int | None, *, required: bool
    ) -> Decimal | None:
        raw = self.text(node, path)
        if not raw:
            if required:
                self.error(line, path, "an amount like -25.50", None)
            return None
        if not _AMOUNT.fullmatch(raw):
            self.error(line, path, "an amount like -25.50", raw)
            return None
        try:
            return check_places(Decimal(raw.replace(",", ".")), currency)
        except FieldError as exc:
            self.error(line, path, exc.expected, raw)
            return None

    def statement(self, node: ET.Element) -> Statement | None:
        line = self.line_of(node.tag)
        errors_before = len(self.errors)
        try:
            currency = currency_code(self.text(node, "CURDEF"))
        except FieldError as exc:
            self.error(line, f"{node.tag}/CURDEF", exc.expected, exc.got or None)
            currency = ""
        account_path = "CCACCTFROM" if node.tag == "CCSTMTRS" else "BANKACCTFROM"
        account = self.text(node, f"{account_path}/ACCTID")
        if not account:
            self.error(line, f"{node.tag}/{account_path}/ACCTID", "the account number", None)
        transactions = node.find("BANKTRANLIST")
        entries = [
            self.entry(trn, index, currency)
            for index, trn in enumerate(
                transactions.iter("STMTTRN") if transactions is not None else (), start=1
            )
        ]
        ledger = node.find("LEDGERBAL")
        closing = closing_on = None
        if ledger is not None:
            closing = self.amount(ledger, "BALAMT", currency, line, required=True)
            closing_on = self.day(ledger, "DTASOF", line, required=False)
        if len(self.errors) > errors_before:
            return None
        period = [self.text(transactions, tag)[:8] for tag in ("DTSTART", "DTEND")]
        iban, number = iban_or_account(account)
        return Statement(
            format="ofx",
            statement_id="-".join(part for part in period if part),
            account_iban=iban,
            account_number=number,
            currency=currency,
            entries=tuple(entry for entry in entries if entry is not None),
            closing_balance=closing,
            closing_on=closing_on,
            created_at=self.created_at,
            line=line,
        )

    def entry(self, node: ET.Element, index: int, statement_currency: str) -> Entry | None:
        line = self.line_of("STMTTRN")
        currency = statement_currency
        if self.text(node, "CURRENCY/CURSYM"):
            try:
                currency = currency_code(self.text(node, "CURRENCY/CURSYM"))
            except FieldError as exc:
                self.error(line, "STMTTRN/CURRENCY/CURSYM", exc.expected, exc.got)
        amount = self.amount(node, "TRNAMT", currency, line, required=True)
        posted = self.day(node, "DTPOSTED", line, required=True)
        available = self.day(node, "DTAVAIL", line, required=False)
        initiated = self.day(node, "DTUSER", line, required=False)
        if amount is None or posted is None:
            return None
        references = [
            (tag, value)
            for tag in ("CHECKNUM", "REFNUM", "SRVRTID")
            if (value := self.text(node, tag)) and value != "0"
        ]
        if initiated is not None:
            references.append(("DTUSER", initiated.isoformat()))
        iban, account = iban_or_account(self.text(node, "BANKACCTTO/ACCTID"))
        transaction = Transaction(
            amount=amount,
            currency=currency,
            counterparty_name=self.text(node, "NAME") or self.text(node, "PAYEE/NAME"),
            counterparty_iban=iban,
            counterparty_account=account,
            remittance=Remittance(unstructured=self.text(node, "MEMO")),
            references=tuple(references),
        )
        return Entry(
            index=index,
            amount=amount,
            currency=currency,
            value_on=available or posted,
            booked_on=posted,
            bank_reference=self.text(node, "FITID"),
            bank_code=self.text(node, "TRNTYPE"),
            line=line,
            transactions=(transaction,),
        )
