"""The payment-date prediction benchmark: train on a million paid invoices, score every open one.

    python -m benchmarks.predict_bench --database-url URL [--invoices 1000000] [--runs 3] [--json OUT]

Uses the aging benchmark's ledger (`benchmarks.aging_data`: one company, 10,000 customers,
invoices over 2023-2025, ~95 % paid in full by one payment each, the rest in part or not at all),
built with enough invoices that at least --invoices of them are paid (x 1.06), unless the
database has the company already (then it is used as it is and the figures say how many rows
there were). Times in this process, each the median of --runs:

- training: `credit.prediction.train` as of 2026-06-30 (every paid invoice of the ledger is a
  training row): the five queries, the features, the three LightGBM models on 2 threads, the
  in-sample figures, the stored model;
- scoring: `credit.prediction.score` as of 2025-12-31 (the last day of issue: the most open
  invoices) with that model, replacing the predictions in one transaction.

Targets (issue 7): training <= 60 s on 2 cores, scoring <= 20 s. The peak is the resident
high-water mark of this process; on SQLite most of it is the database file mapped by SQLite
(`mmap_size`), which the resident split after each phase shows apart. A missed target exits with status 1 (the figures are written
first).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

TRAIN_AS_OF = date(2026, 6, 30)
SCORE_AS_OF = date(2025, 12, 31)
TARGETS = {"train_seconds": 60.0, "score_seconds": 20.0}
PAID_SHARE = 1.06  # invoices built per paid invoice wanted (about 95 % are paid in full)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.predict_bench", description=__doc__)
    parser.add_argument("--database-url", required=True, help="sqlite:////path or postgres://…")
    parser.add_argument("--invoices", type=int, default=1_000_000, help="paid invoices wanted")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each phase")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    return parser.parse_args(argv)


def _timed(action, runs: int, loads: list[float]) -> tuple[list[float], object]:
    """Seconds of each run and the last result; `loads` gets the 1-minute load average after
    each run (other work on the machine slows LightGBM's two threads a great deal)."""
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        seconds.append(round(time.perf_counter() - started, 2))
        loads.append(round(os.getloadavg()[0], 2))
        print(f"  {seconds[-1]} s (load average {loads[-1]})", flush=True)
    return seconds, result


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from benchmarks.aging_bench import setup_django, summary_of, the_ledger

    started = time.perf_counter()
    setup_django(args.database_url)
    from benchmarks import aging_measure
    from dunwell.credit import prediction
    from dunwell.credit.models import PaymentPrediction

    company, build = the_ledger(args.database_url, round(args.invoices * PAID_SHARE), args.seed)
    at = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)

    print(f"training {args.runs} times as of {TRAIN_AS_OF}...", flush=True)
    train_loads: list[float] = []
    train_seconds, model = _timed(
        lambda: prediction.train(company=company, as_of=TRAIN_AS_OF, at=at), args.runs, train_loads
    )
    train_peak_mb = round(aging_measure.peak_memory_kb() / 1024, 1)
    train_rss = aging_measure.rss_split_mb()
    print(f"scoring {args.runs} times as of {SCORE_AS_OF}...", flush=True)
    score_loads: list[float] = []
    score_seconds, scored = _timed(
        lambda: prediction.score(company=company, as_of=SCORE_AS_OF, at=at, model=model),
        args.runs,
        score_loads,
    )
    stored = PaymentPrediction.objects.filter(company=company).count()
    results = {
        "training_rows": model.rows,
        "train_seconds": statistics.median(train_seconds),
        "train_runs": train_seconds,
        "train_load_averages": train_loads,
        "train_metrics": model.metrics,
        "train_calibration": model.params.get("calibration"),
        "model_text_mb": round(
            sum(len(t) for t in (model.point_model, model.low_model, model.high_model)) / 2**20, 1
        ),
        "scored_rows": scored.rows,
        "stored_predictions": stored,
        "score_seconds": statistics.median(score_seconds),
        "score_runs": score_seconds,
        "score_load_averages": score_loads,
        "peak_memory_mb_after_training": train_peak_mb,
        "peak_memory_mb": round(aging_measure.peak_memory_kb() / 1024, 1),
        # resident now, split: the process's own memory, and the database file SQLite maps
        # (mmap_size in settings: page cache, shared and reclaimable)
        "rss_mb_after_training": train_rss,
        "rss_mb_after_scoring": aging_measure.rss_split_mb(),
    }
    results["targets"] = {name: results[name] <= limit for name, limit in TARGETS.items()}
    summary = summary_of("payment-date prediction", args, company, build, results, started)
    for name, value in results.items():
        print(f"  {name:<32} {value}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    return 0 if all(results["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
