"""Delivering reminders by email to an SMTP server on loopback, one worker, no attachments (issue 3:
at least 300 messages a second).

    python -m benchmarks.delivery_bench [--database-url URL] [--messages 3000] [--json OUT]

Builds a company whose N customers each have one invoice 8 days overdue and an AP clerk with an
email, runs the day's dunning (N friendly reminders pending), starts aiosmtpd in a process of
its own (a sink: it accepts and discards) and times `dunwell dunning deliver` end to end as a
user runs it. Every message must come out sent.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.import_bench import timed
from benchmarks.machine import describe

SETUP = """
import django; django.setup()
from datetime import UTC, date, datetime, timedelta
from dunwell.core.models import Company
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
    issue_item(company=company, spec=ItemInput(customer=c, number=f"INV-{c.account_number}",
               issued_on=due - timedelta(days=30), currency="EUR", gross_minor=123456,
               due_on=due), actor=None, at=AT)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/dunwell-bench/delivery.sqlite3")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.database_url.startswith("sqlite:///"):
        path = Path(args.database_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": args.database_url, "DUNWELL_FAULT": "",
           "DJANGO_SETTINGS_MODULE": "dunwell.settings"}  # fmt: skip
    dunwell = str(Path(sys.executable).with_name("dunwell"))
    print(f"preparing {args.messages} customers with a reminder due ...", flush=True)
    subprocess.run([dunwell, "migrate", "-v0"], env=env, check=True)
    subprocess.run([sys.executable, "-c", SETUP.replace("COUNT", str(args.messages))], env=env,
                   check=True)  # fmt: skip
    subprocess.run([dunwell, "dunning", "run", "--date", "2026-11-23", "--brief"], env=env,
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                               "-c", "aiosmtpd.handlers.Sink"])  # fmt: skip
    try:
        time.sleep(1.0)
        mail = {**env, "EMAIL_URL": f"smtp://127.0.0.1:{port}"}
        command = [dunwell, "dunning", "deliver", "--company", "bench", "--limit",
                   str(args.messages), "--format", "json"]  # fmt: skip
        elapsed, peak, _, out = timed(command, mail)
    finally:
        server.terminate()
        server.wait()
    report = json.loads(out)
    if report["sent"] != args.messages:
        raise SystemExit(f"expected {args.messages} sent, got {report}")
    result = {
        "benchmark": "email delivery, one worker, loopback SMTP",
        "command": " ".join(command[1:]),
        "messages": args.messages,
        "seconds": round(elapsed, 2),
        "messages_per_second": round(args.messages / elapsed),
        "peak_mb": peak,
        "machine": describe(),
    }
    print(json.dumps({k: result[k] for k in ("seconds", "messages_per_second", "peak_mb")}))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
