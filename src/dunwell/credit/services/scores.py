"""Every customer's risk score, refreshed set-based (`credit.rules.score` says how it is made).

Three queries gather the behaviour of all customers: the invoices of the last 24 months that
were paid, or are open and past due on the day; the promises broken and the disputes opened in
the last 12 months. The scores replace the stored ones in one transaction, so a reader sees the
old set or the new one, never half of each, and a re-run on the same day stores the same rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime

from django.db import transaction
from django.db.models import Count, Q

from dunwell.cases.models import Dispute, PromiseState, PromiseToPay
from dunwell.core.models import Company
from dunwell.credit.models import RiskScore
from dunwell.credit.rules.score import WINDOW_MONTHS, Behaviour, Experience, months_before, score
from dunwell.ledger.models import ItemKind, OpenItem

BATCH = 2000


def behaviours(company: Company, as_of: date) -> dict[int, Behaviour]:
    since = months_before(as_of, WINDOW_MONTHS)
    year_ago = months_before(as_of, 12)
    invoices = OpenItem.objects.filter(
        Q(settled_on__gt=since, settled_on__lte=as_of)
        | (Q(settled_on__isnull=True) | Q(settled_on__gt=as_of)) & Q(due_on__lt=as_of),
        company=company, kind=ItemKind.INVOICE, voided_on__isnull=True, amount_minor__gt=0,
        issued_on__lte=as_of,
    )  # fmt: skip
    experiences: dict[int, list[Experience]] = defaultdict(list)
    for customer_id, amount, due_on, settled_on in invoices.values_list(
        "customer_id", "amount_minor", "due_on", "settled_on"
    ).iterator(chunk_size=BATCH):
        paid = settled_on if settled_on is not None and settled_on <= as_of else None
        experiences[customer_id].append(Experience(amount, due_on, paid))
    broken = Counter(
        dict(
            PromiseToPay.objects.filter(
                company=company,
                state=PromiseState.BROKEN,
                decided_on__gt=year_ago,
                decided_on__lte=as_of,
            )
            .values("customer_id")
            .annotate(n=Count("pk"))
            .values_list("customer_id", "n")
        )
    )
    disputes = Counter(
        dict(
            Dispute.objects.filter(company=company, opened_on__gt=year_ago, opened_on__lte=as_of)
            .values("customer_id")
            .annotate(n=Count("pk"))
            .values_list("customer_id", "n")
        )
    )
    ids = set(experiences) | set(broken) | set(disputes)
    return {pk: Behaviour(as_of, experiences.get(pk, []), broken[pk], disputes[pk]) for pk in ids}


@transaction.atomic
def refresh_scores(*, company: Company, as_of: date, at: datetime) -> int:
    """Score every customer with any behaviour to go by; the number of scores stored."""
    rows = []
    for customer_id, behaviour in behaviours(company, as_of).items():
        found = score(behaviour)
        rows.append(RiskScore(
            company=company, customer_id=customer_id, as_of=as_of, scored_at=at,
            value=found.value, band=found.band.value if found.band else "",
            payment_index=None if found.index is None else round(found.index, 2),
            dbt_days=None if found.dbt is None else round(found.dbt, 2),
            experiences=found.experiences, components=found.components,
            explanation=found.explanation[:300],
        ))  # fmt: skip
    RiskScore.objects.filter(company=company).delete()
    RiskScore.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)
