"""The timeline benchmark: one customer's 10,000 history entries among 10^6, paged by keyset.

    python -m benchmarks.timeline --database-url URL [--entries 1000000] [--target 10000]
                                  [--runs 15] [--json OUT]

Builds the company "timelinebench" unless the database has it: 1,000 customers, one of which
(T0000) holds `--target` entries and the others share the rest of `--entries`, written with
`core.bulk.insert_rows` (COPY on PostgreSQL) in the kinds' real mix, ten entries to an instant
so that the id must break ties. Then times, in this process, the server side of a request to
`/customers/<id>/history/` through Django's test client (middleware, session, view, template):
the first page, a deep page (by the cursor of the 9,000th entry), a page filtered by kind group,
and one filtered by text; median of `--runs` after one warm-up each. Prints the query plans.

Target (issue 4): a page of a 10,000-entry timeline in <= 20 ms. Missed: exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

COMPANY = "timelinebench"
CUSTOMERS = 1000
TARGET_MS = 20.0
KINDS = (  # a collector's year: notes and calls, reminders, payments, fees, promises, imports
    732,
    731,
    601,
    301,
    302,
    203,
    711,
    712,
    401,
    201,
    601,
    732,
    731,
    302,
    204,
    701,
    721,
    722,
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.timeline", description=__doc__)
    parser.add_argument("--database-url", required=True, help="sqlite:////path or postgres://…")
    parser.add_argument("--entries", type=int, default=1_000_000, help="in the whole table")
    parser.add_argument("--target", type=int, default=10_000, help="of the measured customer")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


def build(entries: int, target: int) -> float:
    from django.db import transaction

    from dunwell.core.bulk import deferred_indexes, insert_rows
    from dunwell.core.models import Company
    from dunwell.ledger.models import Activity, Customer

    started = time.perf_counter()
    company = Company.objects.create(code=COMPANY, legal_name="Timeline Bench GmbH", country="DE",
                                     base_currency="EUR")  # fmt: skip
    Customer.objects.bulk_create(
        Customer(company=company, account_number=f"T{n:04d}", legal_name=f"Customer {n}",
                 currency="EUR", country="DE")
        for n in range(CUSTOMERS)
    )  # fmt: skip
    ids = list(Customer.objects.filter(company=company).order_by("account_number")
               .values_list("pk", flat=True))  # fmt: skip
    first = datetime(2022, 1, 1, 8, tzinfo=UTC)
    columns = ("company_id", "customer_id", "item_id", "payment_id", "kind", "on", "recorded_at",
               "actor_id", "actor_label", "summary", "amount_minor", "currency", "data", "key")  # fmt: skip

    def rows() -> Any:
        for n in range(entries):
            # the measured customer's entries spread over the whole load, among the others'
            mine = n % max(entries // target, 1) == 0 and n // max(entries // target, 1) < target
            customer = ids[0] if mine else ids[1 + n % (CUSTOMERS - 1)]
            at = first + timedelta(seconds=(n // 10) * 60)  # ten entries to an instant
            kind = KINDS[n % len(KINDS)]
            money = kind in (301, 302, 203, 204, 711, 722)
            yield (company.pk, customer, None, None, kind, at.date(), at, None,
                   "colly" if kind in (731, 732, 711) else "system",
                   f"Entry {n} of kind {kind}" + (" reminder text" if kind == 601 else ""),
                   1000 + n % 5000 if money else None, "EUR" if money else "", {}, None)  # fmt: skip

    with transaction.atomic(), deferred_indexes(Activity, entries):
        insert_rows(Activity, columns, rows())
    return time.perf_counter() - started


def measure(runs: int) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from dunwell.core.models import Company
    from dunwell.ledger.models import Activity, Customer
    from dunwell.reports import timeline

    company = Company.objects.get(code=COMPANY)
    customer = Customer.objects.get(company=company, account_number="T0000")
    user = User.objects.filter(username="timeline-bench").first() or User.objects.create_superuser(
        "timeline-bench", "bench@example.com", None
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    mine = Activity.objects.filter(company=company, customer=customer)
    count = mine.count()
    deep_entry = mine.order_by("-recorded_at", "-id")[min(9000, count - 1)]
    # the company once, remembered by the session, as a user's browser does; a ?company= on
    # every request would write the session each time
    client.get(f"/customers/?company={company.pk}")
    base = f"/customers/{customer.pk}/history/?"
    pages = {
        "first page": base,
        "deep page (after the 9,000th entry)": f"{base}after={timeline.encode_cursor(deep_entry)}",
        "filtered: payments and allocations": f"{base}kind=payments",
        "filtered: text contains 'reminder'": f"{base}q=reminder",
    }
    results: dict[str, Any] = {}
    for name, url in pages.items():
        response = client.get(url)  # warm-up, and the check
        assert response.status_code == 200, response.content[:300]
        shown = response.content.decode().count('<tr id="entry-')
        times, cpu = [], []
        for _ in range(runs):
            begin, begin_cpu = time.perf_counter(), time.process_time()
            client.get(url)
            times.append((time.perf_counter() - begin) * 1000)
            cpu.append((time.process_time() - begin_cpu) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        results[name] = {
            "median_ms": round(statistics.median(times), 2),
            "min_ms": round(min(times), 2),
            "max_ms": round(max(times), 2),
            # this process's CPU time: what a request costs when the shared machine is busy
            "median_cpu_ms": round(statistics.median(cpu), 2),
            "rows_shown": shown,
            "queries": len(queries),
            "met": statistics.median(times) <= TARGET_MS,
        }
    # the read model alone (its two queries and the rows), without middleware and template
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        timeline.page(company, customer=customer, after=timeline.encode_cursor(deep_entry))
        times.append((time.perf_counter() - begin) * 1000)
    results["read model only, deep page"] = {"median_ms": round(statistics.median(times), 2)}
    results["plans"] = plans(company, customer, deep_entry)
    results["customer_entries"] = count
    results["table_entries"] = Activity.objects.count()
    return results


def plans(company: Any, customer: Any, deep_entry: Any) -> dict[str, str]:
    from django.db import connection

    from dunwell.reports import timeline

    found = timeline.entries(company, customer=customer)
    at, pk = deep_entry.recorded_at, deep_entry.pk
    from django.db.models import Q

    queries = {
        "first page": found.order_by("-recorded_at", "-id")[:51],
        "deep page": found.filter(recorded_at__lte=at)
        .filter(Q(recorded_at__lt=at) | Q(recorded_at=at, pk__lt=pk))
        .order_by("-recorded_at", "-id")[:51],
        "kind group": timeline.entries(company, customer=customer,
                                       filters=timeline.Filters(groups=("payments",)))
        .order_by("-recorded_at", "-id")[:51],
    }  # fmt: skip
    shown = {}
    for name, query in queries.items():
        sql, params = query.query.sql_with_params()
        prefix = (
            "EXPLAIN QUERY PLAN "
            if connection.vendor == "sqlite"
            else "EXPLAIN (ANALYZE, BUFFERS) "
        )
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            shown[name] = "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())
    return shown


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dunwell.settings"
    os.environ["DATABASE_URL"] = args.database_url
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from benchmarks.machine import describe
    from dunwell.core.models import Company

    call_command("migrate", verbosity=0)
    build_seconds = None
    if not Company.objects.filter(code=COMPANY).exists():
        print(f"building {args.entries:,} entries ({args.target:,} of one customer)...", flush=True)
        build_seconds = round(build(args.entries, args.target), 1)
        print(f"built in {build_seconds} s", flush=True)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE ledger_activity")
    results = measure(args.runs)
    summary = {
        "benchmark": "timeline",
        "database": connection.vendor,
        "runs": args.runs,
        "machine": describe(),
        "build_seconds": build_seconds,
        "load_average": os.getloadavg(),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "results": results,
    }
    print(f"{results['table_entries']:,} entries, {results['customer_entries']:,} of the customer")
    for name, figures in results.items():
        if isinstance(figures, dict) and "queries" not in figures and "median_ms" in figures:
            print(f"{name:40} median {figures['median_ms']:7.2f} ms")
        elif isinstance(figures, dict) and "median_ms" in figures:
            print(f"{name:40} median {figures['median_ms']:7.2f} ms  (min {figures['min_ms']}, "
                  f"max {figures['max_ms']}, cpu {figures['median_cpu_ms']} ms, {figures['queries']} queries, "
                  f"{figures['rows_shown']} rows)  {'met' if figures['met'] else 'MISSED'}")  # fmt: skip
    for name, plan in results["plans"].items():
        print(f"-- plan: {name}\n{plan}")
    print(f"peak memory {summary['peak_memory_mb']} MB, load average {summary['load_average']}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    met = all(f["met"] for f in results.values() if isinstance(f, dict) and "met" in f)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
