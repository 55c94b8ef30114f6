"""A generated ledger of paid and open invoices for the prediction tests, written in bulk.

Each customer pays with its own habit (a lateness of its own plus a little noise, later in
summer for some), each invoice by one payment; the stored balances are then computed by
`refresh_company`, as after an import. Seeded: the same arguments give the same ledger.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from dunwell.core.models import Company
from dunwell.ledger.models import Allocation, Customer, OpenItem, Payment
from dunwell.ledger.services.balances import refresh_company


def build(company: Company, *, customers: int, invoices: int, start: date, days: int,
          until: date, seed: int = 1) -> None:  # fmt: skip
    """`invoices` invoices issued over `days` days from `start`, paid by `until` if their
    payment day comes by then, open otherwise."""
    rng = random.Random(seed)
    people = Customer.objects.bulk_create(
        Customer(company=company, account_number=f"G{n:04d}", legal_name=f"Generated {n}",
                 currency="EUR", segment=rng.choice(["Small", "Large"]), country="DE")
        for n in range(customers)
    )  # fmt: skip
    habits = [(rng.choice([-2, 0, 3, 12, 30]), rng.random() < 0.3) for _ in people]
    items, payments, allocations = [], [], []
    for n in range(invoices):
        who = int(customers * rng.random() ** 1.3)
        issued = start + timedelta(days=rng.randrange(days))
        due = issued + timedelta(days=rng.choice([14, 30]))
        amount = rng.randint(100_00, 5_000_00)
        item = OpenItem(company=company, customer=people[who], number=f"GEN-{n:05d}",
                        issued_on=issued, due_on=due, currency="EUR", amount_minor=amount,
                        open_minor=amount)  # fmt: skip
        items.append(item)
        base, summer = habits[who]
        late = base + rng.randint(-3, 3) + (20 if summer and due.month in (6, 7, 8) else 0)
        paid_on = max(issued + timedelta(days=1), due + timedelta(days=late))
        if paid_on > until:
            continue
        payment = Payment(company=company, customer=people[who], external_id=f"GENPAY-{n:05d}",
                          value_on=paid_on, currency="EUR", amount_minor=amount,
                          unapplied_minor=amount)  # fmt: skip
        payments.append(payment)
        allocations.append((item, payment))
    OpenItem.objects.bulk_create(items)
    Payment.objects.bulk_create(payments)
    Allocation.objects.bulk_create(
        Allocation(
            company=company,
            customer=item.customer,
            currency="EUR",
            target=item,
            kind="payment",
            amount_minor=item.amount_minor,
            payment=payment,
            payment_amount_minor=item.amount_minor,
            effective_on=payment.value_on,
            recorded_at=datetime.combine(payment.value_on, time(12), tzinfo=UTC),
            target_due_on=item.due_on,
        )
        for item, payment in allocations
    )
    refresh_company(company)
