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
from typing import Any

from django.db import connection

from dunwell.core.lookups import ids_in
from dunwell.core.models import Company

CHUNK = 500

# Each row is written once (a row written twice costs PostgreSQL a second version and a second
# entry in each of the table's indexes): the open amount and the settlement date are computed
# together, from the allocations as they are.
ITEM_SUM = (
    "(SELECT SUM(a.amount_minor) FROM ledger_allocation a WHERE a.target_id = ledger_openitem.id)"
)
ITEM_BALANCE = f"""
UPDATE ledger_openitem SET
    open_minor = amount_minor - COALESCE({ITEM_SUM}, 0),
    settled_on = CASE WHEN amount_minor - COALESCE({ITEM_SUM}, 0) = 0 THEN
        (SELECT MAX(a.effective_on) FROM ledger_allocation a WHERE a.target_id = ledger_openitem.id)
        ELSE NULL END
WHERE {{where}}"""
ALLOCATION_COPY = """
UPDATE ledger_allocation SET
    target_settled_on = (SELECT i.settled_on FROM ledger_openitem i WHERE i.id = ledger_allocation.target_id),
    target_due_on = CASE WHEN (SELECT i.has_instalments FROM ledger_openitem i
                               WHERE i.id = ledger_allocation.target_id)
                    THEN target_due_on
                    ELSE (SELECT i.due_on FROM ledger_openitem i WHERE i.id = ledger_allocation.target_id)
                    END
WHERE {where}"""
PAYMENT_SUM = "(SELECT SUM(a.payment_amount_minor) FROM ledger_allocation a WHERE a.payment_id = ledger_payment.id)"
PAYMENT_BALANCE = f"""
UPDATE ledger_payment SET
    unapplied_minor = CASE WHEN voided_on IS NOT NULL THEN 0
                      ELSE amount_minor - COALESCE({PAYMENT_SUM}, 0) END,
    settled_on = CASE
        WHEN voided_on IS NOT NULL THEN voided_on
        WHEN amount_minor - COALESCE({PAYMENT_SUM}, 0) = 0 THEN
            (SELECT MAX(a.effective_on) FROM ledger_allocation a WHERE a.payment_id = ledger_payment.id)
        ELSE NULL END
WHERE {{where}}"""


def _run(statements: Sequence[str], where: str, params: Sequence[Any]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.format(where=where), params)


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    unique = sorted(set(ids))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


def refresh_items(item_ids: Sequence[int]) -> None:
    for chunk in _chunks(item_ids):
        _run((ITEM_BALANCE,), *ids_in(connection.vendor, "id", chunk))
        _run((ALLOCATION_COPY,), *ids_in(connection.vendor, "target_id", chunk))


def refresh_payments(payment_ids: Sequence[int]) -> None:
    for chunk in _chunks(payment_ids):
        _run((PAYMENT_BALANCE,), *ids_in(connection.vendor, "id", chunk))


def refresh_company(company: Company) -> None:
    """Recompute every stored balance of a company (after a bulk load, or to repair drift)."""
    _run((ITEM_BALANCE,), "company_id = %s", [company.pk])
    _run((ALLOCATION_COPY,), "company_id = %s", [company.pk])
    _run((PAYMENT_BALANCE,), "company_id = %s", [company.pk])
