"""Bank statements as every reader returns them: one shape for camt.053/054, MT940, OFX, BAI2, CSV.

A reader (`formats.camt`, `formats.mt940`, `formats.ofx`, `formats.bai2`, `formats.bank_csv`)
turns a file's bytes into `Statement` values and nothing else: no database, no company, no
matching. `formats.bank.read_statements` picks the reader from the content (`detect`).

Conventions, the same for every format:

- Amounts are `Decimal` in the entry's currency, signed from the account holder's side: a credit
  (money in) is positive, a debit negative. A reversal keeps the sign the bank booked and says
  `reversal=True`.
- `value_on` is the value date where the file has one, else the booking date; `booked_on` is the
  booking date where known.
- `bank_reference` is the bank's own reference of the entry (camt `AcctSvcrRef`, else
  `NtryRef`, MT940 the bank reference of `:61:`, OFX `FITID`, BAI2 the bank reference field);
  with the statement's account and the entry's position it makes the natural key a re-import is
  recognised by (`bank.read_statements` keeps statement ids unique within a file for that).
- `line` is the physical line (1-based) in the file where the entry starts, for error messages.
- Remittance information is kept as given: `Remittance.structured` holds creditor references
  (RF, QRR/ISR, OGM, KID, viite: whatever the payer's bank sent as structured), `unstructured`
  the free text (camt `Ustrd` occurrences joined by a space, MT940 `:86:` purpose text with
  the SEPA tags' values), `documents` the referred documents of camt `RfrdDocInf` / remittance
  advices.
- A camt entry with several `TxDtls` (a batch) has one `Transaction` per detail; an entry
  without details has exactly one `Transaction` built from the entry itself, so a matcher always
  reads transactions.

Bad input raises `formats.errors.FileRejected` naming the file, the line and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


class EntryStatus(StrEnum):
    BOOKED = "booked"
    PENDING = "pending"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class ReferredDocument:
    """A document the payer says the money is for (camt RfrdDocInf, a remittance advice row)."""

    number: str
    kind: str = ""  # CINV invoice, CREN credit note, DEBN debit note, or "" when not said
    amount: Decimal | None = None  # remitted amount for it, where given
    discount: Decimal | None = None  # discount taken on it, where given
    on: date | None = None  # the document's date (RltdDt), where given


@dataclass(frozen=True, slots=True)
class Remittance:
    structured: tuple[str, ...] = ()
    unstructured: str = ""
    documents: tuple[ReferredDocument, ...] = ()


@dataclass(frozen=True, slots=True)
class Transaction:
    """One payment inside an entry (a camt TxDtls), or the entry itself."""

    amount: Decimal  # signed like the entry; the transactions of an entry add up to it
    currency: str
    end_to_end_id: str = ""  # "" for camt's NOTPROVIDED too
    counterparty_name: str = ""  # the debtor of a credit, the creditor of a debit
    counterparty_iban: str = ""  # compact, upper case; "" when the file gives an account number
    counterparty_account: str = ""  # an account number that is not an IBAN
    counterparty_bic: str = ""
    ultimate_party: str = ""  # UltmtDbtr / UltmtCdtr: who the payment was made for
    remittance: Remittance = field(default_factory=Remittance)
    instructed_amount: Decimal | None = None  # before charges or conversion, where given
    instructed_currency: str = ""
    charges: Decimal | None = None  # bank charges deducted, where given
    return_reason: str = ""  # e.g. AC04, MD06 for returned payments
    references: tuple[tuple[str, str], ...] = ()  # other (name, value): MndtId, TxId, EREF, ...


@dataclass(frozen=True, slots=True)
class Entry:
    index: int  # 1-based position in its statement
    amount: Decimal
    currency: str
    value_on: date
    booked_on: date | None = None
    status: EntryStatus = EntryStatus.BOOKED
    reversal: bool = False
    bank_reference: str = ""
    bank_code: str = ""  # camt BkTxCd (Domn/Fmly/SubFmly or Prtry), MT940 type code, BAI2 type
    text: str = ""  # what the bank says about the entry beyond the remittance (AddtlNtryInf, ...)
    line: int | None = None
    transactions: tuple[Transaction, ...] = ()


@dataclass(frozen=True, slots=True)
class Statement:
    format: str  # "camt.053", "camt.054", "mt940", "ofx", "bai2", "csv"
    statement_id: str  # the file's id of the statement (camt Stmt/Id, MT940 :20:/:28C:, ...)
    account_iban: str  # compact, upper case; "" when the file gives only an account number
    account_number: str  # as given, when not an IBAN (OFX ACCTID, BAI2 account, MT940 :25:)
    currency: str
    entries: tuple[Entry, ...]
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    opening_on: date | None = None
    closing_on: date | None = None
    created_at: str = ""  # the file's creation timestamp as given, for the record
    line: int | None = None

    def reconciles(self) -> bool | None:
        """Opening balance plus the booked entries equals the closing balance; None when the
        file does not give both balances."""
        if self.opening_balance is None or self.closing_balance is None:
            return None
        booked = sum((e.amount for e in self.entries if e.status == EntryStatus.BOOKED), Decimal(0))
        return self.opening_balance + booked == self.closing_balance
