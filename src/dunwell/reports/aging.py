"""As-of aging: what each customer owed on a date, in buckets of days past due, per currency.

The open amount of an item on date D is its amount less the allocations effective on or before
D. Because that is a sum, a whole report is two sums, with no join: the amounts of the items
issued by D, less the amounts of the allocations effective by D, each grouped by (customer,
currency, bucket of the due date). Allocation rows carry their target's customer, currency and
due date for exactly this reason.

Most items of an old ledger were settled long before D; they add and subtract the same amount.
Each item stores the day it was settled (`settled_on`, a copy its allocations carry too), and the
scans read only the rows of items not settled by D, from covering indexes, so a report on a
million-invoice ledger touches the few rows that matter. "Settled after D" is asked as one index
seek per calendar day after D (`settled_on IN (D+1, D+2, ...)`), not as a range: the covering
index orders by `settled_on` and then by issue date, so each seek reads only the items issued by
D, where a range would read every later item too (half the ledger for a date in its middle).
Instalment items bucket each instalment by its own due date. Unapplied cash (payments received
by D and not yet allocated by D) is shown beside the buckets, per customer and currency; it is
never netted into them.

Buckets are computed in Python as due-date boundaries, so the SQL is the same on SQLite and
PostgreSQL but for SQLite's index hint (`index_hint`): bucket 0 ("Current") is due_on >= D, bucket 1 is D-30 <= due_on < D, and so on.

`known_at` reproduces the report "as it was known" at a past moment: only items created and
allocations recorded by then count. It cannot use the settlement copies (they reflect later
knowledge) and scans everything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection

from dunwell.core.models import Company
from dunwell.ledger.models import Customer, Payment
from dunwell.ledger.rules.aging import buckets, check_bounds

DEFAULT_BOUNDS = (30, 60, 90, 120)
# More days than this after the as-of date (a date far back in a long ledger, or a settlement dated
# far ahead) and the per-day seeks cost more than they save: fall back to one range.
MAX_SEEK_DAYS = 4000
LATEST_SETTLEMENT = """
    SELECT MAX(settled_on) FROM ledger_openitem WHERE company_id = %s
    UNION ALL SELECT MAX(target_settled_on) FROM ledger_allocation WHERE company_id = %s
    UNION ALL SELECT MAX(settled_on) FROM ledger_payment WHERE company_id = %s"""


@dataclass
class AgingRow:
    customer_id: int
    currency: str
    buckets: list[int]
    unapplied_minor: int = 0
    account_number: str = ""
    name: str = ""

    @property
    def total_minor(self) -> int:
        return sum(self.buckets)

    @property
    def balance_minor(self) -> int:
        return self.total_minor - self.unapplied_minor


@dataclass
class AgingReport:
    as_of: date
    bounds: tuple[int, ...]
    labels: tuple[str, ...]
    rows: list[AgingRow]
    totals: dict[str, AgingRow] = field(default_factory=dict)
    known_at: datetime | None = None


def _bucket_case(column: str, as_of: date, bounds: Sequence[int]) -> tuple[str, list[Any]]:
    """CASE expression giving a due date's bucket index, with its parameters."""
    parts = ["CASE WHEN {col} >= %s THEN 0"]
    params: list[Any] = [as_of]
    for index, bound in enumerate(bounds, start=1):
        parts.append("WHEN {col} >= %s THEN " + str(index))
        params.append(as_of - timedelta(days=bound))
    parts.append(f"ELSE {len(bounds) + 1} END")
    return " ".join(parts).format(col=column), params


def _item_sql(
    as_of: date, bounds: Sequence[int], settled: str, hint: str = ""
) -> tuple[str, list[Any]]:
    case, params = _bucket_case("due_on", as_of, bounds)
    # The SQL is assembled from this module's constants; values are parameters.
    sql = f"""
        SELECT customer_id, currency, {case} AS bucket, SUM(amount_minor)
        FROM ledger_openitem{hint}
        WHERE company_id = %s AND {settled} AND issued_on <= %s AND NOT has_instalments
        GROUP BY customer_id, currency, bucket"""
    return sql, params


