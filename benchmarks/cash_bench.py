"""Cash matching: 10,000 statement lines against 1,000,000 open invoices (issue 5).

    python -m benchmarks.cash_bench --database-url sqlite:////tmp/dunwell-bench-cash/c.sqlite3
        [--lines 10000] [--invoices N] [--customers N] [--workdir DIR] [--json OUT]

Prepares the dunning benchmark's template (`benchmarks.dunning_bench.prepare`: 100,000
customers, 1,000,000 open invoices), takes a fresh copy and migrates it, then in this process
gives the customers what matching uses and a ledger has: an IBAN each, for half of them an IBAN
already confirmed twice (`KnownAccount`), a real-looking name for one in ten (German, French,
Polish, Greek and Russian names, so that transliterated payers can be tried), a parent for 2 %
(branches whose parent pays), an early-payment discount on 2 % of the invoices. Then it writes
`--lines` statement lines in a fixed mix (the issue's), each with the answer it should get:

    35 % the RF reference printed on the invoice (5 % of these with one character wrong)
    20 % the invoice number in the free text, in varied spellings ("INV-0000123", "inv 123",
         "Rechnung 123", "Invoice no. 0000123", "RE-NR 123 vom 12.03.")
    10 % one payment for several invoices of a customer (2 to 4, their numbers in the text)
    10 % partial or short: a discount taken in its window, or bank charges within tolerance
     5 % a parent company paying for a branch (the branch's invoice number, the parent's name)
     5 % a foreign-language or transliterated payer name, no reference, the exact open amount
     5 % a wrong amount with the right reference
    10 % payments that match nothing (no such invoice, no such payer)

Measured: `dunwell cash match --format json` as a user runs it (wall time of the process and its
peak memory): scores every line, applies what it is sure of, queues the rest. Then each line is
checked against its answer: an applied line is right when its payment went to exactly the
answer's invoices; precision = right / applied, recall = right / lines that have an answer.
Before that timed run, a scoring-only pass (nothing applied) keeps every line's proposals, from
which the same figures are computed for other thresholds (how they move with it).

Targets: precision >= 99.5 %, recall >= 90 %, every line applied or queued, <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.dunning_bench import prepare
from benchmarks.import_bench import Databases, timed
from benchmarks.machine import describe

THRESHOLDS = (700, 800, 850, 900, 950, 980)
VALUE_ON = date(2025, 10, 1)
MIX = (
    ("rf", 0.35), ("number", 0.20), ("several", 0.10), ("short", 0.10), ("parent", 0.05),
    ("foreign", 0.05), ("wrong_amount", 0.05), ("nothing", 0.10),
)  # fmt: skip
FIRST = ["Müller", "Schröder", "Weiß", "Dubois", "Lefèvre", "Nowak", "Wiśniewski", "Παπαδόπουλος",
         "Οικονόμου", "Иванов", "Смирнов", "Kowalczyk", "Brandstätter", "Jäger", "Gauß", "Bérénger"]  # fmt: skip
SECOND = ["Bau", "Logistik", "Handel", "Technik", "Services", "Consulting", "Transport", "Metall",
          "Energie", "Systeme"]  # fmt: skip
FORMS = ["GmbH", "AG", "KG", "S.A.", "SARL", "Sp. z o.o.", "OOO", "A.E.", "GmbH & Co. KG"]
LATIN = str.maketrans({"И": "I", "в": "v", "а": "a", "н": "n", "о": "o", "С": "S", "м": "m",
                       "и": "i", "р": "r", "П": "P", "π": "p", "α": "a", "δ": "d", "ό": "o", "ο": "o",
                       "υ": "u", "λ": "l", "ς": "s", "Ο": "O", "ι": "i", "κ": "k", "ν": "n",
                       "μ": "m", "ö": "oe", "ü": "ue", "ä": "ae", "ß": "ss", "é": "e", "è": "e",
                       "ś": "s", "ń": "n", "ł": "l"})  # fmt: skip


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cash_bench", description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dunwell-bench-cash"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--reuse-template", action="store_true",
                        help="keep a template built before (same sizes) instead of building it")  # fmt: skip
    parser.add_argument("--staged", action="store_true",
                        help="keep the lines and answers written before (DB.staged and "
                        "DB.answers.json on SQLite, the database bench_staged on PostgreSQL) "
                        "instead of writing them again: for repeated runs")  # fmt: skip
    return parser.parse_args()


@dataclass
class Answer:
    kind: str
    items: frozenset[int]  # the invoices the payment is for; empty: it matches nothing


def iban_of(n: int) -> str:
    """A valid German IBAN, one per n (D=13, E=14 in the MOD 97 check)."""
    body = f"{37040044:08d}{n:010d}"
    check = 98 - int(f"{body}131400") % 97
    return f"DE{check:02d}{body}"


def setup(rng: random.Random) -> dict[str, Any]:
    """What matching uses and a ledger has; returns the open items by customer."""
    from django.db import connection, transaction

    from dunwell.cash.models import BankAccount, KnownAccount
    from dunwell.core.bulk import analyze
    from dunwell.core.models import Company
    from dunwell.ledger.models import Customer, OpenItem

    company = Company.objects.get(code="bench")
    company.iban = "DE89370400440532013000"
    company.save(update_fields=["iban"])
    now = datetime(2025, 9, 30, 18, tzinfo=UTC)
    BankAccount.objects.get_or_create(company=company, iban=company.iban, account_number="",
                                      currency="EUR", defaults={"name": "Main", "created_at": now})  # fmt: skip
    ids = list(Customer.objects.filter(company=company).order_by("pk").values_list("pk", flat=True))
    names: dict[int, str] = {}
    parents: dict[int, int] = {}
    with transaction.atomic():
        renamed = []
        for n, pk in enumerate(ids):
            if n % 10 == 3:
                name = f"{rng.choice(FIRST)} {rng.choice(SECOND)} {n} {rng.choice(FORMS)}"
                renamed.append(Customer(pk=pk, legal_name=name))
                names[pk] = name
        Customer.objects.bulk_update(renamed, ["legal_name"], batch_size=5000)
        branches = []
        for n, pk in enumerate(ids):
            if n % 50 == 7 and n + 1 < len(ids):
                parents[pk] = ids[n + 1]
                branches.append(Customer(pk=pk, parent_id=ids[n + 1]))
        Customer.objects.bulk_update(branches, ["parent"], batch_size=5000)
        KnownAccount.objects.bulk_create(
            (KnownAccount(company=company, iban=iban_of(n), customer_id=pk, confirmations=2,
                          last_confirmed_at=now) for n, pk in enumerate(ids) if n % 2 == 0),
            batch_size=5000,
        )  # fmt: skip
    with connection.cursor() as cursor:  # 2 % of the invoices with a discount still open
        cursor.execute(
            "UPDATE ledger_openitem SET discount_minor = amount_minor * 2 / 100, "
            "discount_until = %s WHERE company_id = %s AND id %% 50 = 11",
            [VALUE_ON + timedelta(days=5), company.pk],
        )
    analyze(Customer)
    items: dict[int, list[tuple[int, str, int, str, int, int]]] = {}
    for row in OpenItem.objects.filter(company=company, open_minor__gt=0).values_list(
        "customer_id", "pk", "number", "open_minor", "payment_reference", "discount_minor", "pk"
    ):
        items.setdefault(row[0], []).append(row[1:])
    full = dict(Customer.objects.filter(company=company).values_list("pk", "legal_name"))
    return {"company": company, "ids": ids, "names": full, "renamed": names, "parents": parents,
            "items": items, "index": {pk: n for n, pk in enumerate(ids)}}  # fmt: skip


def spelled(number: str, rng: random.Random) -> str:
    digits = number.rsplit("-", maxsplit=1)[-1]
    core = digits.lstrip("0")
    return rng.choice([number, f"inv {core}", f"Rechnung {core}", f"Invoice no. {digits}",
                       f"RE-NR {core} vom 12.03.", f"{number.lower()}", f"Inv.{core}"])  # fmt: skip


def lines(  # noqa: PLR0915 - one branch per kind of the mix, read together
    world: dict[str, Any], count: int, rng: random.Random
) -> list[tuple[dict[str, Any], Answer]]:
    made: list[tuple[dict[str, Any], Answer]] = []
    kinds = [k for k, share in MIX for _ in range(round(share * count))][:count]
    rng.shuffle(kinds)
    customers = [c for c in world["ids"] if world["items"].get(c)]
    used: set[int] = set()

    def pick(pool: list[int] | None = None) -> tuple[int, tuple[Any, ...]]:
        while True:
            customer = rng.choice(pool or customers)
            free = [i for i in world["items"].get(customer, []) if i[0] not in used]
            if free:
                item = rng.choice(free)
                used.add(item[0])
                return customer, item

    def payer(customer: int) -> dict[str, str]:
        return {"counterparty_name": world["names"][customer],
                "counterparty_iban": iban_of(world["index"][customer])}  # fmt: skip

    parents = list(world["parents"])
    renamed = list(world["renamed"])
    for n, kind in enumerate(kinds):
        line: dict[str, Any] = {"text": "", "structured": []}
        if kind in ("rf", "wrong_amount", "short"):
            customer, item = pick()
            pk, _, open_minor, reference, discount, _ = item
            line.update(payer(customer), amount_minor=open_minor)
            if kind == "rf" and n % 20 == 0:  # 5 % of them typed wrong
                wrong = reference[:-1] + ("1" if reference[-1] != "1" else "2")
                line["structured"] = [wrong]
            else:
                line["structured"] = [reference]
            if kind == "wrong_amount":
                line["amount_minor"] = open_minor + rng.choice([-1, 1]) * rng.randint(5000, 50000)
                line["amount_minor"] = max(line["amount_minor"], 100)
            if kind == "short":
                line["amount_minor"] = open_minor - (
                    discount if discount else rng.randint(50, 1500)
                )
            made.append((line, Answer(kind, frozenset([pk]))))
        elif kind == "number":
            customer, item = pick()
            line.update(payer(customer), amount_minor=item[2],
                        text=f"{spelled(item[1], rng)} Danke")  # fmt: skip
            made.append((line, Answer(kind, frozenset([item[0]]))))
        elif kind == "several":
            customer, first = pick()
            others = [i for i in world["items"][customer] if i[0] not in used][: rng.randint(1, 3)]
            chosen = [first, *others]
            used.update(i[0] for i in others)
            text = ", ".join(spelled(i[1], rng) if k == 0 else i[1].split("-")[-1]
                             for k, i in enumerate(chosen))  # fmt: skip
            line.update(payer(customer), amount_minor=sum(i[2] for i in chosen), text=text)
            made.append((line, Answer(kind, frozenset(i[0] for i in chosen))))
        elif kind == "parent":
            customer, item = pick(parents)
            line.update(payer(world["parents"][customer]), amount_minor=item[2],
                        text=f"{item[1]} for our branch")  # fmt: skip
            made.append((line, Answer(kind, frozenset([item[0]]))))
        elif kind == "foreign":
            customer, item = pick(renamed)
            name = world["names"][customer].translate(LATIN).upper()
            line.update(counterparty_name=name, counterparty_iban=iban_of(900_000 + n),
                        amount_minor=item[2])  # fmt: skip
            made.append((line, Answer(kind, frozenset([item[0]]))))
        else:
            line.update(counterparty_name=f"Unknown Trading {n} Ltd",
                        counterparty_iban=iban_of(800_000 + n),
                        amount_minor=rng.randint(1000, 900_000_00) * 1 + 37,
                        text=f"Order {rng.randint(10**6, 10**7)} refund")  # fmt: skip
            made.append((line, Answer(kind, frozenset())))
    return made


def store(world: dict[str, Any], made: list[tuple[dict[str, Any], Answer]]) -> list[int]:
    from django.db import transaction

    from dunwell.cash.models import (
        BankAccount,
        BankStatement,
        LineState,
        StatementFile,
        StatementLine,
    )

    company = world["company"]
    account = BankAccount.objects.get(company=company)
    now = datetime(2025, 10, 1, 7, tzinfo=UTC)
    with transaction.atomic():
        file = StatementFile.objects.create(company=company, file_name="bench.xml",
                                            sha256="0" * 64, format="camt.053", size=0,
                                            imported_at=now)  # fmt: skip
        statement = BankStatement.objects.create(company=company, account=account, file=file,
                                                 key="bench", statement_id="bench",
                                                 entries=len(made))  # fmt: skip
        StatementLine.objects.bulk_create(
            (StatementLine(company=company, account=account, statement=statement, key=f"b{n}",
                           entry_index=n + 1, currency="EUR", value_on=VALUE_ON,
                           state=LineState.UNMATCHED, **line)
             for n, (line, _) in enumerate(made)),
            batch_size=2000,
        )  # fmt: skip
    return list(StatementLine.objects.filter(statement=statement).order_by("entry_index")
                .values_list("pk", flat=True))  # fmt: skip


def sweep(world: dict[str, Any], pks: list[int], answers: list[Answer]) -> dict[str, Any]:
    """Scoring only: every line's proposals, then precision and recall per threshold."""
    from dunwell.cash.models import Proposal as Stored
    from dunwell.cash.rules import matching
    from dunwell.cash.rules.values import Settings
    from dunwell.cash.services import matching as scoring
    from dunwell.workflows.cash import from_stored

    started = time.perf_counter()
    scoring.match_lines(company=world["company"], at=datetime(2025, 10, 1, 8, tzinfo=UTC))
    seconds = time.perf_counter() - started
    by_line: dict[int, list[Any]] = {}
    for stored in Stored.objects.filter(line_id__in=pks).order_by("line_id", "rank"):
        by_line.setdefault(stored.line_id, []).append(from_stored(stored))
    figures = {}
    for threshold in THRESHOLDS:
        settings = Settings(auto_apply_threshold=threshold)
        chosen = [matching.decide(by_line.get(pk, []), settings) for pk in pks]
        figures[str(threshold)] = score_of(chosen, answers)
    return {"scoring_only_seconds": round(seconds, 2), "by_threshold": figures}


