"""The collector's daily pages at the demo's size (issue 6: each ≤ 150 ms).

    python -m benchmarks.pages_bench [--database-url sqlite:////tmp/dunwell-bench-pages.sqlite3]
        [--runs 20] [--json OUT]

Builds the demo company into the database (`dunwell demo build`, as `make demo`; on SQLite
afresh, on PostgreSQL into the empty database of scripts/with-postgres), then, in this process through Django's test client (the full middleware stack, no
network or WSGI server: the load test with gunicorn is separate), signs in as the demo's
collector and asks for each page `--runs` times after two warm-up calls: the overview, the
customers, the worklist, a customer, an invoice, the bank's review queue and the dunning
outbox. Reports the median and the 95th percentile per page, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.machine import describe

TARGET_MS = 150


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/dunwell-bench-pages.sqlite3")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": args.database_url,
           "DJANGO_SETTINGS_MODULE": "dunwell.settings"}  # fmt: skip
    dunwell = str(Path(sys.executable).with_name("dunwell"))
    # SQLite: a fresh file each time; PostgreSQL: the empty database scripts/with-postgres made
    fresh = ["--fresh"] if args.database_url.startswith("sqlite") else []
    if not fresh:
        subprocess.run([dunwell, "migrate", "--verbosity", "0"], env=env, check=True)
    subprocess.run([dunwell, "demo", "build", *fresh], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    os.environ.update({"DATABASE_URL": args.database_url,
                       "DJANGO_SETTINGS_MODULE": "dunwell.settings"})  # fmt: skip
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    from dunwell.ledger.models import OpenItem
    from dunwell.reports.models import WorklistRow

    settings.ALLOWED_HOSTS = ["*"]
    collector = User.objects.get(username="collector")
    row = WorklistRow.objects.filter(owner=collector).order_by("-rank").first()
    assert row is not None, "the demo's collector has no accounts"
    item = OpenItem.objects.filter(customer_id=row.customer_id).order_by("-pk").first()
    assert item is not None
    pages = {
        "overview": "/", "customers": "/customers/", "worklist": "/worklist/",
        "customer": f"/customers/{row.customer_id}/", "invoice": f"/items/{item.pk}/",
        "bank review": "/bank/review/", "dunning outbox": "/dunning/",
    }  # fmt: skip
    client = Client()
    client.force_login(collector)
    results = {}
    for name, url in pages.items():
        times = []
        for n in range(args.runs + 2):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if n >= 2:
                times.append(elapsed)
        times.sort()
        results[name] = {"url": url, "median_ms": round(statistics.median(times), 1),
                         "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1)}  # fmt: skip
        print(f"{name:15} median {results[name]['median_ms']:6.1f} ms   "
              f"p95 {results[name]['p95_ms']:6.1f} ms", flush=True)  # fmt: skip
    report = {"benchmark": "pages", "runs": args.runs, "pages": results, "machine": describe(),
              "load_average": os.getloadavg()}  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0 if all(r["p95_ms"] <= TARGET_MS for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
