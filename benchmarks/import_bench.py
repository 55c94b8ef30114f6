"""Import N invoices from CSV with `dunwell import invoices`, end to end, as a user runs it.

    python -m benchmarks.import_bench --database-url sqlite:////tmp/b/import.sqlite3 [--invoices N]
        [--runs R] [--workdir DIR] [--json OUT]

Each run starts from the same database: migrated, one company ("bench") with its payment terms
and 10,000 customers (benchmarks/prepare.py), no invoices. SQLite copies a prepared file per run;
PostgreSQL creates each run's database from a prepared template. The import runs as a
subprocess; its wall time is measured around it and its peak memory comes from the kernel
(os.wait4). After the runs the same file is imported again into the last run's database: every
row must come back unchanged (natural keys), and that time is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchmarks.generate import write_customers, write_invoices
from benchmarks.machine import describe

CUSTOMERS = 10_000


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """The largest proportional set size (PSS) of a process and its children taken together,
    sampled every 0.1 s: an import forks workers, and their memory counts too (PSS counts the
    pages they share with the parent once, not once per process)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb, self.stop = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.1):
            tree = [self.pid, *_children(self.pid)]
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(pid) for pid in tree))

    def finish(self) -> int:
        self.stop.set()
        self.thread.join()
        return self.peak_kb // 1024


def timed(command: list[str], env: dict[str, str]) -> tuple[float, int, int, str]:
    """Wall seconds, peak RSS of the process in MB, peak PSS of it and its workers together in
    MB, and stdout of `command`; fails loudly on a non-zero exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        memory = TreeMemory(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        tree_peak = memory.finish()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode:
            message = err.read().decode()
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{message}")
        return elapsed, usage.ru_maxrss // 1024, tree_peak, out.read().decode()


class Databases:
    """A fresh copy of the prepared database per run."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.parts = urlsplit(url)
        self.sqlite = self.parts.scheme == "sqlite"

    def _with_name(self, name: str) -> str:
        if self.sqlite:
            return f"sqlite:///{name}"
        return urlunsplit(self.parts._replace(path=f"/{name}"))

    def template(self) -> str:
        if self.sqlite:
            return self._with_name(self.parts.path[1:] + ".template")
        return self._with_name("bench_template")

    def named(self, name: str) -> str:
        return self._with_name(name)

    def exists(self, name: str) -> bool:
        """Whether the PostgreSQL server has a database `name`."""
        import psycopg

        with psycopg.connect(self._with_name("postgres"), autocommit=True) as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        return row is not None

    def template_exists(self) -> bool:
        if self.sqlite:
            return Path(self.template()[len("sqlite:///") :]).exists()
        return self.exists("bench_template")

    def copy(self, source: str, target: str) -> None:
        """PostgreSQL: `target` made anew as a copy of database `source` (no one connected)."""
        self._admin(f"DROP DATABASE IF EXISTS {target}")
        self._admin(f"CREATE DATABASE {target} TEMPLATE {source}")

    def fresh(self, index: int) -> str:
        if self.sqlite:
            target = Path(self.parts.path[1:])
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.template()[len("sqlite:///") :], target)
            return self.url
        name = f"bench_run_{index}"
        self.copy("bench_template", name)
        return self._with_name(name)

    def prepare(self, customers_csv: Path, env: dict[str, str]) -> None:
        if self.sqlite:
            Path(self.template()[len("sqlite:///") :]).unlink(missing_ok=True)
        else:
            self._admin("DROP DATABASE IF EXISTS bench_template")
            self._admin("CREATE DATABASE bench_template")
        command = [sys.executable, "-m", "benchmarks.prepare", str(customers_csv)]
        subprocess.run(command, env={**env, "DATABASE_URL": self.template()}, check=True)

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self._with_name("postgres"), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[call-overload]  # names are ours, not input


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dunwell-bench"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    customers_csv = args.workdir / "customers.csv"
    invoices_csv = args.workdir / f"invoices-{args.invoices}.csv"
    accounts = write_customers(customers_csv, CUSTOMERS)
    if not invoices_csv.exists():
        print(f"writing {invoices_csv} ...", flush=True)
        write_invoices(invoices_csv, accounts, args.invoices)

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dunwell.settings"}
    databases = Databases(args.database_url)
    print("preparing the database (migrate, company, 10,000 customers) ...", flush=True)
    databases.prepare(customers_csv, env)

    dunwell = str(Path(sys.executable).with_name("dunwell"))
    command = [dunwell, "import", "invoices", str(invoices_csv), "--company", "bench"]
    command += ["--format", "json", "--brief"]
    times, peaks, trees = [], [], []
    url = args.database_url
    for index in range(args.runs):
        url = databases.fresh(index)
        elapsed, peak, tree, out = timed(command, {**env, "DATABASE_URL": url})
        counts = json.loads(out)["counts"]
        if counts["created"] != args.invoices or not json.loads(out)["applied"]:
            raise SystemExit(f"run {index + 1}: expected {args.invoices} created, got {counts}")
        times.append(elapsed)
        peaks.append(peak)
        trees.append(tree)
        print(
            f"run {index + 1}: {elapsed:.2f} s, peak {peak} MB (with workers {tree} MB)", flush=True
        )
    again, again_peak, _, out = timed(command, {**env, "DATABASE_URL": url})
    counts = json.loads(out)["counts"]
    if counts["unchanged"] != args.invoices:
        raise SystemExit(f"re-import: expected {args.invoices} unchanged, got {counts}")
    print(f"re-import of the same file: {again:.2f} s, all unchanged, peak {again_peak} MB")

    result: dict[str, Any] = {
        "benchmark": "import invoices from CSV",
        "command": " ".join(command[1:]),
        "database": "sqlite" if databases.sqlite else "postgresql",
        "invoices": args.invoices,
        "file_mb": round(invoices_csv.stat().st_size / 2**20, 1),
        "runs": args.runs,
        "seconds": {
            "median": round(statistics.median(times), 2),
            "min": round(min(times), 2),
            "max": round(max(times), 2),
        },
        "rows_per_second": round(args.invoices / statistics.median(times)),
        "peak_mb": max(peaks),
        "peak_with_workers_mb": max(trees),
        "reimport_unchanged_seconds": round(again, 2),
        "machine": describe(),
    }
    print(json.dumps(result["seconds"]), f"median {result['rows_per_second']} rows/s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