def score_of(chosen: list[Any], answers: list[Answer]) -> dict[str, Any]:
    applied = right = 0
    wrong: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    for proposal, answer in zip(chosen, answers, strict=True):
        if proposal is None:
            if answer.items:
                missed[answer.kind] += 1
            continue
        applied += 1
        if frozenset(proposal.item_ids) == answer.items and answer.items:
            right += 1
        else:
            wrong[answer.kind] += 1
    answerable = sum(1 for a in answers if a.items)
    return {"applied": applied, "right": right, "wrong": sum(wrong.values()),
            "precision": round(right / applied, 4) if applied else None,
            "recall": round(right / answerable, 4) if answerable else None,
            "wrong_by_kind": dict(wrong), "not_applied_by_kind": dict(missed)}  # fmt: skip


def checked(world: dict[str, Any], pks: list[int], answers: list[Answer]) -> dict[str, Any]:
    """The timed run's outcome, line by line, against the answers."""
    from dunwell.cash.models import LineState, StatementLine
    from dunwell.ledger.models import Allocation

    states = dict(StatementLine.objects.filter(pk__in=pks).values_list("pk", "state"))
    payments = dict(StatementLine.objects.filter(pk__in=pks, payment__isnull=False)
                    .values_list("pk", "payment_id"))  # fmt: skip
    items: dict[int, set[int]] = {}
    for payment, item in Allocation.objects.filter(payment_id__in=list(payments.values())
                                                   ).values_list("payment_id", "target_id"):  # fmt: skip
        items.setdefault(payment, set()).add(item)

    class Applied:
        def __init__(self, ids: set[int]) -> None:
            self.item_ids = ids

    chosen = [Applied(items.get(payments[pk], set())) if pk in payments else None for pk in pks]
    result = score_of(chosen, answers)
    result["states"] = dict(Counter(states.values()))
    result["neither_applied_nor_queued"] = sum(
        1 for s in states.values() if s not in (LineState.APPLIED, LineState.UNMATCHED)
    )
    return result


