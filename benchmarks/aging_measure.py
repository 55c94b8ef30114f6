"""Timing the as-of aging against a bare scan of the same rows, in one process and end to end.

Imported by `benchmarks.aging_bench` after Django is set up. Every figure is the median (with
min and max) of `runs` timed calls after one warm-up call; peak memory is the high-water mark of
resident memory, of this process while it times (reset after the build) and of each `dunwell
aging` subprocess (from `os.wait4`).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from dunwell.core.models import Company
from dunwell.reports.aging import DEFAULT_BOUNDS, AgingReport, aging

BACK_DATED = date(2024, 6, 30)
LATEST = date(2025, 12, 31)
TARGET_SECONDS = 0.5
TARGET_RATIO = 3.0
TARGET_E2E_SECONDS = 2.0
TARGET_PEAK_KB = 1.5 * 1024 * 1024

BARE_ITEMS = "SELECT SUM(amount_minor) FROM ledger_openitem WHERE company_id = %s"
BARE_ALLOCATIONS = "SELECT SUM(amount_minor) FROM ledger_allocation WHERE company_id = %s"
# The plain way to age a ledger: each item less its allocations effective by D, grouped.
JOIN_AND_GROUP = """
    SELECT i.customer_id, i.currency, {case} AS bucket, SUM(i.amount_minor - COALESCE(a.paid, 0))
    FROM ledger_openitem i
    LEFT JOIN (SELECT target_id, SUM(amount_minor) AS paid FROM ledger_allocation
               WHERE company_id = %s AND effective_on <= %s GROUP BY target_id) a
           ON a.target_id = i.id
    WHERE i.company_id = %s AND i.issued_on <= %s
    GROUP BY i.customer_id, i.currency, bucket"""

Cells = dict[tuple[int, str, int], int]


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def as_dict(self) -> dict[str, Any]:
        return {
            "median_s": round(self.median, 5),
            "min_s": round(min(self.samples), 5),
            "max_s": round(max(self.samples), 5),
            "runs": [round(s, 5) for s in self.samples],
        }


def timed(action: Callable[[], object], runs: int, *, warmups: int = 1) -> Timing:
    for _ in range(warmups):
        action()
    timing = Timing()
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timing.samples.append(time.perf_counter() - started)
    return timing


def _scalar(sql: str, params: Sequence[Any]) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def bare_scans(company_id: int, runs: int) -> tuple[Timing, Timing, Timing]:
    """(items, allocations, their sum per run): SELECT SUM over each table."""
    items, allocations, both = Timing(), Timing(), Timing()
    for run in range(runs + 1):
        started = time.perf_counter()
        _scalar(BARE_ITEMS, [company_id])
        middle = time.perf_counter()
        _scalar(BARE_ALLOCATIONS, [company_id])
        ended = time.perf_counter()
        if run:  # the first is the warm-up
            items.samples.append(middle - started)
            allocations.samples.append(ended - middle)
            both.samples.append(ended - started)
    return items, allocations, both


def bucket_of(due_on: date, as_of: date, bounds: Sequence[int]) -> int:
    """The bucket index `reports.aging` gives a due date: 0 when not past due."""
    late = (as_of - due_on).days
    if late <= 0:
        return 0
    for index, bound in enumerate(bounds, start=1):
        if late <= bound:
            return index
    return len(bounds) + 1


def _case(column: str, as_of: date, bounds: Sequence[int]) -> tuple[str, list[date]]:
    sql = [f"CASE WHEN {column} >= %s THEN 0"]
    params = [as_of]
    for index, bound in enumerate(bounds, start=1):
        sql.append(f"WHEN {column} >= %s THEN {index}")
        params.append(as_of - timedelta(days=bound))
    sql.append(f"ELSE {len(bounds) + 1} END")
    return " ".join(sql), params


def join_and_group(company_id: int, as_of: date, bounds: Sequence[int]) -> Cells:
    case, params = _case("i.due_on", as_of, bounds)
    with connection.cursor() as cursor:
        cursor.execute(
            JOIN_AND_GROUP.format(case=case), [*params, company_id, as_of, company_id, as_of]
        )
        return {(c, cur, b): int(a) for c, cur, b, a in cursor.fetchall() if a}


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _stream(sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(50_000):
            yield from chunk


def recompute(company_id: int, as_of: date, bounds: Sequence[int]) -> Cells:
    """The aging the long way, in Python: every item issued by D less its allocations by D."""
    paid: dict[int, int] = defaultdict(int)
    for target_id, amount in _stream(
        "SELECT target_id, amount_minor FROM ledger_allocation "
        "WHERE company_id = %s AND effective_on <= %s",
        [company_id, as_of],
    ):
        paid[target_id] += amount
    cells: Cells = defaultdict(int)
    for item_id, customer_id, currency, due_on, amount in _stream(
        "SELECT id, customer_id, currency, due_on, amount_minor FROM ledger_openitem "
        "WHERE company_id = %s AND issued_on <= %s",
        [company_id, as_of],
    ):
        open_minor = amount - paid.get(item_id, 0)
        if open_minor:
            cells[customer_id, currency, bucket_of(_as_date(due_on), as_of, bounds)] += open_minor
    return {key: value for key, value in cells.items() if value}


def report_cells(report: AgingReport) -> Cells:
    return {
        (row.customer_id, row.currency, index): amount
        for row in report.rows
        for index, amount in enumerate(row.buckets)
        if amount
    }


def _difference(left: Cells, right: Cells) -> list[str]:
    keys = sorted(set(left) | set(right))
    return [f"{k}: {left.get(k, 0)} != {right.get(k, 0)}" for k in keys if left.get(k) != right.get(k)]  # fmt: skip


def check(company: Company, as_of: date, report: AgingReport) -> dict[str, Any]:
    """The report's cells equal the Python recomputation and the join query, to the cent."""
    bounds = report.bounds
    cells = report_cells(report)
    python = recompute(company.pk, as_of, bounds)
    joined = join_and_group(company.pk, as_of, bounds)
    mismatches = _difference(cells, python) + _difference(cells, joined)
    unapplied = sum(row.unapplied_minor for row in report.rows)
    return {
        "as_of": as_of.isoformat(),
        "cells": len(cells),
        "customers": len(report.rows),
        "total_minor": sum(cells.values()),
        "python_total_minor": sum(python.values()),
        "unapplied_minor": unapplied,
        "ok": not mismatches,
        "mismatches": mismatches[:20],
    }


