"""Monthly receivables KPIs from the ledger: per company, segment, collector or customer, per currency.

For a run of whole months, each (group, currency) gets the month inputs of `reports.rules.kpi`,
computed in SQL, and the KPIs of every month and of the whole period:

- **credit sales** of a month: what was billed on credit in it, i.e. the invoices, fee and interest
  charges issued in the month net of the credit notes issued in it (a credit note is a negative
  item). A fee or an interest charge is a debit memo on the account like an invoice; a credit note
  reduces the sale it corrects in the month it is issued. Without the netting, CEI would read a
  credit note as cash collected; without the charges, as debt not collected. Refunds (cash paid
  back) are not sales.
- **AR** at a month end: what the items issued by then still owed after the allocations effective
  by then (DESIGN invariant 2: reconstructed, exact for any past month), in total, **current**
  (not yet due: due on the month end or later) and **more than 90 days past due**. Items in
  instalments age each instalment by its own due date; unapplied cash is not netted (as in the
  aging report: it is the customer's, not a reduction of any item).
- **cash collected**: payments applied to the items in the month (allocations of payments effective
  in it, in the item's currency, net of reversals). **DBT** weighs each payment applied in the
  month by its days from the due date of what it settled (negative when early); a payment later
  reversed, and its reversal, are no payment experience and do not count.
- Amounts are never summed across currencies: every currency is its own series (the KPIs are
  ratios, so each currency's are meaningful alone). Converting would need a rate per invoice day
  for the sales and one per month end for the balances; docs/decisions/0021-kpis.md says why not.
- **Voided items do not count**, in any month: a void cancels a document issued in error (a real
  reduction of a sale is a credit note). Another company's rows are never read.
- Groups: `segment` is the customer's segment; `collector` is the customer's owner, the collector
  the worklist gives its accounts to.

How, set-based (issue 7: 24 months over 10^6 invoices in 2 s; decision 0021). The month-end
balances reuse the as-of aging's scans (`reports.aging`): for each month end D, the items issued
by D and the allocations effective by D, each read from its covering index for only the rows
settled after D (one seek per day after D), bucketed by due date in the SELECT; the rows never
settled are read once for all month ends. A month's sales, and its allocations (cash, DBT), are
the same seeks restricted to the month. What those indexes cannot tell, the kind of an allocation
and whether an item is voided, comes from one pass over the allocations that are not a live
payment (other kinds, reversals, reversed rows): they are taken out of cash and DBT, and their
VOID and REFUND rows name the voided items and refunds, which the oracle
(`rules.kpi.ledger_months`) computes and which are subtracted. The countback reads the sales of
the 12 months before the period too.

**Dunning effectiveness**: for every message that went out (sent, or handed over unconfirmed) in
the period, the overdue amount it demanded (the items its decision listed as past due, less any
disputed part held back) and how much of it payments settled within N days after the step's
business date, per policy, step, channel and currency.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Q

from dunwell.core.dates import add_months, end_of_month
from dunwell.core.models import Company
from dunwell.dunning.models import MessageStatus, Policy, Step
from dunwell.ledger.models import (
    Allocation,
    AllocationKind,
    Customer,
    Instalment,
    ItemKind,
    OpenItem,
)
from dunwell.reports.aging import index_hint, latest_settlement, not_settled_by
from dunwell.reports.rules.kpi import (
    OVER_DAYS,
    Balances,
    Document,
    Kpis,
    MonthInputs,
    Reduction,
    kpis,
    ledger_months,
)

GROUPINGS = ("company", "segment", "collector", "customer")
EARLIER_MONTHS = 12  # months of sales before the period, for the countback
MAX_MONTHS = 120
DEFAULT_PAID_WITHIN = 30
WENT_OUT = (MessageStatus.SENT, MessageStatus.UNCERTAIN)

# The SELECT lists and GROUP BY come from `_Shape`: per customer and currency, or, for the whole
# company, one sum per currency in one row (SQLite groups by sorting; this way nothing is sorted).
CURRENCIES = """
    WITH RECURSIVE c(code) AS (
        SELECT MIN(currency) FROM ledger_openitem WHERE company_id = %s
        UNION ALL
        SELECT (SELECT MIN(currency) FROM ledger_openitem WHERE company_id = %s AND currency > c.code)
        FROM c WHERE c.code IS NOT NULL)
    SELECT code FROM c WHERE code IS NOT NULL"""
# One scan of a covering index: the rows not settled by a day (`reports.aging.not_settled_by`)
# whose issue or effective date is in a range.
SCAN = """
    SELECT {select} FROM {table}{hint}
    WHERE company_id = %s AND {settled} AND {dates}{group}"""
# Items in instalments are bucketed by their instalments (the item scan counts their total).
INSTALMENTS_AT = """
    SELECT {select} FROM ledger_instalment s JOIN ledger_openitem i ON i.id = s.item_id
    WHERE s.company_id = %s AND i.issued_on <= %s AND (i.settled_on IS NULL OR i.settled_on > %s)
    {group}"""
# Items and allocations of items never settled, read once for every month end (not again for
# each): by issue (or effective) month and due date, which place them in the month ends.
UNSETTLED_ITEMS = """
    SELECT {month}, due_on, has_instalments, {select} FROM ledger_openitem{hint}
    WHERE company_id = %s AND settled_on IS NULL AND issued_on <= %s
    GROUP BY {month}, due_on, has_instalments{keys}"""
UNSETTLED_ALLOCATIONS = """
    SELECT {month}, target_due_on, 0, {select} FROM ledger_allocation{hint}
    WHERE company_id = %s AND target_settled_on IS NULL AND effective_on <= %s
    GROUP BY {month}, target_due_on{keys}"""
# The allocations that are not a live payment (another kind, a reversal, or reversed), which the
# covering index cannot tell: one pass over the table from the first month of sales on. VOID and
# REFUND rows are kept apart by their item, to find the voided items and refunds.
IRREGULAR = """
    SELECT {month}, CASE WHEN a.kind IN (%s, %s) THEN a.target_id ELSE 0 END, {select}
    FROM ledger_allocation a
    WHERE a.company_id = %s AND a.effective_on >= %s
      AND (a.kind <> %s OR a.reversal_of_id IS NOT NULL OR a.id IN (
          SELECT r.reversal_of_id FROM ledger_allocation r WHERE r.reversal_of_id IS NOT NULL))
    GROUP BY 1, 2{keys}"""
# Each listed past-due item of each message that went out, what it demanded, what payments
# settled of it within the days after the step.
DUNNING = """
    SELECT x.policy_id, x.step, x.channel, x.currency, COUNT(DISTINCT x.message_id),
           SUM(x.demanded),
           SUM(CASE WHEN x.paid > x.demanded THEN x.demanded WHEN x.paid < 0 THEN 0
                    ELSE x.paid END)
    FROM (SELECT m.id AS message_id, m.policy_id, m.step, m.channel, m.currency,
                 CAST(j.value ->> 'open_minor' AS BIGINT) AS demanded,
                 (SELECT COALESCE(SUM(a.amount_minor), 0) FROM ledger_allocation a
                  WHERE a.target_id = CAST(j.value ->> 'id' AS BIGINT) AND a.kind = %s
                    AND a.effective_on > m.business_date AND a.effective_on <= {until}) AS paid
          FROM dunning_message m JOIN dunning_decision d ON d.id = m.decision_id, {elements}
          WHERE m.company_id = %s AND m.status IN (%s, %s)
            AND m.business_date >= %s AND m.business_date <= %s
            AND CAST(j.value ->> 'days_overdue' AS INTEGER) > 0 AND j.value ->> 'paused' IS NULL
         ) x
    GROUP BY x.policy_id, x.step, x.channel, x.currency"""


@dataclass(frozen=True)
class Group:
    """What a series is of: `key` as a command line names it (company code, segment, collector's
    username, account number; "" for no segment or no collector), `label` as a person reads it."""

    key: str
    label: str


@dataclass(frozen=True)
class Series:
    group: Group
    currency: str
    months: list[Kpis]
    period: Kpis


@dataclass(frozen=True)
class StepEffect:
    policy: str
    step: int
    step_name: str
    channel: str
    currency: str
    messages: int
    overdue_minor: int
    paid_minor: int

    @property
    def percent_paid(self) -> Decimal | None:
        if self.overdue_minor <= 0:
            return None
        return Decimal(self.paid_minor) * 100 / self.overdue_minor


@dataclass(frozen=True)
class KpiReport:
    first: date
    last: date
    by: str
    paid_within: int
    series: list[Series]
    dunning: list[StepEffect]


@dataclass(frozen=True)
class _Window:
    """The period's months and the month ends whose balances it needs (the day before first)."""

    months: list[date]
    earlier: list[date]

    @property
    def ends(self) -> list[date]:
        return [self.months[0] - timedelta(days=1), *(end_of_month(m) for m in self.months)]

    @property
    def sales_months(self) -> list[date]:
        return [*self.earlier, *self.months]