def _instalment_sql(
    as_of: date, bounds: Sequence[int], settled: str, hint: str = ""
) -> tuple[str, list[Any]]:
    case, params = _bucket_case("s.due_on", as_of, bounds)
    sql = f"""
        SELECT i.customer_id, i.currency, {case} AS bucket, SUM(s.amount_minor)
        FROM ledger_openitem i{hint} JOIN ledger_instalment s ON s.item_id = i.id
        WHERE i.company_id = %s AND {settled} AND i.issued_on <= %s AND i.has_instalments
        GROUP BY i.customer_id, i.currency, bucket"""
    return sql, params


def _allocation_sql(
    as_of: date, bounds: Sequence[int], settled: str, hint: str = ""
) -> tuple[str, list[Any]]:
    case, params = _bucket_case("target_due_on", as_of, bounds)
    sql = f"""
        SELECT customer_id, currency, {case} AS bucket, SUM(amount_minor)
        FROM ledger_allocation{hint}
        WHERE company_id = %s AND {settled} AND effective_on <= %s
        GROUP BY customer_id, currency, bucket"""
    return sql, params


UNAPPLIED_SQL = """
    SELECT p.customer_id, p.currency, SUM(p.amount_minor - COALESCE(
        (SELECT SUM(a.payment_amount_minor) FROM ledger_allocation a
         WHERE a.payment_id = p.id AND a.effective_on <= %s AND {known}), 0))
    FROM ledger_payment p{hint}
    WHERE p.company_id = %s AND {settled} AND p.value_on <= %s
      AND (p.voided_on IS NULL OR p.voided_on > %s)
    GROUP BY p.customer_id, p.currency"""

# (condition on a `settled_on` column, its parameters): together they mean "empty or after D".
Settled = list[tuple[str, list[Any]]]


def latest_settlement(cursor: Any, company_id: int) -> date | None:
    """The latest `settled_on` of the company's items, allocations and payments."""
    cursor.execute(LATEST_SETTLEMENT, [company_id] * 3)
    return max((_as_date(value) for (value,) in cursor.fetchall() if value is not None),
               default=None)  # fmt: skip


def _not_settled_by(cursor: Any, company_id: int, as_of: date) -> Settled:
    return not_settled_by(as_of, latest_settlement(cursor, company_id))


def not_settled_by(as_of: date, latest: date | None, *, unsettled: bool = True) -> Settled:
    """Empty (unless not `unsettled`), each day from D+1 to the latest settlement (index
    seeks), or later than that.

    The last part is a range that finds nothing unless a settlement was written after the
    latest was read; it keeps the report exact without holding a snapshot.
    """
    latest = as_of if latest is None else latest
    days = (latest - as_of).days
    conditions: Settled = [("settled_on IS NULL", [])] if unsettled else []
    if days > MAX_SEEK_DAYS:
        return [*conditions, ("settled_on > %s", [as_of])]
    if days > 0:
        marks = ", ".join(["%s"] * days)
        seeks = [as_of + timedelta(days=n) for n in range(1, days + 1)]
        conditions.append((f"settled_on IN ({marks})", seeks))
    conditions.append(("settled_on > %s", [max(latest, as_of)]))
    return conditions


