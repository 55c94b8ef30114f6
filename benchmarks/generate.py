"""Deterministic ledgers for the benchmarks: CSV files as an accounting system would export them.

The invoices file looks like a real export: a number, the customer's account, issue and due dates
(a fifth of the rows leave the due date to the customer's payment terms), currency, net, tax and
gross amounts and a PO number. The same seed gives the same bytes.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

START = date(2023, 1, 1)
DAYS = 1000  # issue dates spread over about 2.7 years
TERMS = (14, 30, 30, 30, 45, 60)


def write_customers(path: Path, count: int, *, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    accounts = [f"C{n:06d}" for n in range(1, count + 1)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["account_number", "name", "currency", "country", "terms", "city"])
        for account in accounts:
            days = rng.choice(TERMS)
            out.writerow([account, f"Customer {account} GmbH", "EUR", "DE", f"net{days}", "Berlin"])
    return accounts


def terms_codes() -> list[tuple[str, int]]:
    return [(f"net{days}", days) for days in sorted(set(TERMS))]


def write_invoices(path: Path, accounts: list[str], count: int, *, seed: int = 11) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            [
                "number",
                "customer",
                "issue_date",
                "due_date",
                "currency",
                "net",
                "tax",
                "amount",
                "po_number",
            ]
        )
        rows = []
        for n in range(1, count + 1):
            issued = START + timedelta(days=rng.randrange(DAYS))
            due = "" if n % 5 == 0 else (issued + timedelta(days=rng.choice(TERMS))).isoformat()
            net = rng.randrange(5_000, 5_000_000)
            tax = net * 19 // 100
            rows.append(
                (
                    f"INV-{n:07d}",
                    rng.choice(accounts),
                    issued.isoformat(),
                    due,
                    "EUR",
                    f"{net // 100}.{net % 100:02d}",
                    f"{tax // 100}.{tax % 100:02d}",
                    f"{(net + tax) // 100}.{(net + tax) % 100:02d}",
                    f"PO{rng.randrange(10**6):06d}" if n % 3 else "",
                )
            )
            if len(rows) == 50_000:
                out.writerows(rows)
                rows.clear()
        out.writerows(rows)
