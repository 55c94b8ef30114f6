"""Invoices becoming overdue, recorded in the history (ITEM_OVERDUE): nobody does anything when
an invoice passes its due date, so the nightly cycle writes it down, once per invoice and due date.

"Overdue" is the one definition of `ledger.rules.open_items.item_status`: something is still owed
on the item as of the business date (its open amount then is above zero, it is not voided by
then) and the date is after the due date (an invoice due today is not overdue; there are no grace
days: the dunning steps count their offsets from the due date itself). `record_overdue` asks it of
every invoice in SQL, the stored open amount corrected by the allocations that take effect after
the date (as the dunning run does), and writes the entries with one INSERT ... SELECT: a million
invoices are never read into Python.

Only invoices that fell due within WINDOW_DAYS before the date are looked at: the event is the
passing of the due date, and the nightly pass must stay cheap over a million old invoices
(looking at every overdue invoice each night costs a million key lookups; a first pass over an
imported ledger would write a million entries saying that years-old invoices "became overdue"
today). A month covers a worker stopped for weeks; an invoice reopened (a returned payment)
more than a month after its due date is the return's event, not this one.

Once per invoice and due date: the entry's idempotency key is "overdue:<item id>:<due date>", which
the history's unique (company, key) index holds to. The insert skips the keys already written (NOT
EXISTS) and leaves a concurrent pass's rows alone (ON CONFLICT DO NOTHING); it is one statement in
one transaction, so a pass that crashed left nothing, and a re-run records only what is missing.
An invoice whose due date moves (a correction, a re-import) and passes the new date is overdue
again: a new key, a new entry.

Example: INV-1 of EUR 600.00 due 2026-10-01, 100.00 paid. On 2026-10-01 nothing; on 2026-10-02
"Invoice INV-1 is overdue: due on 2026-10-01, open EUR 500.00" (amount 50000, data {"due_on":
"2026-10-01", "total_minor": 60000, "open_minor": 50000}); on the days after, nothing more.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction

from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import CURRENCIES, exponent
from dunwell.ledger.models import ActivityKind, Allocation, ItemKind

KEY_PREFIX = "overdue"
WINDOW_DAYS = 31

# The open amount as of the date: the stored one, plus what allocations effective later took off
# (an integer again: PostgreSQL's SUM of bigints is a numeric, which would print "600.0000").
OPEN_NOW = "i.open_minor"
OPEN_AS_OF = (
    "CAST(i.open_minor + COALESCE((SELECT SUM(a.amount_minor) FROM ledger_allocation a "
    "WHERE a.target_id = i.id AND a.effective_on > %(on)s), 0) AS BIGINT)"
)
# Settled for good by the date, or voided by then: nothing is owed. (`open_minor > 0` implies
# `settled_on IS NULL`; said as well, it lets the planner read the company's unsettled items
# from the aging index.)
UNSETTLED_NOW = "i.settled_on IS NULL AND i.open_minor > 0"
UNSETTLED_AS_OF = "(i.settled_on IS NULL OR i.settled_on > %(on)s)"

STATEMENT = """
INSERT INTO ledger_activity (company_id, customer_id, item_id, payment_id, kind, "on",
    recorded_at, actor_id, actor_label, summary, amount_minor, currency, data, "key")
SELECT c.company_id, c.customer_id, c.id, NULL, %(kind)s, %(on)s, %(at)s, NULL, 'system',
    CAST(%(word)s AS TEXT) || ' ' || c.number || ' is overdue: due on ' || c.due_text
        || ', open ' || c.currency || ' ' || {amount_text},
    c.open_as_of, c.currency, {data}, c.item_key