class _Acc:
    """One (customer or company, currency)'s sums while they are gathered."""

    def __init__(self, window: _Window) -> None:
        ends, sales = len(window.months) + 1, len(window.sales_months)
        self.total, self.current, self.over = [0] * ends, [0] * ends, [0] * ends
        self.sales = [0] * sales
        self.cash, self.paid, self.paid_days = ([0] * ends for _ in range(3))

    def inputs(self, window: _Window) -> list[MonthInputs]:
        ends = [Balances(*b) for b in zip(self.total, self.current, self.over, strict=True)]
        sales = self.sales[len(window.earlier) :]
        return [
            MonthInputs(month, sales[k], ends[k], ends[k + 1], self.cash[k + 1],
                        self.paid[k + 1], self.paid_days[k + 1])
            for k, month in enumerate(window.months)
        ]  # fmt: skip

    def is_empty(self, window: _Window) -> bool:
        """Nothing owed, sold or collected in the period (earlier sales alone do not count)."""
        return not any((*self.total, *self.sales[len(window.earlier) :], *self.cash))


_Key = tuple[int | None, str]  # (customer id, or None when grouped by company; currency)


def check_months(first: date, last: date) -> None:
    if first.day != 1 or last.day != 1:
        raise ValueError("months are given by their first day")
    if last < first:
        raise ValueError(f"the last month {last:%Y-%m} is before the first {first:%Y-%m}")
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    if count > MAX_MONTHS:
        raise ValueError(f"at most {MAX_MONTHS} months at once, not {count}")


