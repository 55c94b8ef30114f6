"""The KPI benchmark: 24 months of monthly KPIs over 10^6 invoices, on SQLite or PostgreSQL.

    python -m benchmarks.kpi_bench --database-url URL [--invoices 1000000] [--runs 7] [--json OUT]

Uses the aging benchmark's ledger (`benchmarks.aging_data`: one company, 10,000 customers,
10^6 invoices over 2023-2025, ~10^6 payments and allocations), building it in another process
when the database does not have it yet. Then times, in this process, `reports.kpi.kpi_report`
for 2024-01..2025-12 for the whole company (median of runs after a warm-up, peak memory of the
timing phase), once per customer for comparison, and `dunwell kpi --format json` end to end
(wall time and peak RSS of the command, `os.wait4`). Checks the report against independent
recomputations: month-end balances by the as-of aging and by Python over every row, monthly sales
and cash by plain SQL sums, and the command's output against the in-process report.

Target (issue 7): KPIs for 24 months over 10^6 invoices <= 2 s. A missed target or a wrong
figure exits with status 1 (the figures are written first).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

FIRST, LAST = date(2024, 1, 1), date(2025, 12, 1)
CHECKED_ENDS = (date(2024, 6, 30), date(2025, 12, 31))
TARGET_SECONDS = 2.0
TARGET_PEAK_MB = 1.5 * 1024


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kpi_bench", description=__doc__)
    parser.add_argument("--database-url", required=True, help="sqlite:////path or postgres://…")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of the company's KPIs")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    return parser.parse_args(argv)


def _plain(sql: str, params: list[Any]) -> dict[str, int]:
    """{"YYYY-MM": sum} of a query returning (day, amount) rows, summed by month in Python."""
    from django.db import connection

    sums: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for day, amount in cursor.fetchall():
            month = str(day)[:7]
            sums[month] = sums.get(month, 0) + int(amount)
    return sums


def check(company: Any, report: Any) -> dict[str, Any]:
    """The report against recomputations that share none of its scans."""
    from benchmarks import aging_measure
    from dunwell.reports.aging import aging

    [series] = report.series
    months = {f"{m.first:%Y-%m}": m for m in series.months}
    mismatches: list[str] = []
    for day in CHECKED_ENDS:
        ending = months[f"{day:%Y-%m}"].ending
        by_aging = aging(company, day, (90,), with_names=False).totals[series.currency].buckets
        cells = aging_measure.recompute(company.pk, day, (90,))
        python = [sum(v for (_, _, b), v in cells.items() if b == n) for n in range(3)]
        for name, buckets in (("aging", by_aging), ("python", python)):
            got = (ending.total, ending.current, ending.over_90)
            want = (sum(buckets), buckets[0], buckets[2])
            if got != want:
                mismatches.append(f"{day} {name}: {got} != {want}")
    sales = _plain(
        "SELECT issued_on, SUM(amount_minor) FROM ledger_openitem WHERE company_id = %s "
        "AND kind <> 'refund' AND voided_on IS NULL GROUP BY issued_on",
        [company.pk],
    )
    cash = _plain(
        "SELECT effective_on, SUM(amount_minor) FROM ledger_allocation WHERE company_id = %s "
        "AND kind = 'payment' GROUP BY effective_on",
        [company.pk],
    )
    for key, m in months.items():
        if (m.credit_sales, m.cash_collected) != (sales.get(key, 0), cash.get(key, 0)):
            mismatches.append(f"{key}: sales/cash {m.credit_sales}/{m.cash_collected} != "
                              f"{sales.get(key, 0)}/{cash.get(key, 0)}")  # fmt: skip
    return {"checked_month_ends": [d.isoformat() for d in CHECKED_ENDS], "months": len(months),
            "ok": not mismatches, "mismatches": mismatches[:20]}  # fmt: skip


def end_to_end(company: str, runs: int) -> dict[str, Any]:
    """`dunwell kpi --format json` as a subprocess: wall time, peak RSS, its period row."""
    from benchmarks.aging_measure import LAUNCHER, Timing

    command = [
        str(Path(sys.executable).with_name("dunwell")), "kpi", "--company", company,
        "--from", f"{FIRST:%Y-%m}", "--to", f"{LAST:%Y-%m}", "--format", "json",
    ]  # fmt: skip
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "dunwell.settings"}
    wall, peaks, period = Timing(), [], {}
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "kpi.json"
        for run in range(runs + 1):
            launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(output), *command]
            done = subprocess.run(launcher, env=env, capture_output=True, check=False)
            if done.returncode or b'"exit": 0' not in done.stdout:
                raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode()}")
            result = json.loads(done.stdout)
            if run:  # the first is the warm-up
                wall.samples.append(result["seconds"])
                peaks.append(result["maxrss_kb"])
            period = json.loads(output.read_bytes())["series"][0]["period"]
    return wall.as_dict() | {
        "peak_rss_mb_max": round(max(peaks) / 1024, 1),
        "peak_rss_mb_runs": [round(kb / 1024, 1) for kb in peaks],
        "period": period,
    }


def measure(company: Any, runs: int) -> dict[str, Any]:
    from benchmarks import aging_measure as m
    from dunwell.reports.kpi import kpi_report
    from dunwell.reports.management.commands.kpi import kpi_row

    results: dict[str, Any] = {}
    reports: dict[str, Any] = {}

    def company_kpis() -> None:
        reports["company"] = kpi_report(company, FIRST, LAST)

    reset = m.reset_peak_memory()
    results["kpi_company_24_months"] = m.timed(company_kpis, runs).as_dict()
    results["process_peak_rss_mb"] = round(m.peak_memory_kb() / 1024, 1)
    results["process_peak_rss_scope"] = "timing phase" if reset else "whole process"
    results["process_rss_now_mb"] = m.rss_split_mb()
    started = time.perf_counter()
    by_customer = kpi_report(company, FIRST, LAST, "customer")
    results["kpi_per_customer_24_months_s"] = round(time.perf_counter() - started, 3)
    results["customer_series"] = len(by_customer.series)
    results["end_to_end"] = end_to_end(company.code, max(1, min(runs, 3)))
    results["lifetime_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    [series] = reports["company"].series
    correctness = check(company, reports["company"])
    in_process = kpi_row(series.period, series.currency)
    from_cli = {k: v for k, v in results["end_to_end"]["period"].items() if k != "cei_variants"}
    correctness["cli_matches"] = in_process == from_cli
    correctness["ok"] = correctness["ok"] and correctness["cli_matches"]
    results["correctness"] = correctness
    results["period"] = in_process
    results["targets"] = {
        f"company KPIs, 24 months <= {TARGET_SECONDS} s": results["kpi_company_24_months"][
            "median_s"
        ]
        <= TARGET_SECONDS,
        "end-to-end peak <= 1.5 GB": results["end_to_end"]["peak_rss_mb_max"] <= TARGET_PEAK_MB,
        "process peak <= 1.5 GB": results["process_peak_rss_mb"] <= TARGET_PEAK_MB,
        "correct to the cent": bool(correctness["ok"]),
    }
    return results


def table(summary: dict[str, Any]) -> str:
    r = summary["results"]
    timing, e2e = r["kpi_company_24_months"], r["end_to_end"]
    lines = [
        f"KPIs {FIRST:%Y-%m}..{LAST:%Y-%m} on {summary['database']['vendor']} "
        f"{summary['database'].get('version', '')}: {summary['database']['rows']}",
        f"  kpi_report, whole company      median {timing['median_s']:.3f} s "
        f"(min {timing['min_s']:.3f}, max {timing['max_s']:.3f}, {summary['runs']} runs)",
        f"  kpi_report, per customer       {r['kpi_per_customer_24_months_s']:.3f} s "
        f"({r['customer_series']} series, one run, for comparison)",
        f"  dunwell kpi --format json      median {e2e['median_s']:.3f} s, "
        f"peak {e2e['peak_rss_mb_max']} MB",
        f"  peak memory of the timing      {r['process_peak_rss_mb']} MB "
        f"({r['process_peak_rss_scope']}; now {r['process_rss_now_mb']})",
        f"  period DSO {r['period']['dso']}, countback {r['period']['dso_countback']}, "
        f"CEI {r['period']['cei']} ({r['period']['cei_variant']}), DBT {r['period']['dbt']}",
        f"  correctness                    {'ok' if r['correctness']['ok'] else 'WRONG'} "
        f"{r['correctness']['mismatches']}",
    ]
    lines += [f"  target {name}: {'met' if ok else 'MISSED'}" for name, ok in r["targets"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from benchmarks.aging_bench import setup_django, summary_of, the_ledger

    started = time.perf_counter()
    setup_django(args.database_url)
    company, build = the_ledger(args.database_url, args.invoices, args.seed)
    print(f"timing {args.runs} runs...", flush=True)
    summary = summary_of("KPIs, 24 months", args, company, build, measure(company, args.runs),
                         started)  # fmt: skip
    print(table(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    return 0 if all(summary["results"]["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
