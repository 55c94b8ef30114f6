"""`make bench`: every benchmark of the performance targets, on one database.

    python -m benchmarks.run [--database-url URL] [--invoices N] [--runs R] [--only import|aging|kpi|dunning|delivery|statements|timeline|worklist|cash|pages|load|predict]

Without --database-url it uses SQLite files under --workdir; `make bench` runs it once so and
once more on a throw-away PostgreSQL (scripts/with-postgres sets DATABASE_URL). Each benchmark
writes its figures as JSON into benchmarks/results/ (<database>-<benchmark>.json), from which
benchmarks/RESULTS.md is written.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).with_name("results")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="default: SQLite files in --workdir")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=0, help="0: each benchmark's default")
    parser.add_argument(
        "--only",
        choices=(
            "import",
            "aging",
            "kpi",
            "dunning",
            "delivery",
            "statements",
            "timeline",
            "worklist",
            "cash",
            "pages",
            "load",
            "predict",
        ),
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dunwell-bench"))
    args = parser.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    url = args.database_url
    vendor = "postgresql" if url.startswith("postgres") else "sqlite"
    plans = {
        "import": url or f"sqlite:///{args.workdir}/import.sqlite3",
        "aging": url or f"sqlite:///{args.workdir}/aging.sqlite3",
        "kpi": url or f"sqlite:///{args.workdir}/aging.sqlite3",  # the aging's ledger
        "dunning": url or f"sqlite:///{args.workdir}/dunning.sqlite3",
        "delivery": url or f"sqlite:///{args.workdir}/delivery.sqlite3",
        "statements": url or f"sqlite:///{args.workdir}/statements.sqlite3",
        "timeline": url or f"sqlite:///{args.workdir}/timeline.sqlite3",
        "worklist": url or f"sqlite:///{args.workdir}/worklist.sqlite3",
        "cash": url or f"sqlite:///{args.workdir}/cash.sqlite3",
        "pages": url or f"sqlite:///{args.workdir}/pages.sqlite3",
        "load": url or f"sqlite:///{args.workdir}/load.sqlite3",
        "predict": url or f"sqlite:///{args.workdir}/predict.sqlite3",
    }
    missed: list[str] = []
    for name, database_url in plans.items():
        if args.only and name != args.only:
            continue
        command = _command(name, database_url, args.invoices)
        command += ["--json", str(RESULTS / f"{vendor}-{name}.json")]
        # cash: one timed run, its lines are applied by it; load: a duration, not runs
        if args.runs and name not in ("cash", "load"):
            command += ["--runs", str(args.runs)]
        if name in ("import", "dunning", "worklist", "cash"):
            command += ["--workdir", str(args.workdir)]
        print(f"\n== {name} on {vendor}: {' '.join(command[2:])}", flush=True)
        # a missed target (exit 1) is reported at the end; the other benchmarks still run
        if subprocess.run(command, check=False).returncode != 0:
            missed.append(name)
        if name == "import" and vendor == "postgresql":  # what the server alone needs
            command = [sys.executable, "-m", "benchmarks.pg_floor", "--database-url", url]
            command += ["--json", str(RESULTS / "postgresql-copy-floor.json")]
            print(f"\n== COPY floor on {vendor}: {' '.join(command[2:])}", flush=True)
            subprocess.run(command, check=True)
    if missed:
        print(f"\nmissed or failed on {vendor}: {', '.join(missed)}", flush=True)
        sys.exit(1)


def _command(name: str, database_url: str, invoices: int) -> list[str]:
    """The benchmark's command line, before the options every benchmark takes."""
    if name in ("delivery", "statements"):
        command = [sys.executable, "-m", "benchmarks.delivery_bench"]
        command += ["--database-url", database_url]
        command += ["--statements"] if name == "statements" else []
    elif name == "timeline":  # --invoices sizes the history table: as many entries
        command = [sys.executable, "-m", "benchmarks.timeline"]
        command += ["--database-url", database_url, "--entries", str(invoices)]
    elif name == "pages":  # the demo's size, not --invoices
        command = [
            sys.executable,
            "-m",
            "benchmarks.pages_bench",
            "--database-url",
            database_url,
        ]
    elif name == "load":  # the demo's size and one customer of 1,000 invoices, via gunicorn
        command = [sys.executable, "-m", "benchmarks.load_bench"]
        command += ["--database-url", database_url]
    elif name == "worklist":
        command = [sys.executable, "-m", "benchmarks.worklist", "--database-url", database_url]
        command += ["--invoices", str(invoices)]
    else:
        command = [sys.executable, "-m", f"benchmarks.{name}_bench"]
        command += ["--database-url", database_url, "--invoices", str(invoices)]
    return command


if __name__ == "__main__":
    main()
