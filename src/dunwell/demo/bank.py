"""The demo's last month of customer payments, arriving as the bank's camt.053 statements.

The behaviour model (`demo.build.Simulation`) decides who pays what and when over the whole
history; the EUR payments of the last `DAYS` days are not booked directly but handed here as
`Receipt`s. Each becomes an entry on the statement of its value day (one statement per business
day of the company's IBAN, empty days too, balances rolled on from a fixed opening), with the
remittance a payer's bank really sends, drawn from the demo's seed:

- most name the invoice's RF creditor reference in ``Strd/CdtrRefInf`` (one per invoice paid);
- some write invoice numbers in ``Ustrd``, spelt as AP clerks do: "Rechnung NW-2026-000815",
  "Rechnung 2026-0815", "INV 815", "Re.-Nr. 815 und 816", "Kd-Nr. D10023 RG NW2026000815";
- a few say nothing but the payer's name and IBAN;
- a couple arrive short by the payer's bank charges (given in ``Chrgs``), and the prompt payers'
  early-payment discounts are simply the smaller amount;
- two credits are no customer's (a supplier's refund, a transfer from the company's own call
  deposit account), and a few debits are the bank's fees.

Each day's file is imported through `cash.services.statements.import_statements` in the evening
of its day and `workflows.cash.match_lines` run on it, so the demo shows the statements mostly
applied automatically and a small review queue, with the history of a real import.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from time import perf_counter as time_counter

from dunwell.cash.models import BankStatement, LineState, StatementLine
from dunwell.cash.services.statements import import_statements
from dunwell.core.dates import is_business_day
from dunwell.core.models import Company
from dunwell.formats.camt_write import write_camt053
from dunwell.formats.statements import (
    Entry,
    Remittance,
    Statement,
    Transaction,
)
from dunwell.ledger.models import Customer, OpenItem
from dunwell.terms.services import holidays_for
from dunwell.workflows.cash import match_lines

DAYS = 30  # the payments of the last 30 days come through the bank
OPENING_MINOR = 8_421_357  # the account's balance before the first statement
IMPORTED_AT = time(17)  # UTC: the evening's statement download
SUPPLIER = ("Würth Industrie Service GmbH & Co. KG", "DE81620500000000102022")
CALL_DEPOSIT = ("Northwind Components GmbH Tagesgeld", "DE44500105175407324931")


@dataclass
class Receipt:
    """A payment the behaviour model made: who, when, how much, and for which invoices."""

    customer: Customer
    iban: str
    method: str
    value_on: date
    amount_minor: int
    items: list[tuple[OpenItem, int]]  # (invoice, amount for it)


@dataclass
class BankStats:
    statements: int = 0
    entries: int = 0
    credits: int = 0
    applied: int = 0
    queued: int = 0
    seconds_import: float = 0.0
    seconds_match: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)  # what the generator wrote
    queued_kinds: Counter[str] = field(default_factory=Counter)
    kind_of: dict[str, str] = field(default_factory=dict)  # bank reference -> kind
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (name, camt.053) as imported


@dataclass(frozen=True)
class _Planned:
    entry: Entry
    kind: str


def bank_month(
    company: Company, receipts: list[Receipt], as_of: date, seed: int, at: datetime,
    say: Callable[[str], None],
) -> BankStats:  # fmt: skip
    """Write, import and match the month's statements (see the module); the figures."""
    stats = BankStats()
    files = statement_files(company, receipts, as_of, seed, stats)
    say(f"importing {len(files)} bank statements and matching their lines")
    for day, data in files:
        moment = min(datetime.combine(day, IMPORTED_AT, UTC), at)
        started = time_counter()
        name = f"camt053_{day:%Y%m%d}.xml"
        stats.files.append((name, data))
        import_statements(company=company, data=data, file_name=name, at=moment)
        stats.seconds_import += time_counter() - started
        match_lines(company=company, at=moment)
        stats.seconds_match += time_counter() - started
    lines = StatementLine.objects.filter(company=company)
    credits = lines.filter(amount_minor__gt=0)
    stats.statements = BankStatement.objects.filter(company=company).count()
    stats.entries = lines.count()
    stats.credits = credits.count()
    stats.applied = credits.filter(state=LineState.APPLIED).count()
    queued = credits.filter(state=LineState.UNMATCHED).values_list("bank_reference", flat=True)
    stats.queued = len(queued)
    stats.queued_kinds = Counter(stats.kind_of[ref] for ref in queued)
    return stats


