"""Matching a company's unmatched bank lines to open items, set-based (issue 5, DOMAIN.md 4.4).

`match_lines` takes the company's unmatched credit lines (money received, not a reversal) in
batches of `CASH_MATCH_BATCH` (settings, 1,000) and, per batch, a fixed number of queries
whatever its size:

1. the customers once per run (names, parents) and the learned IBANs (`KnownAccount`), as the
   pure `Payer` values; a payer-only index of the whole company says, per line, which
   customers may have sent it (learned IBAN, then the name: rapidfuzz over the names that share
   a telling word with the payer's, in memory), and those hits score the line too;
2. one query for the open items the batch *names*: whose RF or national reference is among the
   references of the batch (structured, end-to-end ids, written in the text, digit words that
   may be a KID or viite), or whose `number_key` is among the numbers found in the texts and
   the remittance documents;
3. one query for the open items of the customers step 1 found (and their branches);
4. one query for open items with exactly a line's amount (at most `PER_AMOUNT` per amount,
   oldest due first, in the line's currency);
5. one aggregate for the discounts already granted on those items, so that each `Candidate`
   carries the early-payment discount still available (and its last day, `discount_until`).

Then the pure rules: `prepare` once per batch, `score` per line, the top `KEEP` proposals stored
(replacing the line's earlier ones) and `decide`: the proposals it picks are handed to `apply`
(`workflows.cash.apply_lines`) together, one transaction for the batch (a line it refuses
stays unmatched with its proposals, and the report counts it). Re-running touches only lines
still unmatched; `apply_lines` locks the lines and refuses one already applied, and the
payment's external id is the line's, so nothing is applied twice. With more than one batch to
do, a forked process scores the next batches while this one applies (`match_lines`).

Not retrieved: an RF reference with a typo (one edit away) finds its item only when that item
was retrieved otherwise (the payer's items, the amount); the threshold is the module default
(`matching.DEFAULT_SETTINGS`: 900 per mille) for every company.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings as config
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from dunwell.cash.models import KnownAccount, LineState, StatementLine
from dunwell.cash.models import Proposal as StoredProposal
from dunwell.cash.rules import matching
from dunwell.cash.rules.index import prepare
from dunwell.cash.rules.numbers import blank, number_key, numbers_in_text
from dunwell.cash.rules.references import normalise_reference, references_in_text
from dunwell.cash.rules.values import Candidate, Document, Line, Payer, Proposal, Settings
from dunwell.core.bulk import insert_instances
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.core.processes import fork_workers, reconnect_database
from dunwell.ledger.models import Allocation, AllocationKind, Customer, ItemKind, OpenItem

KEEP = 5  # proposals stored per line
PER_AMOUNT = 20  # open items with exactly a line's amount, at most
SHORTEST_NUMBER = 3  # a shorter number in a text is never looked up
_DIGIT_WORD = re.compile(r"\d[\d ]{3,}\d")

# Applies (line id, proposal) pairs; returns why each line it did not apply was refused.
Apply = Callable[[Sequence[tuple[int, Proposal]]], Mapping[int, Exception]]

ITEM_FIELDS = ("id", "customer_id", "number", "currency", "open_minor", "due_on", "issued_on",
               "kind", "payment_reference", "national_reference", "discount_minor",
               "discount_until")  # fmt: skip
KINDS = frozenset(k.value for k in ItemKind)
CHECKED = ("company_id", "voided_on")  # read to check on the rows, not filtered on (`_candidates`)


@dataclass
class MatchReport:
    lines: int = 0
    applied: int = 0
    queued: int = 0
    failed: int = 0
    returned: int = 0  # debit lines booked as returns of an applied payment (workflows.cash)
    by_rule: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def merge(self, other: MatchReport) -> None:
        self.lines += other.lines
        self.applied += other.applied
        self.queued += other.queued
        self.failed += other.failed
        self.returned += other.returned
        self.by_rule += other.by_rule
        self.errors += other.errors

    def as_dict(self) -> dict[str, object]:
        return {"lines": self.lines, "applied": self.applied, "queued": self.queued,
                "failed": self.failed, "returned": self.returned,
                "by_rule": dict(sorted(self.by_rule.items())),
                "errors": self.errors}  # fmt: skip


def match_lines(
    *,
    company: Company,
    at: datetime,
    line_ids: Iterable[int] | None = None,
    settings: Settings = matching.DEFAULT_SETTINGS,
    apply: Apply | None = None,
    ahead: bool = True,
) -> MatchReport:
    """Score the company's unmatched credit lines (or those of `line_ids`), store the ranked
    proposals and hand what `decide` picks, a batch at a time, to `apply`
    (`workflows.cash.match_lines` passes `apply_lines`: applying touches the ledger, the cases
    and the history, which is a workflow's business; it returns why each line it refused was
    refused). Without `apply` nothing is applied and every line waits for review.

    Reading ahead (`ahead`, where `_reads_ahead` allows it): a forked process scores the next
    batches while this one applies, so that the two cores share the work. A batch scored ahead
    saw the ledger as it was before the batches just applied: a line among whose proposals is
    an item this run has applied something to since is not applied from them, but scored again
    once all the batches are done (as a run without reading ahead would have seen it)."""
    report = MatchReport()
    ids = None if line_ids is None else sorted(set(line_ids))
    reading = ahead and apply is not None and _reads_ahead(company, ids)
    scored_batches = (_scored_ahead if reading else _scored)(company, ids, settings)
    touched: set[int] = set()
    again: list[int] = []
    for batch in scored_batches:
        _store(company, batch, at)
        stale = {pk for pk, found in batch.items() if _names_any(found, touched)}
        again += sorted(stale)
        scored = {pk: found for pk, found in batch.items() if pk not in stale}
        report.lines += len(scored)
        picked = [] if apply is None else _picked(scored, settings)
        report.queued += len(scored) - len(picked)
        refused = apply(picked) if apply is not None and picked else {}
        for line_id, proposal in picked:
            if line_id in refused:
                report.failed += 1
                report.queued += 1
                report.errors.append(f"line {line_id}: {refused[line_id]}")
            else:
                report.applied += 1
                report.by_rule[proposal.rule] += 1
                if reading:
                    touched.update(a.item_id for a in proposal.allocations)
    if again:
        report.merge(match_lines(company=company, at=at, line_ids=again, settings=settings,
                                 apply=apply, ahead=False))  # fmt: skip
    return report


def _names_any(proposals: list[Proposal], items: set[int]) -> bool:
    return any(a.item_id in items for p in proposals for a in p.allocations)


def _scored(
    company: Company, line_ids: list[int] | None, settings: Settings
) -> Iterator[dict[int, list[Proposal]]]:
    """Per batch of lines: each line's proposals, best first."""
    payers = _payers(company)
    who = prepare((), payers.values())
    for batch in _batches(company, line_ids):
        values = {line.pk: _line(line) for line in batch}
        hits = {pk: who.payers_of(value, settings) for pk, value in values.items()}
        senders = {
            i for found in hits.values() for hit in found for i in who.group(hit.customer_id)
        }
        candidates = _candidates(company, batch, values, senders)
        index = prepare(candidates, _relevant(payers, candidates, senders))
        scored = {
            line.pk: matching.score(values[line.pk], index, settings, hits[line.pk])
            for line in batch
        }
        yield scored