def kpi_report(
    company: Company,
    first: date,
    last: date,
    by: str = "company",
    *,
    paid_within: int = DEFAULT_PAID_WITHIN,
) -> KpiReport:
    """The KPIs of the months `first`..`last` (their first days) of `company`, per group of `by`
    and currency, and the dunning effectiveness of the period (payments within `paid_within`
    days)."""
    check_months(first, last)
    if by not in GROUPINGS:
        raise ValueError(f"grouping {by!r}: expected one of {', '.join(GROUPINGS)}")
    if paid_within < 1:
        raise ValueError(f"paid within {paid_within} days: expected at least 1 day")
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    window = _Window(
        [add_months(first, n) for n in range(count)],
        [add_months(first, n) for n in range(-EARLIER_MONTHS, 0)],
    )
    cells: dict[_Key, _Acc] = defaultdict(lambda: _Acc(window))
    with connection.cursor() as cursor:
        cursor.execute(CURRENCIES, [company.pk] * 2)
        shape = _Shape(by != "company", tuple(code for (code,) in cursor.fetchall()))
        exceptions: list[int] = []
        if shape.currencies:
            scan = _Scan(cursor, company.pk, latest_settlement(cursor, company.pk), shape, cells)
            scan.unsettled(window)
            for k, day in enumerate(window.ends):
                scan.balances(day, k)
            for n, month in enumerate(window.sales_months):
                scan.sales(month, n)
            for k, month in enumerate(window.months, start=1):
                scan.allocated(month, k)
            exceptions = scan.irregular(window)
    _subtract(company, exceptions, window, shape.per_customer, cells)
    return KpiReport(
        first,
        last,
        by,
        paid_within,
        _series(company, by, window, cells),
        dunning_effectiveness(company, first, end_of_month(last), paid_within),
    )


Measure = tuple[str, list[Any]]  # an SQL expression summed, with its parameters