# Runs one command and reports its wall time and peak RSS. It sits between this process and the
# command because a child started from this process by vfork (subprocess.Popen) or fork would
# inherit this process's high-water mark in its ru_maxrss: Linux keeps the larger of the memory
# it replaces at exec. The launcher is small, so the figure is the command's own peak.
LAUNCHER = """
import json, os, subprocess, sys, time
with open(sys.argv[1], "wb") as out:
    started = time.perf_counter()
    child = subprocess.Popen(sys.argv[2:], stdout=out)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "exit": os.waitstatus_to_exitcode(status),
                  "maxrss_kb": usage.ru_maxrss}))
"""


@dataclass
class EndToEnd:
    wall: Timing
    peak_kb: list[int]
    totals: list[dict[str, Any]]


def end_to_end(as_of: date, runs: int, company: str) -> EndToEnd:
    """`dunwell aging --format json` as a subprocess: wall time and peak RSS (os.wait4)."""
    command = [
        str(Path(sys.executable).with_name("dunwell")),
        "aging", "--company", company, "--as-of", as_of.isoformat(), "--format", "json",
    ]  # fmt: skip
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "dunwell.settings"}
    wall, peaks, totals = Timing(), [], []
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "aging.json"
        for run in range(runs + 1):
            launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(output), *command]
            done = subprocess.run(launcher, env=env, capture_output=True, check=False)
            if done.returncode or b'"exit": 0' not in done.stdout:
                raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode()}")
            result = json.loads(done.stdout)
            if run:  # the first is the warm-up
                wall.samples.append(result["seconds"])
                peaks.append(result["maxrss_kb"])
            totals = json.loads(output.read_bytes())["totals"]
    return EndToEnd(wall, peaks, totals)