def statement_files(
    company: Company, receipts: list[Receipt], as_of: date, seed: int, stats: BankStats
) -> list[tuple[date, bytes]]:
    """One camt.053 file per business day of the window, oldest first."""
    rng = random.Random(f"{seed}-bank")
    holidays = holidays_for(company, range(as_of.year - 1, as_of.year + 1))
    first = as_of - timedelta(days=DAYS - 1)
    days = [first + timedelta(days=n) for n in range(DAYS)]
    days = [d for d in days if is_business_day(d, holidays)]
    booked: dict[date, list[_Planned]] = defaultdict(list)
    charged = _short_by_charges(receipts, rng)
    for receipt in sorted(receipts, key=lambda r: (r.value_on, r.customer.account_number)):
        day = next((d for d in days if d >= receipt.value_on), days[-1])
        booked[day].append(_credit(receipt, rng, charged.get(id(receipt), 0)))
    for planned in _others(days, rng):
        booked[planned.entry.value_on].append(planned)
    balance = Decimal(OPENING_MINOR) / 100
    files = []
    for day in days:
        entries = []
        for n, planned in enumerate(booked[day], start=1):
            reference = f"{day:%Y%m%d}{n:05d}"
            entries.append(_numbered(planned.entry, n, reference))
            stats.kind_of[reference] = planned.kind
            stats.kinds[planned.kind] += 1
        closing = balance + sum((e.amount for e in entries), Decimal(0))
        statement = Statement(
            format="camt.053", statement_id=f"NW-{day:%Y-%m-%d}", account_iban=company.iban,
            account_number="", currency="EUR", entries=tuple(entries),
            opening_balance=balance, closing_balance=closing, opening_on=day, closing_on=day,
            created_at=f"{day.isoformat()}T17:00:00",
        )  # fmt: skip
        data = write_camt053([statement], message_id=f"NW{day:%Y%m%d}",
                             created_at=f"{day.isoformat()}T17:00:00")  # fmt: skip
        files.append((day, data))
        balance = closing
    return files


def _numbered(entry: Entry, index: int, reference: str) -> Entry:
    return Entry(
        index=index, amount=entry.amount, currency=entry.currency, value_on=entry.value_on,
        booked_on=entry.booked_on, bank_reference=reference, bank_code=entry.bank_code,
        text=entry.text, transactions=entry.transactions,
    )  # fmt: skip


def _short_by_charges(receipts: list[Receipt], rng: random.Random) -> dict[int, int]:
    """Two single-invoice transfers from abroad arrive less the payer's bank charges."""
    foreign = [r for r in receipts if r.customer.country != "DE" and len(r.items) == 1
               and r.method == "transfer" and r.amount_minor > 50_000]  # fmt: skip
    chosen = rng.sample(foreign, min(2, len(foreign)))
    return {id(r): rng.choice([750, 1250, 1500]) for r in chosen}