@dataclass(frozen=True)
class _Shape:
    """How a scan's sums come back: per (customer, currency) rows, or one row for the company
    with a column per currency and measure (no GROUP BY: SQLite would sort every row)."""

    per_customer: bool
    currencies: tuple[str, ...]

    def select(self, measures: Sequence[Measure], alias: str = "") -> Measure:
        if self.per_customer:
            sums = ", ".join(f"SUM({sql})" for sql, _ in measures)
            return f"{alias}customer_id, {alias}currency, {sums}", [
                p for _, params in measures for p in params
            ]
        columns, values = [], []
        for currency in self.currencies:
            for sql, params in measures:
                columns.append(f"SUM(CASE WHEN {alias}currency = %s THEN {sql} ELSE 0 END)")
                values += [currency, *params]
        return ", ".join(columns), values

    def group(self, alias: str = "") -> str:
        return f" GROUP BY {alias}customer_id, {alias}currency" if self.per_customer else ""

    def rows(
        self, fetched: Iterable[Sequence[Any]], width: int
    ) -> Iterator[tuple[_Key, list[int]]]:
        """(key, sums) of each row: `width` sums a key."""
        for row in fetched:
            if self.per_customer:
                yield (row[0], row[1]), [int(v or 0) for v in row[2:]]
                continue
            for n, currency in enumerate(self.currencies):
                yield (None, currency), [int(v or 0) for v in row[n * width : (n + 1) * width]]


def _days(later: str, earlier: str) -> str:
    """SQL for the whole days from the date column `earlier` to `later`."""
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _month(column: str) -> str:
    """SQL for "YYYY-MM" of a date column."""
    if connection.vendor == "postgresql":
        return f"to_char({column}, 'YYYY-MM')"
    return f"substr({column}, 1, 7)"