def reset_peak_memory() -> bool:
    """Reset this process's resident high-water mark (Linux: /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_memory_kb() -> int:
    """The resident high-water mark since the last reset (VmHWM), else since the start."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_split_mb() -> dict[str, float]:
    """This process's resident memory now: anonymous (its own) and file-backed (mapped files)."""
    split: dict[str, float] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("RssAnon:", "RssFile:")):
                split[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return split


def machine() -> dict[str, Any]:
    model = ""
    memory_kb = 0
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, StopIteration, ValueError, IndexError):
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
    }


def database(company_id: int) -> dict[str, Any]:
    info: dict[str, Any] = {"vendor": connection.vendor}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            info["version"] = cursor.fetchone()[0]
            cursor.execute(
                "SELECT relname, pg_relation_size(oid) FROM pg_class "
                "WHERE relname IN ('ledger_openitem', 'ledger_allocation', "
                "'item_aging_cover', 'allocation_aging_cover')"
            )
            info["relation_mb"] = {name: round(size / 2**20, 1) for name, size in cursor}
            cursor.execute("SELECT pg_database_size(current_database())")
            info["size_mb"] = round(cursor.fetchone()[0] / 2**20, 1)
        else:
            cursor.execute("SELECT sqlite_version()")
            info["version"] = cursor.fetchone()[0]
            name = Path(str(settings.DATABASES["default"]["NAME"]))
            info["size_mb"] = round(name.stat().st_size / 2**20, 1) if name.exists() else None
        counts = {}
        for table in ("ledger_customer", "ledger_openitem", "ledger_payment", "ledger_allocation"):
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE company_id = %s", [company_id])
            counts[table.removeprefix("ledger_")] = cursor.fetchone()[0]
    info["rows"] = counts
    return info


def _amount(minor: int) -> str:
    return str(Decimal(minor).scaleb(-2))


