"""`Statement` values out as a camt.053.001.02 file: the inverse of `formats.camt.read_camt`.

What a German bank sends at the end of the day (the DK's camt.053 version 02), with the
elements in the schema's order and the text escaped by lxml. Every field `read_camt` reads is
written where v02 has it, so that reading a written file gives back the same values (apart from
`line`, which is where the entry ended up in the file):

- ``Stmt``: Id, CreDtTm, Acct (IBAN, or Othr/Id for an account number, and Ccy), the ``OPBD``
  and ``CLBD`` balances where given (a negative one as ``DBIT``), the entries;
- ``Ntry``: Amt and CdtDbtInd from the signed amount, RvslInd, Sts as text (v02), BookgDt,
  ValDt, AcctSvcrRef, BkTxCd (``Domn`` for a "PMNT/RCDT/ESCT" code, ``Prtry`` otherwise), one
  ``TxDtls`` per transaction (none for the bare transaction a reader builds from an entry
  without details) and AddtlNtryInf;
- ``TxDtls``: Refs (the other references in the schema's order, then EndToEndId, NOTPROVIDED
  when there is none), AmtDtls (InstdAmt, TxAmt), Chrgs, the debtor of a credit or the creditor
  of a debit (a reversal swaps them, as the reader does), RmtInf (``Ustrd`` in pieces of at most
  140 characters cut at spaces; one ``Strd`` per creditor reference, as SCOR, and one per
  referred document with its amounts) and RtrInf.

Pure: values in, bytes out; no database, no clock (the message's id and time are arguments).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from lxml import etree

from dunwell.formats.statements import Entry, EntryStatus, Statement, Transaction

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
USTRD_MAX = 140
_STATUS = {EntryStatus.BOOKED: "BOOK", EntryStatus.PENDING: "PDNG", EntryStatus.INFO: "INFO"}
# v02's Refs children in the schema's order (EndToEndId among them, written from its field)
_REFS_ORDER = ("MsgId", "AcctSvcrRef", "PmtInfId", "InstrId", "EndToEndId", "TxId", "MndtId",
               "ChqNb", "ClrSysRef", "Prtry")  # fmt: skip


def write_camt053(statements: Sequence[Statement], *, message_id: str, created_at: str) -> bytes:
    """One ``BkToCstmrStmt`` message holding `statements`; `created_at` as ISO date and time
    ("2026-11-23T18:00:00"). Raises ValueError for an entry whose transactions do not add up to
    it, which no reader would accept."""
    root = etree.Element("Document", nsmap={None: NAMESPACE})  # type: ignore[dict-item]
    message = _sub(root, "BkToCstmrStmt")
    header = _sub(message, "GrpHdr")
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", created_at)
    for statement in statements:
        _statement(message, statement, created_at)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, tag)
    if text is not None:
        node.text = text
    return node


def _amount(parent: etree._Element, tag: str, amount: Decimal, currency: str) -> None:
    node = _sub(parent, tag, format(abs(amount), "f"))
    node.set("Ccy", currency)


def _statement(message: etree._Element, statement: Statement, created_at: str) -> None:
    node = _sub(message, "Stmt")
    _sub(node, "Id", statement.statement_id)
    _sub(node, "CreDtTm", statement.created_at or created_at)
    account = _sub(node, "Acct")
    ident = _sub(account, "Id")
    if statement.account_iban:
        _sub(ident, "IBAN", statement.account_iban)
    else:
        _sub(_sub(ident, "Othr"), "Id", statement.account_number)
    if statement.currency:
        _sub(account, "Ccy", statement.currency)
    for code, amount, on in (
        ("OPBD", statement.opening_balance, statement.opening_on),
        ("CLBD", statement.closing_balance, statement.closing_on),
    ):
        if amount is None:
            continue
        balance = _sub(node, "Bal")
        _sub(_sub(_sub(balance, "Tp"), "CdOrPrtry"), "Cd", code)
        _amount(balance, "Amt", amount, statement.currency)
        _sub(balance, "CdtDbtInd", "DBIT" if amount < 0 else "CRDT")
        if on is not None:
            _sub(_sub(balance, "Dt"), "Dt", on.isoformat())
    for entry in statement.entries:
        _entry(node, entry)


def _entry(statement: etree._Element, entry: Entry) -> None:
    transactions = entry.transactions
    if sum((t.amount for t in transactions), Decimal(0)) != entry.amount and transactions:
        raise ValueError(f"entry {entry.index}: its transactions do not add up to {entry.amount}")
    node = _sub(statement, "Ntry")
    _amount(node, "Amt", entry.amount, entry.currency)
    _sub(node, "CdtDbtInd", "DBIT" if entry.amount < 0 else "CRDT")
    if entry.reversal:
        _sub(node, "RvslInd", "true")
    _sub(node, "Sts", _STATUS[entry.status])
    if entry.booked_on is not None:
        _sub(_sub(node, "BookgDt"), "Dt", entry.booked_on.isoformat())
    _sub(_sub(node, "ValDt"), "Dt", entry.value_on.isoformat())
    if entry.bank_reference:
        _sub(node, "AcctSvcrRef", entry.bank_reference)
    if entry.bank_code:
        _bank_code(_sub(node, "BkTxCd"), entry.bank_code)
    bare = transactions == (Transaction(amount=entry.amount, currency=entry.currency),)
    if transactions and not bare:
        details = _sub(node, "NtryDtls")
        for tx in transactions:
            _transaction(_sub(details, "TxDtls"), tx, entry.reversal)
    if entry.text:
        _sub(node, "AddtlNtryInf", entry.text)


def _bank_code(node: etree._Element, code: str) -> None:
    parts = code.split("/")
    if len(parts) != 3:
        _sub(_sub(node, "Prtry"), "Cd", code)
        return
    domain = _sub(node, "Domn")
    _sub(domain, "Cd", parts[0])
    family = _sub(domain, "Fmly")
    _sub(family, "Cd", parts[1])
    _sub(family, "SubFmlyCd", parts[2])


def _transaction(node: etree._Element, tx: Transaction, reversal: bool) -> None:
    _refs(_sub(node, "Refs"), tx)
    amounts = _sub(node, "AmtDtls")
    if tx.instructed_amount is not None:
        _amount(_sub(amounts, "InstdAmt"), "Amt", tx.instructed_amount,
                tx.instructed_currency or tx.currency)  # fmt: skip
    _amount(_sub(amounts, "TxAmt"), "Amt", tx.amount, tx.currency)
    if tx.charges is not None:
        _amount(_sub(node, "Chrgs"), "Amt", tx.charges, tx.currency)
    party = "Dbtr" if (tx.amount > 0) != reversal else "Cdtr"
    _parties(node, tx, party)
    if tx.counterparty_bic:
        agents = _sub(node, "RltdAgts")
        _sub(_sub(_sub(agents, f"{party}Agt"), "FinInstnId"), "BIC", tx.counterparty_bic)
    _remittance(node, tx)
    if tx.return_reason:
        _sub(_sub(_sub(node, "RtrInf"), "Rsn"), "Cd", tx.return_reason)


def _refs(refs: etree._Element, tx: Transaction) -> None:
    given = dict(tx.references)
    for name in _REFS_ORDER:
        if name == "EndToEndId":
            _sub(refs, name, tx.end_to_end_id or "NOTPROVIDED")
        elif name == "Prtry" and name in given:
            prtry = _sub(refs, name)
            _sub(prtry, "Tp", "REF")
            _sub(prtry, "Ref", given[name])
        elif name in given:
            _sub(refs, name, given[name])


def _parties(node: etree._Element, tx: Transaction, party: str) -> None:
    """The debtor of a credit (the creditor of a debit), its account and the ultimate party."""
    if not (tx.counterparty_name or tx.counterparty_iban or tx.counterparty_account
            or tx.ultimate_party):  # fmt: skip
        return
    parties = _sub(node, "RltdPties")
    if tx.counterparty_name:
        _sub(_sub(parties, party), "Nm", tx.counterparty_name)
    if tx.counterparty_iban or tx.counterparty_account:
        ident = _sub(_sub(parties, f"{party}Acct"), "Id")
        if tx.counterparty_iban:
            _sub(ident, "IBAN", tx.counterparty_iban)
        else:
            _sub(_sub(ident, "Othr"), "Id", tx.counterparty_account)
    if tx.ultimate_party:
        _sub(_sub(parties, f"Ultmt{party}"), "Nm", tx.ultimate_party)


def _remittance(node: etree._Element, tx: Transaction) -> None:
    remittance = tx.remittance
    if not (remittance.unstructured or remittance.structured or remittance.documents):
        return
    info = _sub(node, "RmtInf")
    for piece in _pieces(remittance.unstructured):
        _sub(info, "Ustrd", piece)
    for document in remittance.documents:
        block = _sub(info, "Strd")
        doc = _sub(block, "RfrdDocInf")
        if document.kind:
            _sub(_sub(_sub(doc, "Tp"), "CdOrPrtry"), "Cd", document.kind)
        _sub(doc, "Nb", document.number)
        if document.on is not None:
            _sub(doc, "RltdDt", document.on.isoformat())
        if document.amount is not None or document.discount is not None:
            amounts = _sub(block, "RfrdDocAmt")
            if document.discount is not None:
                _amount(amounts, "DscntApldAmt", document.discount, tx.currency)
            if document.amount is not None:
                _amount(amounts, "RmtdAmt", document.amount, tx.currency)
    for reference in remittance.structured:
        block = _sub(info, "Strd")
        creditor = _sub(block, "CdtrRefInf")
        kind = _sub(_sub(creditor, "Tp"), "CdOrPrtry")
        _sub(kind, "Cd", "SCOR")
        _sub(creditor, "Ref", reference)


def _pieces(text: str) -> list[str]:
    """Free text in ``Ustrd`` pieces of at most 140 characters, cut at spaces where it can be
    (the reader joins the pieces with a space)."""
    pieces: list[str] = []
    rest = " ".join(text.split())
    while rest:
        if len(rest) <= USTRD_MAX:
            pieces.append(rest)
            break
        cut = rest.rfind(" ", 1, USTRD_MAX + 1)
        cut = cut if cut > 0 else USTRD_MAX
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip()
    return pieces