def _day(value: object) -> date:
    """A date column's value as SQLite returns it (text) or PostgreSQL (a date)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _ranges(
    since: int, due_on: date, ends: Sequence[date], in_instalments: bool
) -> tuple[tuple[int, int], ...]:
    """The month ends (`ends[start:stop]`) at which an amount counted from month end `since` on,
    due on `due_on` and never settled, is owed, current, and more than 90 days past due. Items
    in instalments are bucketed by their instalments (`INSTALMENTS_AT`), not here."""
    owed = (since, len(ends))
    if in_instalments:
        return owed, (since, since), (since, since)
    current_until = max(since, bisect_right(ends, due_on))
    over_from = min(
        len(ends), max(since, bisect_left(ends, due_on + timedelta(days=OVER_DAYS + 1)))
    )
    return owed, (since, current_until), (over_from, len(ends))


@dataclass
class _Scan:
    """The company's scans, each adding its sums into `cells` (see the module docstring)."""

    cursor: Any
    company_id: int
    latest: date | None
    shape: _Shape
    cells: dict[_Key, _Acc]

    def _sums(self, sql: str, params: list[Any], width: int) -> Iterator[tuple[_Acc, list[int]]]:
        self.cursor.execute(sql, params)
        for key, sums in self.shape.rows(self.cursor.fetchall(), width):
            yield self.cells[key], sums

    def _scans(
        self,
        items: bool,
        after: date,
        measures: Sequence[Measure],
        dates: Measure,
        *,
        unsettled: bool = True,
    ) -> Iterator[tuple[str, list[Any]]]:
        """`SCAN` of the items (or the allocations) once per part of "not settled by `after`",
        with the `dates` condition."""
        table, cover, column = (
            ("ledger_openitem", "item_aging_cover", "settled_on")
            if items
            else ("ledger_allocation", "allocation_aging_cover", "target_settled_on")
        )
        select, values = self.shape.select(measures)
        for condition, extra in not_settled_by(after, self.latest, unsettled=unsettled):
            sql = SCAN.format(
                select=select,
                table=table,
                hint=index_hint(cover),
                settled=condition.replace("settled_on", column),
                dates=dates[0],
                group=self.shape.group(),
            )
            yield sql, [*values, self.company_id, *extra, *dates[1]]  # fmt: skip

    def balances(self, day: date, k: int) -> None:
        """AR at the end of `day`: items issued by then (bucketed by their instalments when they
        have some), less the allocations effective by then; only rows settled after then (the
        never settled: `unsettled`)."""
        limit = day - timedelta(days=OVER_DAYS)
        items: list[Measure] = [("amount_minor", []),
                 ("CASE WHEN has_instalments THEN 0 WHEN due_on >= %s THEN amount_minor ELSE 0 END", [day]),
                 ("CASE WHEN has_instalments THEN 0 WHEN due_on < %s THEN amount_minor ELSE 0 END", [limit])]  # fmt: skip
        allocations: list[Measure] = [("amount_minor", []),
                       ("CASE WHEN target_due_on >= %s THEN amount_minor ELSE 0 END", [day]),
                       ("CASE WHEN target_due_on < %s THEN amount_minor ELSE 0 END", [limit])]  # fmt: skip
        queries = [
            (sql, params, 1)
            for sql, params in self._scans(True, day, items, ("issued_on <= %s", [day]),
                                           unsettled=False)
        ] + [
            (sql, params, -1)
            for sql, params in self._scans(False, day, allocations, ("effective_on <= %s", [day]),
                                           unsettled=False)
        ]  # fmt: skip
        select, values = self.shape.select([
            ("0", []),
            ("CASE WHEN s.due_on >= %s THEN s.amount_minor ELSE 0 END", [day]),
            ("CASE WHEN s.due_on < %s THEN s.amount_minor ELSE 0 END", [limit]),
        ], "i.")  # fmt: skip
        sql = INSTALMENTS_AT.format(select=select, group=self.shape.group("i."))
        queries.append((sql, [*values, self.company_id, day, day], 1))
        for sql, params, sign in queries:
            for cell, (total, current, over) in self._sums(sql, params, 3):
                cell.total[k] += sign * total
                cell.current[k] += sign * current
                cell.over[k] += sign * over

    def unsettled(self, window: _Window) -> None:
        """What the items never settled, and their allocations, add to every month end, from
        one read of them (by issue or effective month and due date; `_ranges`)."""
        ends, first = window.ends, f"{window.months[0]:%Y-%m}"
        index = {f"{m:%Y-%m}": k for k, m in enumerate(window.months, start=1)}
        keys = ", customer_id, currency" if self.shape.per_customer else ""
        steps: dict[_Key, list[list[int]]] = defaultdict(
            lambda: [[0] * (len(ends) + 1) for _ in range(3)]
        )
        select, values = self.shape.select([("amount_minor", [])])
        for template, column, cover, sign in (
            (UNSETTLED_ITEMS, "issued_on", "item_aging_cover", 1),
            (UNSETTLED_ALLOCATIONS, "effective_on", "allocation_aging_cover", -1),
        ):
            sql = template.format(month=_month(column), select=select, hint=index_hint(cover),
                                  keys=keys)  # fmt: skip
            self.cursor.execute(sql, [*values, self.company_id, ends[-1]])
            for month, due, in_instalments, *sums in self.cursor.fetchall():
                since = 0 if month < first else index[month]
                ranges = _ranges(since, _day(due), ends, bool(in_instalments))
                for key, (amount,) in self.shape.rows([sums], 1):
                    for measure, (start, stop) in zip(steps[key], ranges, strict=True):
                        measure[start] += sign * amount
                        measure[stop] -= sign * amount
        for key, measures in steps.items():
            cell = self.cells[key]
            for sums, running in zip((cell.total, cell.current, cell.over), measures, strict=True):
                for k, value in enumerate(accumulate(running[: len(ends)])):
                    sums[k] += value

    def sales(self, month: date, n: int) -> None:
        """Everything issued in `month` (items not settled before it began)."""
        dates = ("issued_on >= %s AND issued_on <= %s", [month, end_of_month(month)])
        for sql, params in self._scans(True, month - timedelta(days=1), [("amount_minor", [])],
                                       dates):  # fmt: skip
            for cell, (amount,) in self._sums(sql, params, 1):
                cell.sales[n] += amount

    def allocated(self, month: date, k: int) -> None:
        """All allocations effective in `month`, and their amounts times their days from the due
        date; `irregular` takes out what was not a live payment."""
        measures: list[Measure] = [
            ("amount_minor", []),
            (f"amount_minor * {_days('effective_on', 'target_due_on')}", []),
        ]
        dates = ("effective_on >= %s AND effective_on <= %s", [month, end_of_month(month)])
        for sql, params in self._scans(False, month - timedelta(days=1), measures, dates):
            for cell, (amount, days) in self._sums(sql, params, 2):
                cell.cash[k] += amount
                cell.paid[k] += amount
                cell.paid_days[k] += days

    def irregular(self, window: _Window) -> list[int]:
        """Take out of cash what was no payment, and out of what was paid (for the days beyond
        terms) also the reversed payments and their reversals; return the items with a VOID or
        a REFUND allocation (the voided items and the refunds)."""
        payment = AllocationKind.PAYMENT.value
        apart = [AllocationKind.VOID.value, AllocationKind.REFUND.value]
        select, values = self.shape.select([
            ("CASE WHEN a.kind = %s THEN 0 ELSE a.amount_minor END", [payment]),
            ("a.amount_minor", []),
            (f"a.amount_minor * {_days('a.effective_on', 'a.target_due_on')}", []),
        ], "a.")  # fmt: skip
        keys = ", a.customer_id, a.currency" if self.shape.per_customer else ""
        sql = IRREGULAR.format(month=_month("a.effective_on"), select=select, keys=keys)
        params = [*apart, *values, self.company_id, window.sales_months[0], payment]
        index = {f"{m:%Y-%m}": k for k, m in enumerate(window.months, start=1)}
        self.cursor.execute(sql, params)
        found: set[int] = set()
        for row in self.cursor.fetchall():
            month, target, *sums = row
            if target:
                found.add(target)
            k = index.get(month)
            if k is None:
                continue
            for key, (not_cash, amount, days) in self.shape.rows([sums], 3):
                cell = self.cells[key]
                cell.cash[k] -= not_cash
                cell.paid[k] -= amount
                cell.paid_days[k] -= days
        return sorted(found)