class Staged:
    """Where `--staged` keeps the database with its lines (and the lines' answers), so that each
    run starts from the same 10,000 unmatched lines: DB.staged next to a SQLite file, the
    database bench_staged on a PostgreSQL server."""

    def __init__(self, args: argparse.Namespace, databases: Databases) -> None:
        self.databases = databases
        if databases.sqlite:
            path = Path(databases.url[len("sqlite:///") :])
            self.copy, self.answers = Path(f"{path}.staged"), Path(f"{path}.answers.json")
        else:
            self.copy, self.answers = None, args.workdir / "postgresql.answers.json"

    def exists(self) -> bool:
        if not self.answers.exists():
            return False
        if self.copy is not None:
            return self.copy.exists()
        return self.databases.exists("bench_staged")

    def keep(self, url: str) -> None:
        """Copy the database at `url`, just staged, with Django's connections closed."""
        if self.copy is not None:
            shutil.copyfile(url[len("sqlite:///") :], self.copy)
            return
        self.databases.copy(url.rsplit("/", 1)[1], "bench_staged")

    def restore(self) -> str:
        """A run's database, the staged copy again; its URL."""
        if self.copy is not None:
            url = self.databases.url
            target = Path(url[len("sqlite:///") :])
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.copy, target)
            return url
        self.databases.copy("bench_staged", "bench_run_0")
        return self.databases.named("bench_run_0")


