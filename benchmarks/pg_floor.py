"""What PostgreSQL itself needs to take the rows of the import benchmark, before Python does anything.

    python -m benchmarks.pg_floor --database-url postgres://.../dunwell [--json OUT]

Run after benchmarks.import_bench on the same server: it copies the items of the last run's
database (bench_run_N) out as COPY text, then loads that text into fresh copies of the prepared
template (company and customers, no items) with `COPY ... FROM STDIN`, timing the load and the
commit: as the schema is, without the foreign-key checks (the triggers disabled, which needs a
superuser: the throw-away server's), and without them and the secondary indexes. The first
figure is the floor of any import into this schema on this machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from benchmarks.machine import describe

COLUMNS = (
    "company_id, customer_id, kind, number, issued_on, due_on, currency, amount_minor, net_minor, "
    "tax_minor, po_number, payment_reference, payment_term_id, discount_until, discount_minor, "
    "related_id, has_instalments, description, source, open_minor, created_at, updated_at, "
    "created_by_id"
)
SECONDARY = ("item_aging_cover", "item_related", "ledger_open_payment_c984f2_idx",
             "ledger_openitem_customer_id_e2283c7f")  # fmt: skip
VARIANTS: dict[str, list[str]] = {
    "as the schema is": [],
    "without foreign-key checks": ["ALTER TABLE ledger_openitem DISABLE TRIGGER ALL"],
    "without foreign-key checks and secondary indexes": [
        "ALTER TABLE ledger_openitem DISABLE TRIGGER ALL",
        *(f"DROP INDEX {name}" for name in SECONDARY),
    ],
}


def with_name(url: str, name: str) -> str:
    return str(urlunsplit(urlsplit(url)._replace(path=f"/{name}")))


def last_run(url: str) -> str:
    with psycopg.connect(with_name(url, "postgres")) as conn:
        names: list[str] = [r[0] for r in conn.execute("SELECT datname FROM pg_database")]
    runs = sorted(n for n in names if n.startswith("bench_run_"))
    if not runs or "bench_template" not in names:
        raise SystemExit("run benchmarks.import_bench on this server first")
    return runs[-1]


def export(url: str) -> bytes:
    out = bytearray()
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        sql = f"COPY (SELECT {COLUMNS} FROM ledger_openitem ORDER BY id) TO STDOUT"
        with cursor.copy(sql) as copy:
            for chunk in copy:
                out += chunk
    return bytes(out)


def load(url: str, rows: bytes, setup: list[str]) -> float:
    with psycopg.connect(with_name(url, "postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS bench_floor")
        admin.execute("CREATE DATABASE bench_floor TEMPLATE bench_template")
    with psycopg.connect(with_name(url, "bench_floor")) as conn:
        for sql in setup:
            conn.execute(sql)
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor:
            sql = f"COPY ledger_openitem ({COLUMNS}) FROM STDIN"
            with cursor.copy(sql) as copy:
                for start in range(0, len(rows), 2**20):
                    copy.write(rows[start : start + 2**20])
        conn.commit()  # the deferred foreign-key checks run here
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    source = last_run(args.database_url)
    rows = export(with_name(args.database_url, source))
    count = rows.count(b"\n")
    print(f"{count} rows of {source}, {len(rows) / 2**20:.0f} MB of COPY text", flush=True)
    result: dict[str, Any] = {"benchmark": "PostgreSQL COPY floor", "rows": count, "seconds": {}}
    for label, setup in VARIANTS.items():
        times = [load(args.database_url, rows, setup) for _ in range(args.runs)]
        result["seconds"][label] = round(statistics.median(times), 2)
        print(f"{label}: median {statistics.median(times):.2f} s "
              f"({', '.join(f'{t:.1f}' for t in times)})", flush=True)  # fmt: skip
    with psycopg.connect(with_name(args.database_url, "postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS bench_floor")
    result["machine"] = describe()
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