def measure(company: Company, runs: int) -> dict[str, Any]:
    """Every figure of the benchmark, as a JSON-ready dict."""
    bounds = DEFAULT_BOUNDS
    results: dict[str, Any] = {}
    reset = reset_peak_memory()
    reports: dict[date, AgingReport] = {}
    for as_of in (BACK_DATED, LATEST):

        def run_aging(on: date = as_of) -> None:
            reports[on] = aging(company, on)

        results[f"aging_{as_of.isoformat()}"] = timed(run_aging, runs).as_dict()
    items, allocations, both = bare_scans(company.pk, runs)
    results["bare_scan_items"] = items.as_dict()
    results["bare_scan_allocations"] = allocations.as_dict()
    results["bare_scan"] = both.as_dict()
    for as_of in (BACK_DATED, LATEST):
        median = results[f"aging_{as_of.isoformat()}"]["median_s"]
        results[f"ratio_{as_of.isoformat()}"] = round(median / both.median, 2)
    join = timed(lambda: join_and_group(company.pk, BACK_DATED, bounds), 3, warmups=0)
    results["join_and_group_2024-06-30"] = join.as_dict()
    results["join_and_group_ratio"] = round(join.median / both.median, 2)
    results["process_peak_rss_mb"] = round(peak_memory_kb() / 1024, 1)
    results["process_peak_rss_scope"] = "timing phase" if reset else "whole process"
    # Most of a SQLite peak is the database file mapped into memory (mmap_size), shared and
    # reclaimable page cache that RSS counts: the split shows how much is the process's own.
    results["process_rss_now_mb"] = rss_split_mb()
    e2e = end_to_end(BACK_DATED, runs, company.code)
    results["end_to_end_2024-06-30"] = e2e.wall.as_dict() | {
        "peak_rss_mb_max": round(max(e2e.peak_kb) / 1024, 1),
        "peak_rss_mb_runs": [round(kb / 1024, 1) for kb in e2e.peak_kb],
    }
    results["lifetime_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    report = reports[BACK_DATED]
    correctness = check(company, BACK_DATED, report)
    in_process = {c: _amount(t.total_minor) for c, t in report.totals.items()}
    from_cli = {t["currency"]: t["total"] for t in e2e.totals}
    correctness["cli_totals_match"] = in_process == from_cli
    correctness["ok"] = correctness["ok"] and correctness["cli_totals_match"]
    results["correctness"] = correctness
    results["open_customers"] = {d.isoformat(): len(r.rows) for d, r in reports.items()}
    results["targets"] = targets(results)
    return results


def targets(results: dict[str, Any]) -> dict[str, bool]:
    back, latest = BACK_DATED.isoformat(), LATEST.isoformat()
    peak_mb = TARGET_PEAK_KB / 1024
    return {
        f"aging {back} <= {TARGET_SECONDS} s": results[f"aging_{back}"]["median_s"]
        <= TARGET_SECONDS,
        f"aging {latest} <= {TARGET_SECONDS} s": results[f"aging_{latest}"]["median_s"]
        <= TARGET_SECONDS,
        f"ratio {back} <= {TARGET_RATIO}": results[f"ratio_{back}"] <= TARGET_RATIO,
        f"ratio {latest} <= {TARGET_RATIO}": results[f"ratio_{latest}"] <= TARGET_RATIO,
        f"end to end <= {TARGET_E2E_SECONDS} s": results[f"end_to_end_{back}"]["median_s"]
        <= TARGET_E2E_SECONDS,
        "end-to-end peak <= 1.5 GB": results[f"end_to_end_{back}"]["peak_rss_mb_max"] <= peak_mb,
        "process peak <= 1.5 GB": results["process_peak_rss_mb"] <= peak_mb,
        "correct to the cent": bool(results["correctness"]["ok"]),
    }


def table(summary: dict[str, Any]) -> str:
    """The human-readable summary."""
    r = summary["results"]
    db = summary["database"]
    lines = [
        f"As-of aging benchmark: {db['vendor']} {db['version']}, rows {db['rows']}",
        f"machine: {summary['machine']['cpu_model']} x{summary['machine']['cpu_count']}, "
        f"{summary['machine']['platform']}",
        "",
        f"{'measure':<40} {'median':>9} {'min':>9} {'max':>9}",
    ]
    for key in (
        f"aging_{BACK_DATED.isoformat()}",
        f"aging_{LATEST.isoformat()}",
        "bare_scan_items",
        "bare_scan_allocations",
        "bare_scan",
        f"join_and_group_{BACK_DATED.isoformat()}",
        f"end_to_end_{BACK_DATED.isoformat()}",
    ):
        t = r[key]
        lines.append(f"{key:<40} {t['median_s']:>8.3f}s {t['min_s']:>8.3f}s {t['max_s']:>8.3f}s")
    lines += [
        "",
        f"ratio aging/bare scan {BACK_DATED}: {r[f'ratio_{BACK_DATED.isoformat()}']}x, "
        f"{LATEST}: {r[f'ratio_{LATEST.isoformat()}']}x; "
        f"join-and-group/bare scan: {r['join_and_group_ratio']}x",
        f"peak RSS: this process ({r['process_peak_rss_scope']}) {r['process_peak_rss_mb']} MB "
        f"(now {r['process_rss_now_mb']}), "
        f"dunwell aging subprocess {r[f'end_to_end_{BACK_DATED.isoformat()}']['peak_rss_mb_max']} MB",
        f"correctness at {BACK_DATED}: {'OK' if r['correctness']['ok'] else 'MISMATCH'} "
        f"({r['correctness']['cells']} cells, total {_amount(r['correctness']['total_minor'])} EUR)",
        "",
    ]
    lines += [f"  {'met ' if ok else 'MISS'}  {name}" for name, ok in r["targets"].items()]
    return "\n".join(lines)