def _reads_ahead(company: Company, line_ids: list[int] | None) -> bool:
    """A forked process can score ahead: two cores, a database it can open (not SQLite's
    in-memory one of the tests), nothing uncommitted it could not see, more than one batch."""
    if fork_workers(2) < 2 or connection.in_atomic_block:
        return False
    if getattr(connection, "is_in_memory_db", lambda: False)():
        return False
    size = config.CASH_MATCH_BATCH
    if line_ids is not None and len(line_ids) <= size:
        return False
    return _lines(company, line_ids)[size : size + 1].exists()


def _scored_ahead(
    company: Company, line_ids: list[int] | None, settings: Settings
) -> Iterator[dict[int, list[Proposal]]]:
    """`_scored` in a forked process, its batches handed over as they are done (at most two
    waiting). That process only reads (a second writer would wait for this one's batch
    transactions, and this one for its); this one stores and applies."""
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.queues.Queue[Any] = context.Queue(maxsize=2)
    reader = context.Process(target=_score_into, args=(queue, company, line_ids, settings),
                             name="cash-scoring", daemon=True)  # fmt: skip
    reader.start()
    try:
        while (item := queue.get()) is not None:
            if isinstance(item, str):
                raise DunwellError(ErrorCode.CONFLICT, f"scoring the bank lines failed: {item}")
            yield item
    finally:
        reader.join(timeout=5)
        if reader.is_alive():
            reader.kill()
            reader.join()