def the_lines(
    args: argparse.Namespace, staged: Staged | None, url: str
) -> tuple[dict[str, Any], list[int], list[Answer]]:
    """The world, the lines' keys and their answers: kept from before (`staged` restored), or
    written now (and kept for the next `--staged` run when `staged` is given)."""
    if staged is not None and args.reused:
        from dunwell.core.models import Company

        kept = json.loads(staged.answers.read_text())
        answers = [Answer(kind, frozenset(items)) for kind, items in kept["answers"]]
        return {"company": Company.objects.get(code="bench")}, kept["pks"], answers
    rng = random.Random(20251001)
    world = setup(rng)
    made = lines(world, args.lines, rng)
    pks = store(world, made)
    answers = [answer for _, answer in made]
    if staged is not None:
        from django.db import connection, connections

        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connections.close_all()
        staged.keep(url)
        staged.answers.write_text(json.dumps({"pks": pks, "answers": [
            (a.kind, sorted(a.items)) for a in answers]}))  # fmt: skip
    return world, pks, answers


def main() -> int:
    args = parse()
    args.workdir.mkdir(parents=True, exist_ok=True)
    databases = Databases(args.database_url)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dunwell.settings"}
    staged = Staged(args, databases) if args.staged else None
    args.reused = staged is not None and staged.exists()
    if not args.reused and not (args.reuse_template and databases.template_exists()):
        prepare(databases, args.workdir, args.customers, args.invoices, env)
    url = staged.restore() if staged is not None and args.reused else databases.fresh(0)
    env["DATABASE_URL"] = url
    dunwell = str(Path(sys.executable).with_name("dunwell"))
    subprocess.run([dunwell, "migrate", "--verbosity", "0"], env=env, check=True)
    os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "dunwell.settings"})
    import django

    django.setup()
    started = time.perf_counter()
    world, pks, answers = the_lines(args, staged, url)
    print(f"set up in {time.perf_counter() - started:.1f} s: {len(pks)} lines", flush=True)
    swept = sweep(world, pks, answers)
    print(json.dumps(swept["by_threshold"]["900"]), flush=True)
    from django.db import connections

    connections.close_all()
    seconds, peak_mb, _, out = timed([dunwell, "cash", "match", "--company", "bench",
                                      "--format", "json"], env)  # fmt: skip
    outcome = checked(world, pks, answers)
    result = {
        "benchmark": "cash", "database": "sqlite" if databases.sqlite else "postgresql",
        "lines": len(pks), "invoices": args.invoices, "customers": args.customers,
        "mix": dict(MIX), "match_seconds": round(seconds, 2), "match_peak_mb": peak_mb,
        "command": json.loads(out), "outcome": outcome, "sweep": swept, "machine": describe(),
        "load_average": os.getloadavg(),
    }  # fmt: skip
    print(json.dumps({k: result[k] for k in ("match_seconds", "match_peak_mb", "outcome")},
                     indent=1))  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    met = (seconds <= 10 and (outcome["precision"] or 0) >= 0.995
           and (outcome["recall"] or 0) >= 0.90 and not outcome["neither_applied_nor_queued"])  # fmt: skip
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
