"""Delivering reminders by email to an SMTP server on loopback, one worker (issue 3: at least 300
messages a second without attachments; the statement PDFs of 1,000 customers in at most 90 s
using both cores).

    python -m benchmarks.delivery_bench [--database-url URL] [--messages 3000] [--json OUT]
    python -m benchmarks.delivery_bench --statements [--messages 1000] [--json OUT]

Builds a company whose N customers each have invoices 8 days overdue and an AP clerk with an
email, runs the day's dunning (N friendly reminders pending), starts aiosmtpd in a process of
its own (a sink: it accepts and discards) and times `dunwell dunning deliver` end to end as a
user runs it. Every message must come out sent. Without --statements the steps attach nothing
and each customer has one invoice; with it, each customer has four invoices and every reminder
carries its statement of account, laid out during the pass (the time includes sending them).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.import_bench import Databases, timed
from benchmarks.machine import describe

SETUP = """
import django; django.setup()
from datetime import UTC, date, datetime, timedelta
from dunwell.core.models import Company
from dunwell.dunning.models import Step
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.ledger.models import Contact, Customer
from dunwell.ledger.services.documents import ItemInput, issue_item
AT = datetime(2026, 11, 23, 6, tzinfo=UTC)
company = Company.objects.create(code="bench", legal_name="Bench GmbH", country="DE",
                                 base_currency="EUR", iban="DE89370400440532013000")
ensure_default_policy(company, AT)
customers = Customer.objects.bulk_create(
    Customer(company=company, account_number=f"C{n:06d}", legal_name=f"Customer {n} GmbH",
             currency="EUR", country="DE") for n in range(1, COUNT + 1))
Contact.objects.bulk_create(
    Contact(company=company, customer=c, name=f"AP {c.account_number}", role="ap_clerk",
            email=f"ap@{c.account_number.lower()}.example") for c in customers)
due = date(2026, 11, 15)
for c in customers:
    for n in range(INVOICES):
        issue_item(company=company, spec=ItemInput(customer=c, number=f"INV-{c.account_number}-{n}",
                   issued_on=due - timedelta(days=30 + n), currency="EUR",
                   gross_minor=123456 + 1111 * n, due_on=due - timedelta(days=n)), actor=None, at=AT)
if not STATEMENTS:
    Step.objects.filter(policy__company=company).update(attach_statement=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(databases: Databases, args: argparse.Namespace, env: dict[str, str]) -> None:
    """The template: company, customers with their invoices and clerks, the day's run done."""
    template = databases.template()
    if databases.sqlite:
        Path(template.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{template.removeprefix('sqlite:///')}{suffix}").unlink(missing_ok=True)
    else:
        databases._admin("DROP DATABASE IF EXISTS bench_template")
        databases._admin("CREATE DATABASE bench_template")
    env = {**env, "DATABASE_URL": template}
    dunwell = str(Path(sys.executable).with_name("dunwell"))
    subprocess.run([dunwell, "migrate", "-v0"], env=env, check=True)
    setup = SETUP.replace("COUNT", str(args.messages))
    setup = setup.replace("INVOICES", "4" if args.statements else "1")
    setup = setup.replace("STATEMENTS", str(args.statements))
    subprocess.run([sys.executable, "-c", setup], env=env, check=True)
    subprocess.run([dunwell, "dunning", "run", "--date", "2026-11-23", "--brief"], env=env,
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    if databases.sqlite:  # one file to copy: the write-ahead log folded in
        subprocess.run([sys.executable, "-c", CHECKPOINT], env=env, check=True)


CHECKPOINT = """
import django; django.setup()
from django.db import connection
connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/dunwell-bench/delivery.sqlite3")
    parser.add_argument(
        "--messages", type=int, default=0, help="default 3000, 1000 with statements"
    )
    parser.add_argument("--statements", action="store_true", help="attach the statement PDFs")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.messages = args.messages or (1000 if args.statements else 3000)
    env = {**os.environ, "DUNWELL_FAULT": "", "DJANGO_SETTINGS_MODULE": "dunwell.settings"}
    databases = Databases(args.database_url)
    print(f"preparing {args.messages} customers with a reminder due ...", flush=True)
    prepare(databases, args, env)
    dunwell = str(Path(sys.executable).with_name("dunwell"))
    command = [dunwell, "dunning", "deliver", "--company", "bench", "--limit",
               str(args.messages), "--format", "json"]  # fmt: skip
    times, peaks, trees = [], [], []
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                               "-c", "aiosmtpd.handlers.Sink"])  # fmt: skip
    try:
        time.sleep(1.0)
        for index in range(args.runs):
            url = databases.fresh(index)
            mail = {**env, "DATABASE_URL": url, "EMAIL_URL": f"smtp://127.0.0.1:{port}"}
            elapsed, peak, tree, out = timed(command, mail)
            report = json.loads(out)
            if report["sent"] != args.messages:
                raise SystemExit(f"expected {args.messages} sent, got {report}")
            print(f"run {index + 1}: {elapsed:.2f} s, peak {peak} MB ({tree} MB with workers)",
                  flush=True)  # fmt: skip
            times.append(elapsed)
            peaks.append(peak)
            trees.append(tree)
    finally:
        server.terminate()
        server.wait()
    median = statistics.median(times)
    result = {
        "benchmark": "email delivery, one worker, loopback SMTP"
        + (", each with its statement PDF" if args.statements else ", no attachments"),
        "command": " ".join(command[1:]),
        "messages": args.messages,
        "runs": [round(t, 2) for t in times],
        "seconds": round(median, 2),
        "messages_per_second": round(args.messages / median),
        "peak_mb": max(peaks),
        "peak_mb_with_workers": max(trees),
        "machine": describe(),
    }
    print(json.dumps({k: result[k] for k in ("seconds", "messages_per_second", "peak_mb")}))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
