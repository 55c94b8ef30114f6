"""The daily dunning run over 1,000,000 open invoices of 100,000 customers (issue 3).

    python -m benchmarks.dunning_bench --database-url sqlite:////tmp/dunwell-bench/dunning.sqlite3
        [--invoices N] [--customers N] [--runs R] [--workdir DIR] [--json OUT]

Prepares once (a template database): migrate, company "bench" with its terms, the customers
(`dunwell import customers`), one AP clerk with an email per customer, the invoices
(`dunwell import invoices`, none paid: every one is open) and the standard policy. Then, per run,
from a fresh copy of the template: `dunwell dunning run --date 2025-10-01 --brief --format json`
as a user runs it (decisions and outbox rows written), timed around the process with its peak
memory; then the same day again (nothing new). Targets: the run <= 30 s, the re-run <= 3 s, peak
memory <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.generate import write_customers, write_invoices
from benchmarks.import_bench import Databases, timed
from benchmarks.machine import describe

DAY = "2025-10-01"
CONTACTS = """
import django; django.setup()
from dunwell.core.models import Company
from dunwell.ledger.models import Contact, Customer
company = Company.objects.get(code="bench")
Contact.objects.bulk_create(
    (Contact(company=company, customer_id=pk, name=f"AP {number}", role="ap_clerk",
             email=f"ap@{number.lower()}.example")
     for pk, number in Customer.objects.filter(company=company).values_list("id", "account_number")),
    batch_size=5000,
)
"""


def prepare(
    databases: Databases, workdir: Path, customers: int, invoices: int, env: dict[str, str]
) -> None:
    customers_csv = workdir / f"dunning-customers-{customers}.csv"
    invoices_csv = workdir / f"dunning-invoices-{invoices}-{customers}.csv"
    accounts = write_customers(customers_csv, customers)
    if not invoices_csv.exists():
        print(f"writing {invoices_csv} ...", flush=True)
        write_invoices(invoices_csv, accounts, invoices)
    print("preparing the template (customers, contacts, invoices, policy) ...", flush=True)
    databases.prepare(customers_csv, env)
    url = databases.template()
    dunwell = str(Path(sys.executable).with_name("dunwell"))
    local = {**env, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-c", CONTACTS], env=local, check=True)
    subprocess.run([dunwell, "import", "invoices", str(invoices_csv), "--company", "bench",
                    "--format", "json", "--brief"], env=local, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    subprocess.run([dunwell, "dunning", "standard", "--company", "bench"], env=local, check=True)


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

    dunwell = str(Path(sys.executable).with_name("dunwell"))
    command = [dunwell, "dunning", "run", "--date", DAY, "--company", "bench", "--brief",
               "--format", "json"]  # fmt: skip
    times, peaks, again_times, counts = [], [], [], {}
    for index in range(args.runs):
        url = databases.fresh(index)
        elapsed, _, peak, out = timed(command, {**env, "DATABASE_URL": url})
        counts = json.loads(out)["counts"]
        again, _, _, out = timed(command, {**env, "DATABASE_URL": url})
        if not json.loads(out)["already_done"]:
            raise SystemExit("the same-day re-run did not find the run done")
        times.append(elapsed)
        peaks.append(peak)
        again_times.append(again)
        print(f"run {index + 1}: {elapsed:.2f} s, peak {peak} MB, {counts}; "
              f"same day again {again:.2f} s", flush=True)  # fmt: skip
    result: dict[str, Any] = {
        "benchmark": "dunning run",
        "command": " ".join(command[1:]),
        "database": "sqlite" if databases.sqlite else "postgresql",
        "invoices": args.invoices,
        "customers": args.customers,
        "runs": args.runs,
        "seconds": {
            "median": round(statistics.median(times), 2),
            "min": round(min(times), 2),
            "max": round(max(times), 2),
        },
        "rerun_seconds": round(statistics.median(again_times), 2),
        "peak_mb": max(peaks),
        "counts": counts,
        "machine": describe(),
    }
    print(json.dumps(result["seconds"]), "re-run", result["rerun_seconds"], "s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