def _documents(company: Company, ids: Sequence[int]) -> dict[_Key, list[Document]]:
    """The voided items and refunds among `ids`, as the oracle's documents."""
    rows = list(
        OpenItem.objects.filter(company=company, pk__in=ids)
        .filter(Q(voided_on__isnull=False) | Q(kind=ItemKind.REFUND))
        .values_list("pk", "customer_id", "currency", "issued_on", "due_on", "amount_minor")
    )
    parts: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for item_id, due_on, amount in Instalment.objects.filter(
        item_id__in=[r[0] for r in rows]
    ).values_list("item_id", "due_on", "amount_minor"):
        parts[item_id].append((due_on, amount))
    allocations: list[tuple[Any, ...]] = list(
        Allocation.objects.filter(company=company, target_id__in=[r[0] for r in rows]).values_list(
            "pk", "target_id", "effective_on", "target_due_on", "amount_minor", "kind",
            "reversal_of_id",
        )
    )  # fmt: skip
    undone = {original for *_, original in allocations if original is not None}
    reductions: dict[int, list[Reduction]] = defaultdict(list)
    for pk, target, on, due_on, amount, kind, original in allocations:
        gone = original is not None or pk in undone
        reductions[target].append(Reduction(on, due_on, amount, kind == AllocationKind.PAYMENT,
                                            gone))  # fmt: skip
    documents: dict[_Key, list[Document]] = defaultdict(list)
    for pk, customer_id, currency, issued_on, due_on, amount in rows:
        documents[(customer_id, currency)].append(
            Document(issued_on, due_on, amount, tuple(parts[pk]), tuple(reductions[pk]))
        )
    return documents


def _subtract(
    company: Company, ids: Sequence[int], window: _Window, per_customer: bool,
    cells: dict[_Key, _Acc],
) -> None:  # fmt: skip
    """Take out all that the scans counted of voided items and refunds, as the oracle counts
    it. A refund is never open (settled the day it is issued), so that is only its sale."""
    if not ids:
        return
    first, last, earlier = window.months[0], window.months[-1], len(window.earlier)
    for (customer_id, currency), documents in _documents(company, ids).items():
        cell = cells[(customer_id if per_customer else None, currency)]
        counted = ledger_months(documents, first, last, earlier)
        for n, (_, sales) in enumerate(counted.earlier):
            cell.sales[n] -= sales
        ends = [counted.months[0].opening, *(m.ending for m in counted.months)]
        for k, balances in enumerate(ends):
            cell.total[k] -= balances.total
            cell.current[k] -= balances.current
            cell.over[k] -= balances.over_90
        for k, m in enumerate(counted.months, start=1):
            cell.sales[earlier + k - 1] -= m.credit_sales
            cell.cash[k] -= m.cash_collected
            cell.paid[k] -= m.paid
            cell.paid_days[k] -= m.paid_days