def _as_date(value: object) -> date:
    """A date column's value as SQLite's MAX() returns it (text) or PostgreSQL (a date)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def index_hint(index: str) -> str:
    """SQLite only: name the covering index, which its planner may pass over.

    Given many `IN` values, or after ANALYZE, SQLite's planner can prefer scanning a whole
    foreign-key index in customer order (for the GROUP BY) to seeking in the covering index:
    over a second instead of tens of milliseconds on 10^6 items (benchmarks/aging_bench.py).
    PostgreSQL chooses well from its statistics.
    """
    return f" INDEXED BY {index}" if connection.vendor == "sqlite" else ""


def _payment_index() -> str:
    fields = ["company", "settled_on", "value_on"]
    return str(next(i.name for i in Payment._meta.indexes if list(i.fields) == fields))


def _fast_parts(
    company_id: int, as_of: date, bounds: Sequence[int], settled: Settled
) -> list[tuple[str, list[Any], int]]:
    """(sql, params, sign) of each scan, skipping rows settled by `as_of`."""
    parts: list[tuple[str, list[Any], int]] = []
    for condition, extra in settled:
        for builder, column, index, sign in (
            (_item_sql, "settled_on", "item_aging_cover", 1),
            (_instalment_sql, "i.settled_on", "item_aging_cover", 1),
            (_allocation_sql, "target_settled_on", "allocation_aging_cover", -1),
        ):
            where = condition.replace("settled_on", column)
            sql, params = builder(as_of, bounds, where, index_hint(index))
            parts.append((sql, [*params, company_id, *extra, as_of], sign))
    return parts


def _known_parts(
    company_id: int, as_of: date, bounds: Sequence[int], known_at: datetime
) -> list[tuple[str, list[Any], int]]:
    item_sql, item_params = _item_sql(as_of, bounds, "created_at <= %s")
    inst_sql, inst_params = _instalment_sql(as_of, bounds, "i.created_at <= %s")
    alloc_sql, alloc_params = _allocation_sql(as_of, bounds, "recorded_at <= %s")
    return [
        (item_sql, [*item_params, company_id, known_at, as_of], 1),
        (inst_sql, [*inst_params, company_id, known_at, as_of], 1),
        (alloc_sql, [*alloc_params, company_id, known_at, as_of], -1),
    ]


def _unapplied_parts(
    company_id: int, as_of: date, known_at: datetime | None, settled: Settled
) -> list[tuple[str, list[Any]]]:
    if known_at is not None:
        sql = UNAPPLIED_SQL.format(
            known="a.recorded_at <= %s", settled="p.created_at <= %s", hint=""
        )
        return [(sql, [as_of, known_at, company_id, known_at, as_of, as_of])]
    hint = index_hint(_payment_index())
    return [
        (
            UNAPPLIED_SQL.format(
                known="1 = 1", settled=condition.replace("settled_on", "p.settled_on"), hint=hint
            ),
            [as_of, company_id, *extra, as_of, as_of],
        )
        for condition, extra in settled
    ]


def aging(
    company: Company,
    as_of: date,
    bounds: Sequence[int] = DEFAULT_BOUNDS,
    *,
    known_at: datetime | None = None,
    with_names: bool = True,
) -> AgingReport:
    bounds = tuple(bounds)
    check_bounds(bounds)
    width = len(bounds) + 2  # Current, one per bound, and the open-ended last
    cells: dict[tuple[int, str], AgingRow] = {}

    def row(customer_id: int, currency: str) -> AgingRow:
        key = (customer_id, currency)
        if key not in cells:
            cells[key] = AgingRow(customer_id, currency, [0] * width)
        return cells[key]

    with connection.cursor() as cursor:
        settled = _not_settled_by(cursor, company.pk, as_of) if known_at is None else []
        parts = (
            _fast_parts(company.pk, as_of, bounds, settled)
            if known_at is None
            else _known_parts(company.pk, as_of, bounds, known_at)
        )
        for sql, params, sign in parts:
            cursor.execute(sql, params)
            for customer_id, currency, bucket, amount in cursor.fetchall():
                row(customer_id, currency).buckets[bucket] += sign * int(amount)
        for sql, params in _unapplied_parts(company.pk, as_of, known_at, settled):
            cursor.execute(sql, params)
            for customer_id, currency, amount in cursor.fetchall():
                if amount:
                    row(customer_id, currency).unapplied_minor += int(amount)

    rows = [r for r in cells.values() if any(r.buckets) or r.unapplied_minor]
    if with_names and rows:
        found = Customer.objects.filter(pk__in={r.customer_id for r in rows})
        names = {
            pk: (number, name)
            for pk, number, name in found.values_list("pk", "account_number", "legal_name")
        }
        for r in rows:
            r.account_number, r.name = names.get(r.customer_id, ("", ""))
    rows.sort(key=lambda r: (r.name.lower(), r.account_number, r.currency))
    totals: dict[str, AgingRow] = defaultdict(lambda: AgingRow(0, "", [0] * width))
    for r in rows:
        total = totals[r.currency]
        total.currency = r.currency
        total.buckets = [a + b for a, b in zip(total.buckets, r.buckets, strict=True)]
        total.unapplied_minor += r.unapplied_minor
    return AgingReport(
        as_of,
        bounds,
        tuple(b.label for b in buckets(bounds)),
        rows,
        dict(sorted(totals.items())),
        known_at,
    )