def _score_into(
    queue: multiprocessing.queues.Queue[Any],
    company: Company,
    line_ids: list[int] | None,
    settings: Settings,
) -> None:
    reconnect_database()
    try:
        for scored in _scored(company, line_ids, settings):
            queue.put(scored)
    except Exception as exc:  # handed to the parent, which raises it
        queue.put(f"{type(exc).__name__}: {exc}")
    else:
        queue.put(None)


def _picked(scored: dict[int, list[Proposal]], settings: Settings) -> list[tuple[int, Proposal]]:
    chosen = ((line_id, matching.decide(found, settings)) for line_id, found in scored.items())
    return [(line_id, proposal) for line_id, proposal in chosen if proposal is not None]


def unmatched_credits(company: Company) -> QuerySet[StatementLine]:
    return StatementLine.objects.filter(
        company=company, state=LineState.UNMATCHED, amount_minor__gt=0, reversal=False
    )


def _lines(company: Company, line_ids: list[int] | None) -> QuerySet[StatementLine]:
    # a line a remittance advice describes keeps the advice's split (cash.services.advices)
    lines = unmatched_credits(company).filter(advices__isnull=True)
    return lines if line_ids is None else lines.filter(pk__in=line_ids)


def _batches(company: Company, line_ids: list[int] | None) -> Iterator[list[StatementLine]]:
    lines, last = _lines(company, line_ids), 0
    while True:
        batch = list(lines.filter(pk__gt=last).order_by("pk")[: config.CASH_MATCH_BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def _line(line: StatementLine) -> Line:
    documents = tuple(
        Document(d.get("number", ""), d.get("amount_minor"), d.get("discount_minor"))
        for d in line.documents
        if d.get("number")
    )
    return Line(
        amount_minor=line.amount_minor,
        currency=line.currency,
        value_on=line.value_on,
        references=tuple(line.structured),
        text=line.text,
        payer_name=line.counterparty_name or line.ultimate_party,
        payer_iban=line.counterparty_iban,
        end_to_end_id="" if line.end_to_end_id.upper() == "NOTPROVIDED" else line.end_to_end_id,
        documents=documents,
    )


def _payers(company: Company) -> dict[int, Payer]:
    """Every customer of the company as a `Payer`, with the IBANs people confirmed for it."""
    ibans: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for customer_id, iban, confirmations in KnownAccount.objects.filter(
        company=company, confirmations__gt=0
    ).values_list("customer_id", "iban", "confirmations"):
        ibans[customer_id].append((iban, confirmations))
    return {
        pk: Payer(pk, (name,), tuple(ibans.get(pk, ())), parent_id)
        for pk, name, parent_id in Customer.objects.filter(company=company).values_list(
            "pk", "legal_name", "parent_id"
        )
    }


def _keys(value: Line) -> tuple[set[str], set[str]]:
    """(compact references, number keys) a line may name, as the rules will read them."""
    references = {normalise_reference(r) for r in (*value.references, value.end_to_end_id)}
    upper = value.text.upper()
    spans = []
    for found in references_in_text(upper):
        spans.append(found.span)
        references.update(reading.compact for reading in found.readings)
    references.update(w.replace(" ", "") for w in _DIGIT_WORD.findall(upper))
    text = " ".join([blank(upper, spans), *(r.upper() for r in value.references),
                     value.end_to_end_id.upper()])  # fmt: skip
    numbers: set[str] = set()
    for token in numbers_in_text(text):
        if len(token.key.written) >= 4:
            references.add(token.key.written)
        for key in (token.key, *token.parts):
            numbers.add(key.core or key.prefix)
    for document in value.documents:
        key = number_key(document.number)
        numbers.add(key.core or key.prefix)
    numbers = {n for n in numbers if len(n) >= SHORTEST_NUMBER}
    return {r for r in references if r}, numbers


def _open_items() -> QuerySet[OpenItem]:
    return OpenItem.objects.filter(voided_on__isnull=True).exclude(open_minor=0)


def _candidates(
    company: Company,
    batch: list[StatementLine],
    values: dict[int, Line],
    customers: set[int],
) -> list[Candidate]:
    references: set[str] = set()
    numbers: set[str] = set()
    for value in values.values():
        refs, nums = _keys(value)
        references |= refs
        numbers |= nums
    currencies = {line.currency for line in batch}
    rows: dict[int, dict[str, Any]] = {}
    # By the keys' own indexes only: the company, the currency and "still open" are checked
    # on the rows. Given them too, SQLite's planner (no statistics) prefers the (company,
    # currency) index and reads the company's every item: 1.3 s a batch against 0.01 s.
    named = Q(payment_reference__in=references) | Q(national_reference__in=references)
    named |= Q(company=company, number_key__in=numbers)
    wanted = [named] if references or numbers else []
    if customers:
        wanted.append(Q(customer_id__in=customers))
    for query in wanted:
        for row in OpenItem.objects.filter(query).order_by().values(*ITEM_FIELDS, *CHECKED):
            if (
                row["company_id"] == company.pk
                and row["currency"] in currencies
                and row["open_minor"] != 0
                and row["voided_on"] is None
            ):
                rows[row["id"]] = row
    amounts = {(line.currency, line.amount_minor) for line in batch}
    by_amount = (
        _open_items()
        .filter(
            company=company,
            currency__in=currencies,
            open_minor__in={amount for _, amount in amounts},
        )
        .annotate(
            place=Window(
                RowNumber(),
                partition_by=[F("currency"), F("open_minor")],
                order_by=[F("due_on").asc(), F("id").asc()],
            )
        )
        .filter(place__lte=PER_AMOUNT)
    )
    for row in by_amount.values(*ITEM_FIELDS):
        if (row["currency"], row["open_minor"]) in amounts:
            rows[row["id"]] = row
    granted = _granted_discounts([pk for pk, row in rows.items() if row["discount_minor"]])
    return [_candidate(row, granted.get(pk, 0)) for pk, row in rows.items()]


def _granted_discounts(item_ids: list[int]) -> dict[int, int]:
    if not item_ids:
        return {}
    rows = (
        Allocation.objects.filter(target_id__in=item_ids, kind=AllocationKind.DISCOUNT)
        .values("target_id")
        .annotate(total=Sum("amount_minor"))
    )
    return {row["target_id"]: row["total"] or 0 for row in rows}


def _candidate(row: dict[str, Any], granted: int) -> Candidate:
    discount = max((row["discount_minor"] or 0) - granted, 0) if row["discount_until"] else 0
    return Candidate(
        item_id=row["id"],
        customer_id=row["customer_id"],
        number=row["number"],
        currency=row["currency"],
        open_minor=row["open_minor"],
        due_on=row["due_on"],
        issued_on=row["issued_on"],
        kind=row["kind"] if row["kind"] in KINDS else "invoice",
        payment_reference=row["payment_reference"],
        national_reference=row["national_reference"],
        discount_minor=discount,
        discount_until=row["discount_until"] if discount else None,
    )


def _relevant(
    payers: dict[int, Payer], candidates: list[Candidate], senders: set[int]
) -> list[Payer]:
    """The payers a batch's index needs: the candidates' owners, the customers the lines may
    come from, and their parents and branches (not the company's every name, each batch)."""
    ids = {c.customer_id for c in candidates} | senders
    ids |= {payers[i].parent_id for i in ids if i in payers and payers[i].parent_id}  # type: ignore[misc]
    ids |= {p.customer_id for p in payers.values() if p.parent_id in ids}
    return [payers[i] for i in ids if i in payers]


@transaction.atomic
def _store(company: Company, scored: dict[int, list[Proposal]], at: datetime) -> None:
    """Each line's best `KEEP` proposals, replacing what was stored for it before."""
    StoredProposal.objects.filter(line_id__in=list(scored)).delete()
    insert_instances(
        [
            StoredProposal(
                company=company,
                line_id=line_id,
                rank=rank,
                confidence=p.confidence,
                rule=p.rule[:40],
                reason=p.reason[:500],
                customer_id=p.customer_id,
                allocations=[
                    {
                        "item": a.item_id,
                        "amount_minor": a.amount_minor,
                        "discount_minor": a.discount_minor,
                        "charges_minor": a.charges_minor,
                    }
                    for a in p.allocations
                ],
                unapplied_minor=p.unapplied_minor,
                proposed_at=at,
            )
            for line_id, proposals in scored.items()
            for rank, p in enumerate(proposals[:KEEP], start=1)
        ],
    )