FROM (
    SELECT i.company_id, i.customer_id, i.id, i.number, i.currency, i.amount_minor,
        {open} AS open_as_of, {due_text} AS due_text,
        CAST(%(prefix)s AS TEXT) || ':' || CAST(i.id AS TEXT) || ':' || {due_text} AS item_key
    FROM ledger_openitem i
    WHERE i.company_id = %(company)s AND i.kind = %(invoice)s AND i.due_on < %(on)s
        AND i.due_on >= %(since)s
        AND {unsettled} AND (i.voided_on IS NULL OR i.voided_on > %(on)s)
    {fence}
) c
WHERE c.open_as_of > 0 AND NOT EXISTS (
    SELECT 1 FROM ledger_activity e WHERE e.company_id = c.company_id AND e."key" = c.item_key)
ON CONFLICT DO NOTHING
"""
# What differs between the two databases: a date as ISO text (PostgreSQL's own text form follows
# the server's DateStyle), a JSON object, and the OFFSET that keeps the inner query a query of
# its own (merged into the outer one, its correlated SUM would run once per use of the column).
DIALECTS: dict[str, dict[str, str]] = {
    "sqlite": {"due_text": "i.due_on", "object": "json_object", "fence": "LIMIT -1 OFFSET 0"},
    "postgresql": {"due_text": "to_char(i.due_on, 'YYYY-MM-DD')", "object": "jsonb_build_object",
                   "fence": "OFFSET 0"},
}  # fmt: skip


def amount_text(column: str) -> str:
    """SQL for a positive amount in minor units as `Money` prints it ("600.00", JPY "600",
    KWD "1.500"), by the exponent of the row's currency (`c.currency`)."""
    cases = []
    for places in sorted({exponent(code) for code in CURRENCIES} - {2}):
        codes = ", ".join(f"'{code}'" for code in sorted(CURRENCIES) if exponent(code) == places)
        cases.append(f"WHEN c.currency IN ({codes}) THEN {_decimal(column, places)}")
    return f"CASE {' '.join(cases)} ELSE {_decimal(column, 2)} END"


def _decimal(column: str, places: int) -> str:
    if places == 0:
        return f"CAST({column} AS TEXT)"
    # 10^places + the remainder, less its leading 1: the digits, zero-padded ("%%" is the SQL
    # modulo: the statement goes with parameters, where a single "%" starts one)
    unit = 10**places
    return (f"CAST({column} / {unit} AS TEXT) || '.' || "
            f"SUBSTR(CAST({unit} + {column} %% {unit} AS TEXT), 2)")  # fmt: skip


def overdue_key(item_id: int, due_on: date) -> str:
    """The idempotency key of the entry that an item is overdue with this due date."""
    return f"{KEY_PREFIX}:{item_id}:{due_on.isoformat()}"


@transaction.atomic
def record_overdue(*, company: Company, on: date, at: datetime) -> int:
    """Record ITEM_OVERDUE for each of the company's invoices overdue on `on`, due within
    WINDOW_DAYS before it, and not recorded yet with its current due date; how many were
    recorded."""
    later = Allocation.objects.filter(company=company, effective_on__gt=on).exists()
    params: dict[str, Any] = {
        "company": company.pk, "invoice": ItemKind.INVOICE.value,
        "kind": ActivityKind.ITEM_OVERDUE.value, "on": connection.ops.adapt_datefield_value(on),
        "since": connection.ops.adapt_datefield_value(on - timedelta(days=WINDOW_DAYS)),
        "at": connection.ops.adapt_datetimefield_value(at), "prefix": KEY_PREFIX,
        "word": english(ItemKind.INVOICE.label),
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_statement(later), params)
        return int(cursor.rowcount)


def _statement(later: bool) -> str:
    dialect = DIALECTS[connection.vendor]
    due_text = dialect["due_text"]
    data = (f"{dialect['object']}('due_on', c.due_text, 'total_minor', c.amount_minor, "
            "'open_minor', c.open_as_of)")  # fmt: skip
    return STATEMENT.format(
        amount_text=amount_text("c.open_as_of"), data=data, due_text=due_text,
        fence=dialect["fence"],
        open=OPEN_AS_OF if later else OPEN_NOW,
        unsettled=UNSETTLED_AS_OF if later else UNSETTLED_NOW,
    )  # fmt: skip
