"""The collector's worklist: 5,000 accounts of one collector among 100,000 customers and
1,000,000 invoices (issue 4: each page of 50 in <= 50 ms, server time per request).

    python -m benchmarks.worklist --database-url sqlite:////tmp/dunwell-bench-worklist/w.sqlite3
        [--invoices N] [--customers N] [--runs R] [--workdir DIR] [--json OUT]

Prepares the dunning benchmark's template (`benchmarks.dunning_bench.prepare`: customers with
an AP clerk each, the invoices, all open, the standard policy), takes a fresh copy, runs the
day's dunning (`dunwell dunning run`: the steps reached, the call tasks), then gives the
customers to 20 collectors (every 20th to "colly": 5,000 of 100,000) and adds cases in bulk:
a broken promise for 2 % of the customers, an open dispute for 1 %, an open task for 3 %, a
dunning hold for 1 %. Measured:

- the full refresh of the company's worklist as a user runs it, `dunwell worklist --refresh`
  (wall time of the process and its peak memory), `--runs` times;
- server time per request of colly's worklist through Django's test client (every middleware,
  the session, the template), in process: page 1, pages 50 and 100 by the keyset cursor the
  "Next" link carries, page 100 by number (an offset), a filtered page, and the credit manager's
  page 1 of every collector's accounts; one warm-up, then the median of 7 requests each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.dunning_bench import DAY, prepare
from benchmarks.import_bench import Databases, timed
from benchmarks.machine import describe

REQUESTS = 7
COLLECTORS = 20


def cases(day: str) -> dict[str, int]:
    """Collectors and cases in bulk (this process is set up for the copy's database)."""
    from datetime import UTC, date, datetime, timedelta

    from django.contrib.auth.models import User
    from django.db.models import Min

    from dunwell.cases.models import Dispute, DisputedItem, PromiseToPay, Task
    from dunwell.core.models import Company, Membership
    from dunwell.dunning.models import Hold
    from dunwell.ledger.models import Customer, OpenItem

    on, at = date.fromisoformat(day), datetime.fromisoformat(day).replace(tzinfo=UTC)
    company = Company.objects.get(code="bench")
    users = [User.objects.create_user("colly")] + [
        User.objects.create_user(f"collector{n}") for n in range(1, COLLECTORS)
    ]
    manny = User.objects.create_user("manny")
    Membership.objects.bulk_create(
        [Membership(user=u, company=company, role="collector") for u in users]
        + [Membership(user=manny, company=company, role="credit_manager")]
    )
    ids = list(Customer.objects.filter(company=company).order_by("pk").values_list("pk", flat=True))
    for index, user in enumerate(users):
        Customer.objects.filter(pk__in=ids[index::COLLECTORS]).update(owner=user)
    first_item = dict(
        OpenItem.objects.filter(company=company, due_on__lt=on)
        .values("customer_id")
        .annotate(first=Min("pk"))
        .values_list("customer_id", "first")
    )
    broken = ids[::50]
    PromiseToPay.objects.bulk_create(
        PromiseToPay(company=company, customer_id=c, currency="EUR", amount_minor=500_00,
                     promised_on=on - timedelta(days=20), promised_by="AP", channel="phone",
                     state="broken", made_on=on - timedelta(days=30),
                     decided_on=on - timedelta(days=15), created_at=at)
        for c in broken
    )  # fmt: skip
    disputed = [c for c in ids[7::100] if c in first_item]
    disputes = Dispute.objects.bulk_create(
        Dispute(company=company, customer_id=c, reason="price", state="open", opened_on=on,
                created_at=at)
        for c in disputed
    )  # fmt: skip
    DisputedItem.objects.bulk_create(
        DisputedItem(dispute=d, item_id=first_item[d.customer_id], amount_minor=100_00)
        for d in disputes
    )
    tasked = ids[3::33]
    Task.objects.bulk_create(
        Task(company=company, customer_id=c, kind="call", title="call back", due_on=on,
             created_at=at)
        for c in tasked
    )  # fmt: skip
    held = ids[11::100]
    Hold.objects.bulk_create(
        Hold(company=company, customer_id=c, until=on + timedelta(days=14), reason="bench",
             created_at=at)
        for c in held
    )  # fmt: skip
    return {"collectors": COLLECTORS, "colly_customers": len(ids[::COLLECTORS]),
            "broken_promises": len(broken), "disputes": len(disputes), "tasks": len(tasked),
            "holds": len(held)}  # fmt: skip


def median_ms(action: Callable[[], Any]) -> dict[str, float]:
    action()  # warm-up
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return {"median": round(statistics.median(times), 1), "min": round(min(times), 1),
            "max": round(max(times), 1)}  # fmt: skip


def pages(day: str) -> dict[str, Any]:
    """Server time per request of the worklist pages (the clock set to the benchmark's day)."""
    from datetime import UTC, date, datetime

    from django.contrib.auth.models import User
    from django.test import Client

    from dunwell.core import clock
    from dunwell.core.models import Company
    from dunwell.reports.models import WorklistRow

    on = date.fromisoformat(day)
    clock.today = lambda company=None: on  # type: ignore[assignment]  # the page's "today"
    clock.now = lambda: datetime.fromisoformat(day).replace(hour=8, tzinfo=UTC)  # type: ignore[assignment]
    company = Company.objects.get(code="bench")
    colly, manny = User.objects.get(username="colly"), User.objects.get(username="manny")
    rows = WorklistRow.objects.filter(company=company, owner=colly).order_by("-rank", "customer_id")
    accounts = rows.count()

    def cursor(page: int) -> str:
        last = rows.values_list("rank", "customer_id")[(page - 1) * 50 - 1]
        return f"{last[0]}:{last[1]}"

    client = Client()
    client.force_login(colly)

    def get(url: str) -> Callable[[], None]:
        def fetch() -> None:
            response = client.get(url)
            if response.status_code != 200 or b"<table" not in response.content:
                raise SystemExit(f"{url}: {response.status_code}")

        return fetch

    last_page = max(1, (accounts + 49) // 50)
    deep = [n for n in (50, 100) if n <= last_page] or [last_page]
    measured = {"page 1": median_ms(get("/worklist/"))}
    for n in deep:
        if n > 1:
            measured[f"page {n} (keyset)"] = median_ms(
                get(f"/worklist/?after={cursor(n)}&page={n}")
            )
    measured[f"page {deep[-1]} (offset)"] = median_ms(get(f"/worklist/?page={deep[-1]}"))
    measured["filtered: overdue >= 1,000.00, tasks due"] = median_ms(
        get("/worklist/?min_overdue=1000&tasks=1")
    )
    measured["filtered: search by account number"] = median_ms(get("/worklist/?q=C0012"))
    manager = Client()
    manager.force_login(manny)
    client = manager
    measured["credit manager, all collectors, page 1"] = median_ms(get("/worklist/?collector=all"))
    return {"accounts_of_colly": accounts, "requests_ms": measured}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dunwell-bench"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dunwell.settings", "DUNWELL_FAULT": ""}
    databases = Databases(args.database_url)
    prepare(databases, args.workdir, args.customers, args.invoices, env)
    url = databases.fresh(0)
    local = {**env, "DATABASE_URL": url}
    dunwell = str(Path(sys.executable).with_name("dunwell"))
    print("the day's dunning run (steps reached, call tasks) ...", flush=True)
    subprocess.run([dunwell, "dunning", "run", "--date", DAY, "--company", "bench", "--brief",
                    "--format", "json"], env=local, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    os.environ.update(local)
    import django

    django.setup()
    made = cases(DAY)
    print(f"cases: {made}", flush=True)

    refresh = [dunwell, "worklist", "--refresh", "--as-of", DAY, "--company", "bench",
               "--collector", "colly", "--format", "json"]  # fmt: skip
    times, peaks = [], []
    for index in range(args.runs):
        elapsed, peak, _, out = timed(refresh, local)
        times.append(elapsed)
        peaks.append(peak)
        print(f"refresh {index + 1}: {elapsed:.2f} s, peak {peak} MB, "
              f"{json.loads(out)['accounts']} accounts of colly", flush=True)  # fmt: skip
    from dunwell.reports.models import WorklistRow

    served = pages(DAY)
    print(json.dumps(served, indent=2), flush=True)
    result: dict[str, Any] = {
        "benchmark": "worklist",
        "database": "sqlite" if databases.sqlite else "postgresql",
        "invoices": args.invoices,
        "customers": args.customers,
        "on_the_worklist": WorklistRow.objects.count(),
        "cases": made,
        "refresh_seconds": {"median": round(statistics.median(times), 2),
                            "min": round(min(times), 2), "max": round(max(times), 2)},
        "refresh_peak_mb": max(peaks),
        **served,
        "machine": describe(),
    }  # fmt: skip
    print("refresh", json.dumps(result["refresh_seconds"]), "s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
