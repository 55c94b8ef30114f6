"""Dunwell under a constant load, served by gunicorn (issue 6: at 20 requests/s the customer page
with 1,000 invoices, paged, and the worklist answer p95 ≤ 150 ms).

    python -m benchmarks.load_bench [--database-url sqlite:////tmp/dunwell-bench-load.sqlite3]
        [--rate 20] [--duration 30] [--warmup 5] [--workers 3] [--connections 16] [--reuse]
        [--json OUT]

1. The data: the demo company (`dunwell demo build`, as pages_bench: on SQLite a fresh file unless
   `--reuse` finds one; on PostgreSQL into the empty database of scripts/with-postgres, or the
   demo already there)
   and one customer more, LOAD-1000, with 1,000 open invoices imported as an accounting system
   sends them (`dunwell import customers|invoices`: set-based, and idempotent on a reused one).
2. The server: `gunicorn dunwell.wsgi` on a free loopback port as production runs it: DEBUG off,
   a SECRET_KEY of its own in the environment, ALLOWED_HOSTS the address, static files from
   WhiteNoise, persistent database connections (DB_CONN_MAX_AGE, `--conn-max-age`). Sync
   workers, three by default on two cores: a page is CPU-bound Python (ORM, templates) that
   threads would only take turns at under the GIL, so a worker a core, plus one to fill the time
   a worker waits on the database or the socket; more would queue for the same two cores.
3. The user: the demo's collector signs in over HTTP with the login form's CSRF token and the
   demo password (a collector has no second factor: not an administrator, no device; checked).
4. The load, open loop as wrk2 runs it: request i is due at start + i / rate whatever the
   answers, handed at that moment to one of `--connections` client threads, and its latency is
   counted from when it was due, not from when a free thread sent it, so a slow answer cannot
   hide the requests that waited behind it (coordinated omission). The first `--warmup` seconds
   are not counted. The mix, repeated every 10 requests: the 1,000-invoice customer's page 1
   three times, one of its other pages twice (2, 7, 13, 20, and page 5 sorted by open amount),
   the worklist three times, the overview and the customer list once each.
5. Every answer must be a 200 with the page's own marker (a sign-in page or an error page is not
   the worklist); any other answer, or none in `--timeout` seconds, is an error and fails the run.
   Reported per page: count, median, p95, p99 (nearest rank), max in ms; the rate achieved;
   errors. gunicorn is stopped at the end, also when something failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import queue
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from benchmarks.generate import write_invoices
from benchmarks.machine import describe

TARGET_MS = 150
HOST = "127.0.0.1"
ACCOUNT = "LOAD-1000"
LEGAL_NAME = "Load Test Buyer GmbH"
INVOICES = 1_000
OTHER_PAGES = (("page=2", 2), ("page=7", 7), ("page=13", 13), ("page=20", 20),
               ("sort=-open&page=5", 5))  # fmt: skip
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class Target:
    name: str  # the row of the report
    path: str
    markers: tuple[bytes, ...]
    targeted: bool  # one of the pages (p95 ≤ 150 ms), not only reported


@dataclass(frozen=True)
class Sample:
    name: str
    due: float
    sent: float
    done: float
    error: str


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/dunwell-bench-load.sqlite3")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds at the rate, uncounted")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=16, help="client threads")
    parser.add_argument("--conn-max-age", type=int, default=60, help="DB_CONN_MAX_AGE, seconds")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds for one answer")
    parser.add_argument("--reuse", action="store_true", help="keep a demo already built")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.rate <= 0 or args.duration <= 0 or args.warmup < 0:
        parser.error("--rate and --duration must be above 0, --warmup 0 or more")

    load_before = os.getloadavg()  # the machine's other work: the figures are only as good
    env = {**os.environ, "DATABASE_URL": args.database_url,
           "DJANGO_SETTINGS_MODULE": "dunwell.settings"}  # fmt: skip
    prepare(args.database_url, env, reuse=args.reuse)
    customer_id = check_collector(args.database_url)
    plan = mix(customer_id)
    serving = {**env, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50),
               "ALLOWED_HOSTS": HOST, "DB_CONN_MAX_AGE": str(args.conn_max_age)}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="dunwell-load-") as folder:
        log = Path(folder) / "gunicorn.log"
        try:
            with gunicorn(serving, args.workers, log) as port:
                cookie = sign_in(port, "collector")
                preflight(port, cookie, plan, args.timeout)
                print(f"load: {args.rate:g} requests/s for {args.warmup:g} s warm-up + "
                      f"{args.duration:g} s, {args.connections} connections, "
                      f"{args.workers} gunicorn workers", flush=True)  # fmt: skip
                samples, started = run_load(port, cookie, plan, args)
        except Exception:
            print(f"gunicorn's log ({log}):\n{log.read_text()[-4000:]}", file=sys.stderr)
            raise
    report = summarise(samples, started + args.warmup, plan, args)
    report["load_average_before"] = load_before
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0 if report["met"] and not report["errors"] else 1


# -- 1. the data ----------------------------------------------------------------------------------


def prepare(url: str, env: dict[str, str], *, reuse: bool) -> None:
    """SQLite: a fresh file unless `reuse`; PostgreSQL: the demo already there (`make bench`'s
    pages benchmark builds it into the same database) or built into the empty one."""
    dunwell = str(Path(sys.executable).with_name("dunwell"))
    build = [dunwell, "demo", "build"]
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite") and not reuse:
        build.append("--fresh")
    else:
        subprocess.run([dunwell, "migrate", "--verbosity", "0"], env=env, check=True)
        build = [] if demo_exists(env) else build
    if build:
        print("building the demo company ...", flush=True)
        subprocess.run(build, env=env, check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(prefix="dunwell-load-") as folder:
        customers, invoices = Path(folder) / "customers.csv", Path(folder) / "invoices.csv"
        customers.write_text("account_number,name,currency,country,terms,city\n"
                             f"{ACCOUNT},{LEGAL_NAME},EUR,DE,net30,Hamburg\n")  # fmt: skip
        write_invoices(invoices, [ACCOUNT], INVOICES, seed=1000)
        for kind, path in (("customers", customers), ("invoices", invoices)):
            command = [dunwell, "import", kind, str(path), "--company", "northwind"]
            out = subprocess.run([*command, "--format", "json", "--brief"], env=env,
                                 check=True, capture_output=True, text=True).stdout  # fmt: skip
            result = json.loads(out)
            if not result["applied"]:
                raise SystemExit(f"importing the load customer's {kind} failed: {out[:2000]}")
    print(f"{ACCOUNT}: {INVOICES:,} invoices imported (or already there)", flush=True)


def demo_exists(env: dict[str, str]) -> bool:
    dunwell = str(Path(sys.executable).with_name("dunwell"))
    code = "from dunwell.core.models import Company; print(Company.objects.filter(code='northwind').exists())"
    out = subprocess.run([dunwell, "shell", "--no-imports", "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return out.strip() == "True"


def check_collector(url: str) -> int:
    """The load customer's id, once its 1,000 invoices are open; and that the demo's collector
    signs in with a password alone (no second factor to get past)."""
    os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "dunwell.settings"})
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connections

    from dunwell.core.services import two_factor
    from dunwell.ledger.models import Customer

    customer = Customer.objects.get(company__code="northwind", account_number=ACCOUNT)
    open_count = customer.items.filter(open_minor__gt=0).count()
    if open_count != INVOICES:
        raise SystemExit(f"{ACCOUNT} has {open_count} open invoices, expected {INVOICES}")
    if two_factor.needed(User.objects.get(username="collector")) != (False, False):
        raise SystemExit("the demo's collector has or needs a second factor: sign-in would stop")
    connections.close_all()  # SQLite: leave the file to the server's processes
    return customer.pk


def mix(customer_id: int) -> list[Target]:
    """The requests in order: five rounds of the mix of 10 (see the module docstring)."""
    base = f"/customers/{customer_id}/"
    first = Target("customer, page 1", base,
                   (LEGAL_NAME.encode(), b"Page 1 of 20 \xc2\xb7 1000 open items"), True)  # fmt: skip
    others = [
        Target(
            "customer, other pages",
            f"{base}?{query}",
            (LEGAL_NAME.encode(), f"Page {n} of 20 ·".encode()),
            True,
        )
        for query, n in OTHER_PAGES
    ]
    worklist = Target("worklist", "/worklist/", (b"<h1>Worklist</h1>",), True)
    overview = Target("overview", "/", (b"<h1>Overview</h1>",), False)
    customers = Target("customer list", "/customers/", (b"<h1>Customers</h1>",), False)
    cycle = []
    for n in range(len(others)):  # 5 cycles: each other page once, in 50 requests
        cycle += [first, worklist, others[n], first, worklist, overview, first, worklist,
                  others[(n + 2) % len(others)], customers]  # fmt: skip
    return cycle


# -- 2. the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], workers: int, log: Path) -> Iterator[int]:
    port = free_port()
    command = [str(Path(sys.executable).with_name("gunicorn")), "dunwell.wsgi",
               "--bind", f"{HOST}:{port}", "--workers", str(workers), "--worker-class", "sync",
               "--timeout", "60", "--graceful-timeout", "10", "--error-logfile", "-"]  # fmt: skip
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_up(server, port)
            print(f"gunicorn {server.pid} on {HOST}:{port}, {workers} sync workers", flush=True)
            yield port
        finally:
            server.terminate()  # SIGTERM: gunicorn's graceful stop
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_up(server: subprocess.Popen[bytes], port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped with exit code {server.returncode}")
        try:
            status, _, _ = request(port, "GET", "/login/", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {HOST}:{port} within {seconds:g} s")


# -- 3. the user ----------------------------------------------------------------------------------


def request(port: int, method: str, path: str, *, timeout: float, body: bytes | None = None,
            headers: dict[str, str] | None = None,
            connection: http.client.HTTPConnection | None = None,
            ) -> tuple[int, bytes, http.client.HTTPMessage]:  # fmt: skip
    conn = connection or http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), response.headers
    finally:
        if connection is None:
            conn.close()


def cookies_of(headers: http.client.HTTPMessage, jar: SimpleCookie) -> None:
    for value in headers.get_all("Set-Cookie") or []:
        jar.load(value)


def cookie_header(jar: SimpleCookie) -> str:
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


def sign_in(port: int, username: str) -> str:
    """The Cookie header of a session signed in through the login form, as a browser does."""
    from dunwell.demo.build import PASSWORD

    jar: SimpleCookie = SimpleCookie()
    status, body, headers = request(port, "GET", "/login/", timeout=10)
    token = CSRF.search(body)
    if status != 200 or token is None:
        raise RuntimeError(f"GET /login/: {status}, no CSRF token in the form")
    cookies_of(headers, jar)
    form = urlencode({"username": username, "password": PASSWORD, "next": "/",
                      "csrfmiddlewaretoken": token.group(1).decode()}).encode()  # fmt: skip
    status, _, headers = request(port, "POST", "/login/", timeout=30, body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_header(jar),
    })  # fmt: skip
    cookies_of(headers, jar)
    where = headers.get("Location", "")
    if status != 302 or "login" in where or "two-factor" in where or "sessionid" not in jar:
        raise RuntimeError(f"signing in as {username}: {status} to {where!r}")
    return cookie_header(jar)


def preflight(port: int, cookie: str, plan: list[Target], timeout: float) -> None:
    """Each page once, checked, before the clock starts; and a static file through WhiteNoise."""
    for target in {t.path: t for t in plan}.values():
        status, body, _ = request(port, "GET", target.path, timeout=timeout,
                                  headers={"Cookie": cookie})  # fmt: skip
        problem = check(status, body, target)
        if problem:
            raise RuntimeError(f"GET {target.path}: {problem}")
    status, body, _ = request(port, "GET", "/static/web/app.css", timeout=timeout)
    if status != 200 or not body:
        raise RuntimeError(f"GET /static/web/app.css: {status} (WhiteNoise with DEBUG off)")


def check(status: int, body: bytes, target: Target) -> str:
    if status != 200:
        return f"status {status}"
    missing = [m.decode() for m in target.markers if m not in body]
    return f"not the page: {missing} missing" if missing else ""


# -- 4. the load ----------------------------------------------------------------------------------


def run_load(port: int, cookie: str, plan: list[Target],
             args: argparse.Namespace) -> tuple[list[Sample], float]:  # fmt: skip
    """Open loop: request i is handed out at start + i / rate, whatever the answers so far."""
    total = math.ceil((args.warmup + args.duration) * args.rate)
    jobs: queue.SimpleQueue[tuple[float, Target] | None] = queue.SimpleQueue()
    samples: list[Sample] = []  # list.append is atomic under the GIL
    threads = [
        threading.Thread(
            target=client, args=(port, cookie, jobs, samples, args.timeout), daemon=True
        )
        for _ in range(args.connections)
    ]
    for thread in threads:
        thread.start()
    started = time.perf_counter() + 0.1
    for i in range(total):
        due = started + i / args.rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        jobs.put((due, plan[i % len(plan)]))
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join(timeout=args.timeout * total)
    return samples, started


def client(port: int, cookie: str, jobs: queue.SimpleQueue[tuple[float, Target] | None],
           samples: list[Sample], timeout: float) -> None:  # fmt: skip
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    while (job := jobs.get()) is not None:
        due, target = job
        sent = time.perf_counter()
        try:
            status, body, _ = request(port, "GET", target.path, timeout=timeout,
                                      headers={"Cookie": cookie}, connection=connection)  # fmt: skip
            error = check(status, body, target)
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
            connection.close()  # the next request opens a new one
        samples.append(Sample(target.name, due, sent, time.perf_counter(), error))
    connection.close()


# -- 5. the report --------------------------------------------------------------------------------


def nearest_rank(ordered: list[float], fraction: float) -> float:
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def figures(samples: list[Sample]) -> dict[str, Any]:
    ms = sorted((s.done - s.due) * 1000 for s in samples)
    return {
        "count": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(nearest_rank(ms, 0.95), 1),
        "p99_ms": round(nearest_rank(ms, 0.99), 1),
        "max_ms": round(ms[-1], 1),
        "errors": sum(1 for s in samples if s.error),
    }


def summarise(samples: list[Sample], counted_from: float, plan: list[Target],
              args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    measured = [s for s in samples if s.due >= counted_from]
    pages: dict[str, Any] = {}
    for target in plan:
        rows = [s for s in measured if s.name == target.name]
        if target.name not in pages and rows:
            paths = sorted({t.path for t in plan if t.name == target.name})
            pages[target.name] = {**figures(rows), "targeted": target.targeted, "paths": paths}
    last = max(s.done for s in measured)
    errors = [s for s in samples if s.error]
    met = all(p["p95_ms"] <= TARGET_MS for p in pages.values() if p["targeted"])
    vendor = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
    return {
        "benchmark": "load",
        "database": vendor,
        "rate_per_s": args.rate,
        "achieved_per_s": round(len(measured) / (last - counted_from), 2),
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "connections": args.connections,
        "gunicorn": {
            "workers": args.workers,
            "worker_class": "sync",
            "db_conn_max_age": args.conn_max_age,
        },
        "all": figures(measured),
        "pages": pages,
        "max_send_lag_ms": round(max((s.sent - s.due) * 1000 for s in measured), 1),
        "errors": len(errors),
        "first_errors": [f"{s.name}: {s.error}" for s in errors[:10]],
        "target_ms": TARGET_MS,
        "met": met,
        "machine": describe(),
        "load_average": os.getloadavg(),  # at the end, with this run's own
    }


def print_table(report: dict[str, Any]) -> None:
    print(f"{'page':24} {'count':>5} {'median':>8} {'p95':>8} {'p99':>8} {'max':>8} {'errors':>6}")
    for name, row in [*report["pages"].items(), ("all", report["all"])]:
        print(f"{name:24} {row['count']:5} {row['median_ms']:8.1f} {row['p95_ms']:8.1f} "
              f"{row['p99_ms']:8.1f} {row['max_ms']:8.1f} {row['errors']:6}")  # fmt: skip
    print(f"rate {report['rate_per_s']:g}/s, achieved {report['achieved_per_s']:g}/s, "
          f"largest wait for a free connection {report['max_send_lag_ms']} ms, "
          f"errors {report['errors']}; p95 ≤ {TARGET_MS} ms on the customer page and the "
          f"worklist: {'met' if report['met'] else 'MISSED'}", flush=True)  # fmt: skip
    for line in report["first_errors"]:
        print(f"  error: {line}")


if __name__ == "__main__":
    sys.exit(main())
