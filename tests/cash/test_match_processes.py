"""`dunwell cash match` as a user runs it, with more than one batch of lines: a forked process
scores the next batches while the command applies (cash.services.matching, reading ahead).
Whatever the batches, every line ends as a run one batch at a time would leave it, nothing is
applied twice, and a line whose invoice an earlier batch paid is scored again, not forced.

Each test makes a database of its own that the processes can open (tests.processes)."""

import json

import pytest

from dunwell.core.processes import fork_workers
from tests.processes import dunwell, own_database

INVOICES = 9
SETUP = """
import django; django.setup()
from datetime import UTC, date, datetime
from dunwell.cash.models import BankAccount, BankStatement, LineState, StatementFile, StatementLine
from tests import factories as f
AT = datetime(2025, 3, 20, 8, tzinfo=UTC)
company = f.company()
account = BankAccount.objects.create(company=company, iban="DE02120300000000202051",
                                     currency="EUR", name="Main", created_at=AT)
file = StatementFile.objects.create(company=company, file_name="s.xml", sha256="0" * 64,
                                    format="camt053", size=1, imported_at=AT)
statement = BankStatement.objects.create(company=company, account=account, file=file, key="S",
                                         statement_id="S", entries=12)
items = []
for n in range(1, COUNT + 1):
    customer = f.customer(company, f"C{n:03d}", f"Customer {n} Handel GmbH")
    items.append(f.invoice(company, customer, f"INV-{n:04}", 100_00 * n, date(2025, 2, 1)))
def line(n, amount, reference="", text=""):
    StatementLine.objects.create(company=company, account=account, statement=statement,
                                 key=f"k{n}", entry_index=n, amount_minor=amount, currency="EUR",
                                 value_on=date(2025, 3, 9), structured=[reference] if reference else [],
                                 text=text, state=LineState.UNMATCHED)
for n, item in enumerate(items, start=1):  # lines 1-9: each pays one invoice by its reference
    line(n, item.amount_minor, item.payment_reference)
line(10, items[0].amount_minor, items[0].payment_reference)  # INV-0001 paid a second time
line(11, 123_45, text="interest")  # nothing to match
""".replace("COUNT", str(INVOICES))


@pytest.fixture
def database(tmp_path):
    yield from own_database(tmp_path, "cash", SETUP)


@pytest.mark.skipif(fork_workers(2) < 2, reason="reading ahead needs two cores and fork")
def test_matching_in_batches_scored_ahead_applies_each_line_once(database):
    batches = {"CASH_MATCH_BATCH": "3"}  # 11 lines: four batches, three of them scored ahead
    report = json.loads(dunwell("cash", "match", "--format", "json", url=database,
                                env=batches).stdout)  # fmt: skip
    assert {k: report[k] for k in ("lines", "applied", "queued", "failed", "errors")} == {
        "lines": 11, "applied": INVOICES, "queued": 2, "failed": 0, "errors": []}  # fmt: skip
    # line 10 named INV-0001, which line 1 (an earlier batch) paid: scored again, it waits
    lines = json.loads(dunwell("cash", "lines", "--format", "json", url=database).stdout)
    states = [row["state"] for row in sorted(lines, key=lambda row: row["id"])]
    assert states == ["applied"] * INVOICES + ["unmatched", "unmatched"]
    again = json.loads(dunwell("cash", "match", "--format", "json", url=database,
                               env=batches).stdout)  # fmt: skip
    assert (again["lines"], again["applied"]) == (2, 0)
