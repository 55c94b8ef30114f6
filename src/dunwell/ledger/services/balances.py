"""Keeping the stored open amounts and settlement dates in step with the allocation rows.

The allocation rows are the truth. `open_minor`/`settled_on` on items and `unapplied_minor`/
`settled_on` on payments are copies kept for speed and refreshed here, set-based, after every
change; `dunwell verify` compares them with a fresh computation.

`settled_on` is the effective date of an item's last allocation when its open amount is zero, and
empty while anything is open. For every date on or after it the item is settled, which is all the
aging scan relies on to skip it (a paid item that was reopened and paid again settles on the
later date).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from dunwell.core.models import Company

CHUNK = 500

ITEM_OPEN = """
UPDATE ledger_openitem SET open_minor = amount_minor - COALESCE(
    (SELECT SUM(a.amount_minor) FROM ledger_allocation a WHERE a.target_id = ledger_openitem.id), 0)
WHERE {where}"""
ITEM_SETTLED = """
UPDATE ledger_openitem SET settled_on = CASE WHEN open_minor = 0 THEN
    (SELECT MAX(a.effective_on) FROM ledger_allocation a WHERE a.target_id = ledger_openitem.id)
    ELSE NULL END
WHERE {where}"""
ALLOCATION_COPY = """
UPDATE ledger_allocation SET
    target_settled_on = (SELECT i.settled_on FROM ledger_openitem i WHERE i.id = ledger_allocation.target_id),
    target_due_on = CASE WHEN (SELECT i.has_instalments FROM ledger_openitem i
                               WHERE i.id = ledger_allocation.target_id)
                    THEN target_due_on
                    ELSE (SELECT i.due_on FROM ledger_openitem i WHERE i.id = ledger_allocation.target_id)
                    END
WHERE {where}"""
PAYMENT_OPEN = """
UPDATE ledger_payment SET unapplied_minor = CASE WHEN voided_on IS NOT NULL THEN 0 ELSE
    amount_minor - COALESCE((SELECT SUM(a.payment_amount_minor) FROM ledger_allocation a
                             WHERE a.payment_id = ledger_payment.id), 0) END
WHERE {where}"""
PAYMENT_SETTLED = """
UPDATE ledger_payment SET settled_on = CASE
    WHEN voided_on IS NOT NULL THEN voided_on
    WHEN unapplied_minor = 0 THEN
        (SELECT MAX(a.effective_on) FROM ledger_allocation a WHERE a.payment_id = ledger_payment.id)
    ELSE NULL END
WHERE {where}"""


def _run(statements: Sequence[str], where: str, params: Sequence[int]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.format(where=where), params)


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    unique = sorted(set(ids))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


def refresh_items(item_ids: Sequence[int]) -> None:
    for chunk in _chunks(item_ids):
        marks = ", ".join(["%s"] * len(chunk))
        _run((ITEM_OPEN, ITEM_SETTLED), f"id IN ({marks})", chunk)
        _run((ALLOCATION_COPY,), f"target_id IN ({marks})", chunk)


def refresh_payments(payment_ids: Sequence[int]) -> None:
    for chunk in _chunks(payment_ids):
        marks = ", ".join(["%s"] * len(chunk))
        _run((PAYMENT_OPEN, PAYMENT_SETTLED), f"id IN ({marks})", chunk)


def refresh_company(company: Company) -> None:
    """Recompute every stored balance of a company (after a bulk load, or to repair drift)."""
    _run((ITEM_OPEN, ITEM_SETTLED), "company_id = %s", [company.pk])
    _run((ALLOCATION_COPY,), "company_id = %s", [company.pk])
    _run((PAYMENT_OPEN, PAYMENT_SETTLED), "company_id = %s", [company.pk])
