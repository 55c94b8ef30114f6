"""ISO 20022 bank-to-customer messages in, `Statement` values out: camt.053 and camt.054.

A camt.053 ``BkToCstmrStmt`` holds end-of-day statements (``Stmt``), a camt.054
``BkToCstmrDbtCdtNtfctn`` debit/credit notifications (``Ntfctn``, often the detail of a batch
booked on the statement); both have the same entries. Versions .001.02 to .001.08 and later are
read alike: elements are matched on their local names, whatever the namespace, and where a
version moved an element both places are read (v02's text ``Sts`` and v08's ``Sts/Cd``, v02's
``Dbtr/Nm`` and v08's ``Dbtr/Pty/Nm``, v02's ``CdtrRefInf/CdtrRef`` and v03's
``CdtrRefInf/Ref``, v02's ``AmtDtls/TxAmt`` and v04's ``TxDtls/Amt``).

What is read (paths below ``Stmt`` / ``Ntfctn``), per ../shared/DOMAIN.md section 4.1:

- The account: ``Acct/Id/IBAN`` (or ``Acct/Id/Othr/Id``), ``Acct/Ccy`` (else the currency of a
  balance or of the first entry). Balances ``Bal``: ``OPBD`` opens (``PRCD``, the previous
  closing, when there is no ``OPBD``), ``CLBD`` closes; a ``DBIT`` balance is negative.
- Each ``Ntry``: ``Amt@Ccy`` signed by ``CdtDbtInd``, ``RvslInd``, ``Sts`` (BOOK, PDNG or FUTR,
  INFO), ``BookgDt`` and ``ValDt`` (``Dt`` or the day of ``DtTm`` as written), ``AcctSvcrRef``
  (``NtryRef`` when the bank gives no AcctSvcrRef), ``BkTxCd`` as Domn/Fmly/SubFmly
  ("PMNT/RCDT/ESCT") or the proprietary code, ``AddtlNtryInf`` as the entry's text.
- Each ``NtryDtls/TxDtls`` is one `Transaction` (a batch has several; an entry without details
  gets one built from the entry). Its amount is ``TxDtls/Amt``, else ``AmtDtls/TxAmt``, else
  ``AmtDtls/CntrValAmt`` - the first in the entry's currency - and the transactions of an entry
  must add up to it: the 3483.00 batch of the OCA sample is 2187.00 + 1296.00.
- ``Refs/EndToEndId`` ("NOTPROVIDED" is ""), the other references (``MndtId``, ``TxId``,
  ``InstrId``, ``AcctSvcrRef``, ``Prtry/Ref`` ...) as (name, value) pairs in file order;
  ``AmtDtls/InstdAmt``; ``Chrgs`` (``TtlChrgsAndTaxAmt``, else the sum of its records).
- The counterparty of a credit is the debtor (``Dbtr``, ``DbtrAcct``, ``UltmtDbtr``,
  ``RltdAgts/DbtrAgt`` BIC), of a debit the creditor; a reversal swaps them back, since a
  returned credit still names the debtor who paid it.
- ``RmtInf``: every ``Ustrd`` joined by a space; each ``Strd`` block's creditor reference;
  its ``RfrdDocInf`` (type, number, date) with the block's ``RfrdDocAmt`` (``RmtdAmt``,
  ``DscntApldAmt``) when the block refers to one document. ``RtrInf/Rsn/Cd``.

Every problem is collected and the file refused with all of them (`FileRejected`), each naming
the line and the element's path, as `formats.einvoice` does:

    stmt.xml line 55, field "BkToCstmrStmt/Stmt/Ntry/Amt": expected an amount like 1234.56, got "3.483,00"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TypeVar

from lxml import etree

from dunwell.formats.bank_values import (
    check_places,
    currency_code,
    iban_or_account,
    iso_date,
    unsigned_decimal,
)
from dunwell.formats.errors import FieldError, FileRejected, FormatError
from dunwell.formats.safe_xml import parse_xml, source_line
from dunwell.formats.statements import (
    Entry,
    EntryStatus,
    ReferredDocument,
    Remittance,
    Statement,
    Transaction,
)

# message element -> (format, statement element)
MESSAGES = {
    "BkToCstmrStmt": ("camt.053", "Stmt"),
    "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn"),
}
_STATUS = {
    "BOOK": EntryStatus.BOOKED,
    "PDNG": EntryStatus.PENDING,
    "FUTR": EntryStatus.PENDING,
    "INFO": EntryStatus.INFO,
}
_NOT_PROVIDED = "NOTPROVIDED"
_T = TypeVar("_T")


def read_camt(data: bytes, *, file_name: str) -> list[Statement]:
    """Every statement (camt.053) or notification (camt.054) in the file, in file order."""
    root = parse_xml(_without_default_namespace(data), file_name, what="a bank statement")
    _strip_namespaces(root)
    message = root if root.tag in MESSAGES else next(iter(root), None)
    if message is None or message.tag not in MESSAGES:
        got = root.tag if message is None else f"{root.tag}/{message.tag}"
        expected = "a camt.053 BkToCstmrStmt or camt.054 BkToCstmrDbtCdtNtfctn message"
        raise FileRejected([FormatError(file_name, source_line(root), None, expected, got)])
    kind, child = MESSAGES[message.tag]
    reader = _Reader(file_name)
    created_at = reader.text(message, "GrpHdr/CreDtTm")
    nodes = [node for node in message if node.tag == child]
    if not nodes:
        reader.missing(message, child, f"at least one {child} ({kind})")
    statements = [_statement(reader, node, kind, created_at) for node in nodes]
    if reader.errors:
        raise FileRejected(reader.errors)
    return [statement for statement in statements if statement is not None]


_ROOT_TAG = re.compile(rb"<(?![?!])[^>]*>")
_DEFAULT_NAMESPACE = re.compile(rb"\sxmlns\s*=\s*(\"[^\"]*\"|'[^']*')")


def _without_default_namespace(data: bytes) -> bytes:
    """The root's default namespace declaration blanked with spaces (lines and columns stay).

    Renaming every element after parsing costs seconds for a statement of 5,000 entries; camt
    files declare their namespace once, as the default, so this leaves nothing to rename.
    """
    root = _ROOT_TAG.search(data, 0, 4096)
    if root is None:
        return data
    declaration = _DEFAULT_NAMESPACE.search(data, root.start(), root.end())
    if declaration is None:
        return data
    start, end = declaration.span()
    return data[:start] + b" " * (end - start) + data[end:]


def _strip_namespaces(root: etree._Element) -> None:
    """Match on local names: versions differ only in their namespace for what is read here."""
    for node in root.iter():
        tag: object = node.tag  # a function for comments and PIs, whatever the stubs say
        if isinstance(tag, str) and tag.startswith("{"):
            node.tag = tag[tag.index("}") + 1 :]


# -- finding values ---------------------------------------------------------------------------


def _path(node: etree._Element) -> str:
    """The element's path below the document root: BkToCstmrStmt/Stmt[2]/Ntry/Amt."""
    parts: list[str] = []
    parent = node.getparent()
    while parent is not None:
        same = [child for child in parent if child.tag == node.tag]
        index = f"[{same.index(node) + 1}]" if len(same) > 1 else ""
        parts.append(f"{node.tag}{index}")
        node, parent = parent, parent.getparent()
    return "/".join(reversed(parts))


