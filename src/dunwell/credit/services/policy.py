"""The credit policy at work (../shared/DOMAIN.md §6.2): a customer whose exposure is over its
limit, or who has an undisputed invoice more than N days past due, is put on credit hold by
itself; when neither holds any more (it paid, its limit was raised, an invoice went into
dispute), the hold the policy placed is released by itself, the reason saying which.

Holds placed by a person (or by a dunning step, or an insolvency) are never released here. A
person who releases a policy hold overrides the policy for a while (`CreditPolicy.override_days`,
recorded on the hold as `override_until`): the check places no hold on that customer until then.
Re-running the check on the same day changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction

from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.credit.models import CreditHold, CreditPolicy
from dunwell.credit.services.exposure import Exposure, exposures
from dunwell.credit.services.holds import POLICY_SOURCE, place_credit_hold, release_credit_hold
from dunwell.ledger.models import Customer


def policy_of(company: Company) -> CreditPolicy:
    """The company's policy, or the defaults (not saved)."""
    return CreditPolicy.objects.filter(company=company).first() or CreditPolicy(company=company)


def reasons_to_hold(exposure: Exposure, policy: CreditPolicy) -> list[str]:
    """Why the policy holds this customer (empty: it does not)."""
    reasons = []

    def money(minor: int) -> str:
        return str(Money.from_minor(minor, exposure.currency))

    if policy.hold_over_limit and exposure.over_limit_minor > 0:
        reasons.append(f"exposure {money(exposure.total_minor)} is over the limit "
                       f"{money(exposure.limit_minor or 0)} by "
                       f"{money(exposure.over_limit_minor)}")  # fmt: skip
    if policy.hold_after_days is not None and exposure.oldest_days > policy.hold_after_days:
        reasons.append(f"an undisputed invoice is {exposure.oldest_days} days past due "
                       f"(the policy holds after {policy.hold_after_days})")  # fmt: skip
    return reasons


@dataclass
class CheckReport:
    placed: list[tuple[str, str]] = field(default_factory=list)  # (account, why)
    released: list[tuple[str, str]] = field(default_factory=list)
    overridden: list[str] = field(default_factory=list)  # would be held, a person said no

    def as_dict(self) -> dict[str, object]:
        return {"placed": [{"customer": a, "reason": r} for a, r in self.placed],
                "released": [{"customer": a, "reason": r} for a, r in self.released],
                "overridden": self.overridden}  # fmt: skip


def check_credit(
    *, company: Company, on: date, at: datetime, customer_ids: Iterable[int] | None = None
) -> CheckReport:
    """Place and release the policy's holds for the company (or the customers given)."""
    policy = policy_of(company)
    found = exposures(company, on, customer_ids)
    holds = CreditHold.objects.filter(company=company, released_on__isnull=True)
    held = dict(holds.values_list("customer_id", "source"))
    overrides = set(
        CreditHold.objects.filter(company=company, override_until__gte=on).values_list(
            "customer_id", flat=True
        )
    )
    report = CheckReport()
    to_place: dict[int, str] = {}
    to_release: list[int] = []
    for customer_id, exposure in found.items():
        reasons = reasons_to_hold(exposure, policy)
        if reasons and customer_id not in held:
            if customer_id in overrides:
                to_place.setdefault(customer_id, "")  # noted below, not placed
            else:
                to_place[customer_id] = "; ".join(reasons)
        elif not reasons and held.get(customer_id) == POLICY_SOURCE:
            to_release.append(customer_id)
    if not to_place and not to_release:
        return report
    customers = Customer.objects.in_bulk([*to_place, *to_release])
    release_reason = "the credit policy no longer holds: within the limit and nothing past due " \
        "beyond its days"  # fmt: skip
    with transaction.atomic():
        for customer_id, why in sorted(to_place.items()):
            customer = customers[customer_id]
            if not why:
                report.overridden.append(customer.account_number)
                continue
            place_credit_hold(company=company, customer=customer, on=on, at=at, reason=why,
                              source=POLICY_SOURCE)  # fmt: skip
            report.placed.append((customer.account_number, why))
        for customer_id in sorted(to_release):
            customer = customers[customer_id]
            release_credit_hold(company=company, customer=customer, on=on, at=at,
                                reason=release_reason, actor=None)  # fmt: skip
            report.released.append((customer.account_number, release_reason))
    return report
