"""The run as separate processes do it: killed halfway with SIGKILL and run again, or started
twice at once. Every due message must be in the outbox exactly once (DESIGN invariant 4).

Each test makes a database of its own (a file on SQLite, a database on the PostgreSQL server of
the suite) that the `dunwell` processes it starts can open.
"""

import json
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest

from tests.processes import ROOT, dunwell, own_database

CUSTOMERS = 7
SETUP = """
import django; django.setup()
from datetime import date, timedelta
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.ledger.models import ContactRole
from dunwell.ledger.services.customers import add_contact
from tests import factories as f
from tests.factories import AT
company = f.company()
ensure_default_policy(company, AT)
for n in range(1, COUNT + 1):
    customer = f.customer(company, f"C{n:03d}", f"Customer {n}")
    add_contact(customer=customer, actor=None, name="AP", role=ContactRole.AP_CLERK,
                email=f"ap@c{n}.example")
    due = date(2026, 11, 23) - timedelta(days=8)
    f.invoice(company, customer, f"INV-{n}", 100_00, due - timedelta(days=30), due_on=due)
""".replace("COUNT", str(CUSTOMERS))


@pytest.fixture
def database(tmp_path):
    """DATABASE_URL of a migrated database holding one company with 7 overdue customers."""
    yield from own_database(tmp_path, "dunning", SETUP)


def outbox(url: str) -> Counter:
    rows = json.loads(dunwell("dunning", "outbox", "--format", "json", url=url).stdout)
    return Counter((r["customer"], r["step"], r["channel"]) for r in rows)


RUN = ("dunning", "run", "--date", "2026-11-23", "--batch", "2", "--format", "json")


def test_a_run_killed_after_a_batch_is_resumed_and_queues_every_message_once(database):
    killed = dunwell(*RUN, url=database, fault="dunning.after_batch:2", check=False)
    assert killed.returncode == -signal.SIGKILL
    assert sum(outbox(database).values()) == 4  # two batches of two customers were committed
    resumed = json.loads(dunwell(*RUN, url=database).stdout)
    assert resumed["resumed_after_customer"] > 0
    assert len(resumed["decisions"]) == CUSTOMERS - 4
    assert resumed["counts"] == {"queued": CUSTOMERS}
    queued = outbox(database)
    assert len(queued) == CUSTOMERS and set(queued.values()) == {1}
    again = json.loads(dunwell(*RUN, url=database).stdout)
    assert again["already_done"] and sum(outbox(database).values()) == CUSTOMERS


def test_two_runs_started_at_once_queue_every_message_once(database):
    env = {**os.environ, "DATABASE_URL": database, "DUNWELL_FAULT": ""}
    command = [sys.executable, "-m", "dunwell.cli", *RUN]
    started = [
        subprocess.Popen(  # noqa: S603 - our own command
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outcomes = []
    for process in started:
        out, err = process.communicate(timeout=120)
        if process.returncode == 0:
            report = json.loads(out)
            outcomes.append("already done" if report["already_done"] else "ran")
        else:
            assert "is in progress" in err, err
            outcomes.append("refused")
    assert "ran" in outcomes
    queued = outbox(database)
    assert len(queued) == CUSTOMERS and set(queued.values()) == {1}


def test_a_large_run_splits_its_customers_over_two_processes_and_resumes_after_a_kill(database):
    split = {"DUNNING_PARALLEL_FROM": "1"}  # seven open items are "large" here
    run = ("dunning", "run", "--date", "2026-11-23", "--batch", "1", "--brief", "--format", "json")
    killed = dunwell(*run, url=database, fault="dunning.after_batch:2", check=False, env=split)
    assert killed.returncode != 0
    assert "exited with -9" in killed.stderr  # a part was killed after its second batch
    written = sum(outbox(database).values())
    assert 2 <= written < CUSTOMERS  # whole batches of the parts, not all of them
    resumed = json.loads(dunwell(*run, url=database, env=split).stdout)
    assert resumed["parts"] == 2 and resumed["counts"] == {"queued": CUSTOMERS}
    queued = outbox(database)
    assert len(queued) == CUSTOMERS and set(queued.values()) == {1}
    again = json.loads(dunwell(*run, url=database, env=split).stdout)
    assert again["already_done"] and sum(outbox(database).values()) == CUSTOMERS


def test_a_run_that_returns_every_decision_stays_in_one_process(database):
    report = json.loads(dunwell(*RUN, url=database, env={"DUNNING_PARALLEL_FROM": "1"}).stdout)
    assert report["parts"] == 1 and len(report["decisions"]) == CUSTOMERS