class _Reader:
    """Finds values below an element and collects a `FormatError` for each one that is wrong."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.errors: list[FormatError] = []

    def error(self, node: etree._Element, field: str, expected: str, got: str | None) -> None:
        self.errors.append(FormatError(self.file_name, source_line(node), field, expected, got))

    def missing(self, node: etree._Element, path: str, expected: str) -> None:
        above = _path(node)
        self.error(node, f"{above}/{path}" if above else path, expected, None)

    @staticmethod
    def find(node: etree._Element | None, path: str) -> etree._Element | None:
        return None if node is None else node.find(path)

    def text(self, node: etree._Element | None, path: str) -> str:
        found = self.find(node, path)
        return (found.text or "").strip() if found is not None else ""

    def first_text(self, node: etree._Element | None, *paths: str) -> str:
        return next((value for path in paths if (value := self.text(node, path))), "")

    def value(
        self, found: etree._Element, parse: Callable[[str], _T], expected: str | None = None
    ) -> _T | None:
        """`parse` applied to the element's text; an error naming the element when it fails."""
        raw = found.text or ""
        try:
            return parse(raw)
        except FieldError as exc:
            self.error(found, _path(found), expected or exc.expected, raw.strip())
            return None

    def amount(self, found: etree._Element | None) -> tuple[Decimal, str] | None:
        """An ``Amt Ccy="EUR"`` element: unsigned amount and currency, checked together."""
        if found is None:
            return None
        currency = self.value_of_attribute(found, "Ccy")
        amount = self.value(found, unsigned_decimal)
        if amount is None or currency is None:
            return None
        try:
            return check_places(amount, currency), currency
        except FieldError as exc:
            self.error(found, _path(found), exc.expected, (found.text or "").strip())
            return None

    def value_of_attribute(self, found: etree._Element, name: str) -> str | None:
        raw = found.get(name)
        if raw is None:
            self.error(
                found, f"{_path(found)}@{name}", "the currency in the attribute Ccy, like EUR", None
            )
            return None
        try:
            return currency_code(raw)
        except FieldError as exc:
            self.error(found, f"{_path(found)}@{name}", exc.expected, raw)
            return None

    def day(self, node: etree._Element | None, path: str) -> date | None:
        """A ``Dt`` or ``DtTm`` child of the element at `path` (BookgDt, ValDt, Bal/Dt)."""
        holder = self.find(node, path)
        if holder is None:
            return None
        found = holder.find("Dt")
        if found is None:
            found = holder.find("DtTm")
        if found is None:
            self.missing(holder, "Dt", "a date (Dt) or date and time (DtTm)")
            return None
        return self.value(found, iso_date)

    def signed(self, node: etree._Element, amount: Decimal | None) -> Decimal | None:
        """`amount` signed by the ``CdtDbtInd`` below `node` (CRDT positive, DBIT negative); the
        indicator is checked even when the amount was wrong, so both are reported."""
        indicator = self.text(node, "CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            found = node.find("CdtDbtInd")
            expected = "CRDT (credit) or DBIT (debit)"
            if found is None:
                self.missing(node, "CdtDbtInd", expected)
            else:
                self.error(found, _path(found), expected, indicator)
            return None
        if amount is None:
            return None
        return amount if indicator == "CRDT" else -amount


# -- statements -------------------------------------------------------------------------------


def _statement(r: _Reader, node: etree._Element, kind: str, created_at: str) -> Statement | None:
    statement_id = r.text(node, "Id")
    if not statement_id:
        r.missing(node, "Id", "the statement's identification (Id)")
    account = r.first_text(node, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
    if not account:
        r.missing(node, "Acct/Id/IBAN", "the account (Acct/Id/IBAN or Acct/Id/Othr/Id)")
    iban, number = iban_or_account(account)
    opening = _balance(r, node, "OPBD") or _balance(r, node, "PRCD")
    closing = _balance(r, node, "CLBD")
    currency = _currency(r, node, opening, closing)
    entries = [
        _entry(r, ntry, index)
        for index, ntry in enumerate((n for n in node if n.tag == "Ntry"), start=1)
    ]
    if any(entry is None for entry in entries):
        return None
    return Statement(
        format=kind,
        statement_id=statement_id,
        account_iban=iban,
        account_number=number,
        currency=currency,
        entries=tuple(entry for entry in entries if entry is not None),
        opening_balance=opening[0] if opening else None,
        closing_balance=closing[0] if closing else None,
        opening_on=opening[2] if opening else None,
        closing_on=closing[2] if closing else None,
        created_at=r.text(node, "CreDtTm") or created_at,
        line=source_line(node),
    )


_Balance = tuple[Decimal, str, date | None]


def _balance(r: _Reader, node: etree._Element, code: str) -> _Balance | None:
    for bal in node.iterchildren("Bal"):
        if r.first_text(bal, "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry") != code:
            continue
        found = bal.find("Amt")
        if found is None:
            r.missing(bal, "Amt", f"the {code} balance amount")
            return None
        amount = r.amount(found)
        signed = r.signed(bal, amount[0] if amount else None)
        on = r.day(bal, "Dt")
        if amount is None or signed is None:
            return None
        return signed, amount[1], on
    return None


def _currency(
    r: _Reader, node: etree._Element, opening: _Balance | None, closing: _Balance | None
) -> str:
    """The account's currency; else a balance's; else the first entry's ("" for a notification
    without entries, which has nothing in any currency)."""
    found = node.find("Acct/Ccy")
    if found is not None:
        return r.value(found, currency_code) or ""
    for balance in (opening, closing):
        if balance is not None:
            return balance[1]
    amount = node.find("Ntry/Amt")
    return (amount.get("Ccy") or "").strip().upper() if amount is not None else ""


# -- entries ----------------------------------------------------------------------------------


def _entry(r: _Reader, node: etree._Element, index: int) -> Entry | None:
    errors_before = len(r.errors)
    found = node.find("Amt")
    if found is None:
        r.missing(node, "Amt", "the entry amount (Amt)")
    amount = r.amount(found)
    signed = r.signed(node, amount[0] if amount else None)
    reversal = r.text(node, "RvslInd").lower() in ("true", "1")
    status = _status(r, node)
    booked_on = r.day(node, "BookgDt")
    value_on = r.day(node, "ValDt") or booked_on
    if value_on is None and len(r.errors) == errors_before:
        r.missing(node, "ValDt", "a value date (ValDt) or booking date (BookgDt)")
    if amount is None or signed is None or status is None or value_on is None:
        return None
    currency = amount[1]
    details = node.findall("NtryDtls/TxDtls")
    if details:
        transactions = [
            _transaction(r, tx, signed, currency, reversal, len(details)) for tx in details
        ]
    else:
        transactions = [Transaction(amount=signed, currency=currency)]
    if any(t is None for t in transactions):
        return None
    done = tuple(t for t in transactions if t is not None)
    total = sum((t.amount for t in done), Decimal(0))
    if total != signed:
        expected = f"transaction amounts (TxDtls) that add up to the entry amount {signed}"
        r.error(node, _path(node) + "/NtryDtls", expected, str(total))
        return None
    return Entry(
        index=index,
        amount=signed,
        currency=currency,
        value_on=value_on,
        booked_on=booked_on,
        status=status,
        reversal=reversal,
        bank_reference=r.first_text(node, "AcctSvcrRef", "NtryRef"),
        bank_code=_bank_code(r, node),
        text=" ".join(
            t for e in node.iterchildren("AddtlNtryInf") if (t := (e.text or "").strip())
        ),
        line=source_line(node),
        transactions=done,
    )


def _status(r: _Reader, node: etree._Element) -> EntryStatus | None:
    found = node.find("Sts")
    if found is None:
        r.missing(node, "Sts", "the entry status (Sts): BOOK, PDNG or INFO")
        return None
    code = r.first_text(found, "Cd", "Prtry") if len(found) else (found.text or "").strip()
    status = _STATUS.get(code.upper())
    if status is None:
        r.error(found, _path(found), "the entry status BOOK, PDNG, FUTR or INFO", code)
    return status


def _bank_code(r: _Reader, node: etree._Element) -> str:
    domain = r.text(node, "BkTxCd/Domn/Cd")
    if domain:
        family = r.text(node, "BkTxCd/Domn/Fmly/Cd")
        sub = r.text(node, "BkTxCd/Domn/Fmly/SubFmlyCd")
        return "/".join(part for part in (domain, family, sub) if part)
    return r.text(node, "BkTxCd/Prtry/Cd")


# -- transactions -----------------------------------------------------------------------------

_AMOUNT_PATHS = ("Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/CntrValAmt/Amt")


def _transaction(
    r: _Reader,
    node: etree._Element,
    entry_amount: Decimal,
    currency: str,
    reversal: bool,
    count: int,
) -> Transaction | None:
    amount = _transaction_amount(r, node, entry_amount, currency, count)
    if amount is None:
        return None
    credit = (amount > 0) != reversal
    party = "Dbtr" if credit else "Cdtr"
    iban, account = iban_or_account(
        r.first_text(node, f"RltdPties/{party}Acct/Id/IBAN", f"RltdPties/{party}Acct/Id/Othr/Id")
    )
    instructed = r.amount(node.find("AmtDtls/InstdAmt/Amt"))
    end_to_end = r.text(node, "Refs/EndToEndId")
    return Transaction(
        amount=amount,
        currency=currency,
        end_to_end_id="" if end_to_end.upper() == _NOT_PROVIDED else end_to_end,
        counterparty_name=r.first_text(node, f"RltdPties/{party}/Nm", f"RltdPties/{party}/Pty/Nm"),
        counterparty_iban=iban,
        counterparty_account=account,
        counterparty_bic=r.first_text(
            node, f"RltdAgts/{party}Agt/FinInstnId/BICFI", f"RltdAgts/{party}Agt/FinInstnId/BIC"
        ),
        ultimate_party=r.first_text(
            node, f"RltdPties/Ultmt{party}/Nm", f"RltdPties/Ultmt{party}/Pty/Nm"
        ),
        remittance=_remittance(r, node),
        instructed_amount=instructed[0] if instructed else None,
        instructed_currency=instructed[1] if instructed else "",
        charges=_charges(r, node, currency),
        return_reason=r.first_text(node, "RtrInf/Rsn/Cd", "RtrInf/Rsn/Prtry"),
        references=_references(node),
    )


def _transaction_amount(
    r: _Reader,
    node: etree._Element,
    entry_amount: Decimal,
    currency: str,
    count: int,
) -> Decimal | None:
    """The amount in the entry's currency, signed by the detail's CdtDbtInd or the entry's."""
    for path in _AMOUNT_PATHS:
        found = node.find(path)
        amount = r.amount(found) if found is not None else None
        if amount is not None and amount[1] == currency:
            if node.find("CdtDbtInd") is not None:
                return r.signed(node, amount[0])
            return amount[0] if entry_amount >= 0 else -amount[0]
    if count == 1:
        return entry_amount
    expected = f"the transaction amount in {currency} (Amt or AmtDtls/TxAmt/Amt)"
    r.missing(node, "Amt", expected)
    return None


def _charges(r: _Reader, node: etree._Element, currency: str) -> Decimal | None:
    amounts: list[Decimal] = []
    for charges in node.iterchildren("Chrgs"):
        total = charges.find("TtlChrgsAndTaxAmt")
        if total is not None:
            found = [total]
        else:  # the records' amounts (v04+), or the v02 charge's own Amt
            found = charges.findall("Rcrd/Amt")
            found = found if found else charges.findall("Amt")
        for element in found:
            amount = r.amount(element)
            if amount is not None and amount[1] == currency:
                amounts.append(amount[0])
    return sum(amounts, Decimal(0)) if amounts else None


def _references(node: etree._Element) -> tuple[tuple[str, str], ...]:
    references: list[tuple[str, str]] = []
    refs = node.find("Refs")
    for child in refs if refs is not None else ():
        if child.tag == "EndToEndId" or not isinstance(child.tag, str):  # skip comments too
            continue
        holder = child.find("Ref") if child.tag == "Prtry" else child
        value = (holder.text or "").strip() if holder is not None else ""
        if value and value.upper() != _NOT_PROVIDED:
            references.append((child.tag, value))
    return tuple(references)


def _remittance(r: _Reader, node: etree._Element) -> Remittance:
    info = node.find("RmtInf")
    if info is None:
        return Remittance()
    unstructured = " ".join(t for e in info.iterchildren("Ustrd") if (t := (e.text or "").strip()))
    references: list[str] = []
    documents: list[ReferredDocument] = []
    for block in info.iterchildren("Strd"):
        reference = r.first_text(block, "CdtrRefInf/Ref", "CdtrRefInf/CdtrRef")
        if reference:
            references.append(reference)
        documents.extend(_documents(r, block))
    return Remittance(tuple(references), unstructured, tuple(documents))


def _documents(r: _Reader, block: etree._Element) -> list[ReferredDocument]:
    """The block's referred documents; its amounts belong to a document only if it is alone."""
    infos = [info for info in block.iterchildren("RfrdDocInf") if r.text(info, "Nb")]
    amount = discount = None
    if len(infos) == 1:
        remitted = r.amount(block.find("RfrdDocAmt/RmtdAmt"))
        amount = remitted[0] if remitted else None
        found = block.find("RfrdDocAmt/DscntApldAmt")
        if found is not None and found.find("Amt") is not None:
            found = found.find("Amt")  # v04+: DscntApldAmt has a type and an Amt
        taken = r.amount(found)
        discount = taken[0] if taken else None
    documents = []
    for info in infos:
        related = info.find("RltdDt")
        documents.append(
            ReferredDocument(
                number=r.text(info, "Nb"),
                kind=r.first_text(info, "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry"),
                amount=amount,
                discount=discount,
                on=r.value(related, iso_date) if related is not None else None,
            )
        )
    return documents