def _credit(receipt: Receipt, rng: random.Random, charges: int) -> _Planned:
    customer = receipt.customer
    payer = (customer.parent or customer).legal_name[:140]
    items = [item for item, _ in receipt.items]
    draw = rng.random()
    structured: tuple[str, ...] = ()
    text = ""
    if receipt.method == "direct_debit" or draw < 0.70:
        kind = "reference"
        structured = tuple(item.payment_reference for item in items)
    elif draw < 0.94:
        kind = "invoice number"
        text = _numbers_text(items, customer, rng)
    else:
        kind = "name only"
        text = rng.choice(["", "", "Zahlung", "Überweisung", "Ausgleich offener Posten"])
    if charges:
        kind = "bank charges"
    amount = Decimal(receipt.amount_minor - charges) / 100
    tx = Transaction(
        amount=amount, currency="EUR",
        end_to_end_id=f"E2E{rng.randrange(10**9, 10**10)}" if rng.random() < 0.5 else "",
        counterparty_name=payer, counterparty_iban=receipt.iban,
        remittance=Remittance(structured=structured, unstructured=text),
        instructed_amount=Decimal(receipt.amount_minor) / 100 if charges else None,
        instructed_currency="EUR" if charges else "",
        charges=Decimal(charges) / 100 if charges else None,
        references=(("MndtId", f"MNDT-{customer.account_number}"),)
        if receipt.method == "direct_debit" else (),
    )  # fmt: skip
    code = "PMNT/IDDT/ESDD" if receipt.method == "direct_debit" else "PMNT/RCDT/ESCT"
    entry = Entry(index=0, amount=amount, currency="EUR", value_on=receipt.value_on,
                  booked_on=receipt.value_on, bank_code=code, transactions=(tx,))  # fmt: skip
    return _Planned(entry, kind)


def _numbers_text(items: list[OpenItem], customer: Customer, rng: random.Random) -> str:
    """The invoice numbers as an AP clerk types them (NW-2026-000815 and its siblings)."""
    numbers = [item.number for item in items]
    short = [str(int(n.rsplit("-", 1)[1])) for n in numbers]
    if len(items) > 1:
        return rng.choice([
            f"Re.-Nr. {', '.join(short[:-1])} und {short[-1]}",
            "Rechnungen " + " ".join(numbers),
            f"Zahlungsavis {rng.randrange(10000, 99999)} " + ", ".join(numbers),
        ])  # fmt: skip
    number = numbers[0]
    year, seq = number.split("-")[1:]
    return rng.choice([
        f"Rechnung {number}", f"Rechnung {year}-{int(seq):04d}", f"INV {short[0]}",
        f"Re.-Nr. {short[0]}", f"Kd-Nr. {customer.account_number} RG {number.replace('-', '')}",
    ])  # fmt: skip


def _others(days: list[date], rng: random.Random) -> list[_Planned]:
    """What is no customer's payment: a supplier's refund, a transfer, the bank's fees."""
    planned = []

    def other(day: date, minor: int, kind: str, name: str, iban: str, text: str,
              code: str) -> None:  # fmt: skip
        amount = Decimal(minor) / 100
        tx = Transaction(amount=amount, currency="EUR", counterparty_name=name,
                         counterparty_iban=iban, remittance=Remittance(unstructured=text))  # fmt: skip
        planned.append(_Planned(Entry(index=0, amount=amount, currency="EUR", value_on=day,
                                      booked_on=day, bank_code=code, transactions=(tx,)), kind))  # fmt: skip

    refund_day, transfer_day = rng.sample(days[3:-3], 2)
    other(refund_day, rng.randrange(15_000, 60_000), "supplier refund", *SUPPLIER,
          f"Gutschrift zu Rechnung {rng.randrange(8_000_000, 8_999_999)} Rücksendung",
          "PMNT/RCDT/ESCT")  # fmt: skip
    other(transfer_day, 2_500_000, "own transfer", *CALL_DEPOSIT, "Umbuchung", "PMNT/ICDT/BOOK")
    fees = [(days[-1] if days[-1].day < 3 else _month_end(days), -2_990, "Kontoführung")]
    fees += [(d, -rng.randrange(350, 900), "Entgelt SEPA-Lastschriften") for d in days[4::10]]
    for day, minor, text in fees:
        other(day, minor, "bank fee", "Commerzbank AG", "", text, "ACMT/MDOP/CHRG")
    return planned


def _month_end(days: list[date]) -> date:
    """The last business day of the first month in the window that ends inside it."""
    for earlier, later in itertools.pairwise(days):
        if later.month != earlier.month:
            return earlier
    return days[-1]
