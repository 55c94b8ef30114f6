"""The as-of aging benchmark: 10^6 invoices, ~10^6 allocations, back-dated, on SQLite or PostgreSQL.

    python -m benchmarks.aging_bench --database-url URL [--invoices 1000000] [--runs 7] [--json OUT]

Builds the ledger of the company "agingbench" unless that database has it already
(`benchmarks.aging_data`), then times, in this process, `reports.aging.aging` as of 2024-06-30
and 2025-12-31 against a bare `SELECT SUM` over the invoices and the allocations, a plain
join-and-group query for comparison, and `dunwell aging --format json` end to end; checks the
report to the cent; prints a table and, with --json, writes every figure.

Targets (issue 2): aging <= 0.5 s and within 3x of the bare scan, end to end <= 2 s, peak memory
<= 1.5 GB. A missed target exits with status 1 (the figures are written first).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.aging_bench", description=__doc__)
    parser.add_argument("--database-url", required=True, help="sqlite:////path or postgres://…")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each query")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument(
        "--build-only", action="store_true", help="build the ledger if missing, time nothing"
    )
    return parser.parse_args(argv)


def _sqlite_folder(url: str) -> None:
    """SQLite creates the file but not its folder."""
    if url.startswith("sqlite:///") and url != "sqlite://":
        Path(url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)


def setup_django(database_url: str) -> None:
    """Django on `database_url`, migrated (the settings read DATABASE_URL at set-up)."""
    _sqlite_folder(database_url)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dunwell.settings"
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def the_ledger(database_url: str, invoices: int, seed: int) -> tuple[Any, dict[str, float] | None]:
    """The aging benchmark's company on a migrated database (`setup_django` first), built in a
    child process when missing; with the build's seconds (None: it was there)."""
    from benchmarks import aging_data
    from dunwell.core.models import Company

    build = None
    if Company.objects.filter(code=aging_data.COMPANY).exists():
        print(f"using the existing company {aging_data.COMPANY!r}", flush=True)
    else:
        build = build_in_child(argparse.Namespace(database_url=database_url, invoices=invoices,
                                                  seed=seed))  # fmt: skip
    return Company.objects.get(code=aging_data.COMPANY), build


def summary_of(name: str, args: argparse.Namespace, company: Any,
               build: dict[str, float] | None, results: Any, started: float) -> dict[str, Any]:  # fmt: skip
    """A benchmark's JSON: what it ran on (machine, database, build) and its results."""
    from benchmarks import aging_measure

    return {
        "benchmark": name, "invoices_requested": args.invoices, "seed": args.seed,
        "runs": args.runs, "machine": aging_measure.machine(),
        "database": aging_measure.database(company.pk), "build_seconds": build,
        "results": results, "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip


def build_in_child(args: argparse.Namespace) -> dict[str, float] | None:
    """Build in another process, so that this one times with no memory or caches of the build."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "build.json"
        command = [
            sys.executable, "-m", "benchmarks.aging_bench", "--build-only",
            "--database-url", args.database_url, "--invoices", str(args.invoices),
            "--seed", str(args.seed), "--json", str(out),
        ]  # fmt: skip
        subprocess.run(command, check=True)
        built: dict[str, float] | None = json.loads(out.read_text())["build_seconds"]
        return built


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    setup_django(args.database_url)
    from benchmarks import aging_data, aging_measure
    from dunwell.core.models import Company

    build: dict[str, float] | None = None
    exists = Company.objects.filter(code=aging_data.COMPANY).exists()
    if args.build_only:
        if not exists:
            print(f"building {args.invoices:,} invoices for {aging_data.COMPANY!r}...", flush=True)
            build = aging_data.build(args.invoices, seed=args.seed, log_to=print)
        if args.json:
            args.json.write_text(json.dumps({"build_seconds": build}), encoding="utf-8")
        return 0
    company, build = the_ledger(args.database_url, args.invoices, args.seed)
    print(f"timing {args.runs} runs of each measure...", flush=True)
    results = aging_measure.measure(company, args.runs)
    summary = summary_of("as-of aging", args, company, build, results, started)
    print(aging_measure.table(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    return 0 if all(summary["results"]["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