def _groups(company: Company, by: str, customer_ids: set[int]) -> dict[int | None, Group]:
    """Each customer's group (key None: the whole company)."""
    if by == "company":
        return {None: Group(company.code, company.legal_name)}
    found = Customer.objects.filter(company=company, pk__in=customer_ids)
    if by == "customer":
        return {pk: Group(number, name) for pk, number, name in
                found.values_list("pk", "account_number", "legal_name")}  # fmt: skip
    if by == "segment":
        return {pk: Group(segment, segment or "(no segment)") for pk, segment in
                found.values_list("pk", "segment")}  # fmt: skip
    owners: dict[int, Any] = dict(found.values_list("pk", "owner_id"))
    users = {
        user.pk: Group(user.username, user.get_full_name() or user.username)
        for user in User.objects.filter(pk__in={o for o in owners.values() if o is not None})
    }
    unassigned = Group("", "(unassigned)")
    return {
        pk: users.get(owner, unassigned) if owner else unassigned for pk, owner in owners.items()
    }


def _merge(into: _Acc, cell: _Acc) -> None:
    for name in ("total", "current", "over", "sales", "cash", "paid", "paid_days"):
        mine, theirs = getattr(into, name), getattr(cell, name)
        for n, value in enumerate(theirs):
            mine[n] += value


def _series(company: Company, by: str, window: _Window, cells: dict[_Key, _Acc]) -> list[Series]:
    groups = _groups(company, by, {c for c, _ in cells if c is not None})
    merged: dict[tuple[Group, str], _Acc] = {}
    for (customer_id, currency), cell in cells.items():
        key = (groups[customer_id], currency)
        if key not in merged:
            merged[key] = _Acc(window)
        _merge(merged[key], cell)
    series = []
    for (group, currency), cell in merged.items():
        if cell.is_empty(window):
            continue
        months = cell.inputs(window)
        history = list(zip(window.sales_months, cell.sales, strict=True))
        before = len(window.earlier)
        monthly = [kpis([m], history[: before + k]) for k, m in enumerate(months)]
        series.append(Series(group, currency, monthly, kpis(months, history[:before])))
    series.sort(key=lambda s: (s.group.label.lower(), s.group.key, s.currency))
    return series


def _dunning_sql() -> str:
    if connection.vendor == "postgresql":
        return DUNNING.format(
            until="m.business_date + CAST(%s AS INTEGER)",
            elements="jsonb_array_elements(d.items) AS j(value)",
        )
    return DUNNING.format(
        until="date(m.business_date, '+' || %s || ' days')", elements="json_each(d.items) AS j"
    )


def dunning_effectiveness(
    company: Company, start: date, end: date, paid_within: int = DEFAULT_PAID_WITHIN
) -> list[StepEffect]:
    """Per policy, step, channel and currency, the messages that went out from `start` to `end`,
    the overdue amount they demanded and what of it payments settled within `paid_within` days
    after the step's business date (each item at most what was demanded of it)."""
    params: list[Any] = [AllocationKind.PAYMENT.value, paid_within, company.pk, *WENT_OUT, start,
                         end]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_dunning_sql(), params)
        rows = cursor.fetchall()
    policies = dict(
        Policy.objects.filter(company=company, pk__in={r[0] for r in rows}).values_list(
            "pk", "name"
        )
    )
    steps = {
        (policy_id, sequence): name
        for policy_id, sequence, name in Step.objects.filter(policy_id__in=policies).values_list(
            "policy_id", "sequence", "name"
        )
    }
    effects = [
        StepEffect(policies.get(policy_id, ""), step, steps.get((policy_id, step), ""), channel,
                   currency, int(messages), int(overdue or 0), int(paid or 0))
        for policy_id, step, channel, currency, messages, overdue, paid in rows
    ]  # fmt: skip
    effects.sort(key=lambda e: (e.policy, e.step, e.channel, e.currency))
    return effects
