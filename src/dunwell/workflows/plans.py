"""Payment plans across cases and dunning, each use-case one transaction.

- `agree_plan`: the plan (`cases.services.plans.agree_plan`) and, with it, the customer's
  reminders still waiting in the outbox that demand only covered items are withdrawn.
- `instalments_due`: the daily decision for plans: missed instalments default their plans, with
  an escalation for the next dunning run and an alert for the customer's owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction

from dunwell.cases.models import PaymentPlan
from dunwell.cases.services import plans
from dunwell.core.models import Company
from dunwell.dunning.services.withdrawals import withdraw_pending


@dataclass(frozen=True)
class Agreed:
    plan: PaymentPlan
    held_back: list[int]  # outbox messages withdrawn


@transaction.atomic
def agree_plan(**arguments: Any) -> Agreed:
    """The keywords of `cases.services.plans.agree_plan`."""
    plan = plans.agree_plan(**arguments)
    held = withdraw_pending(customer=plan.customer,
                            item_ids=set(plan.covered.values_list("item_id", flat=True)),
                            reason=f"payment plan {plan.pk} agreed", actor=arguments["actor"],
                            on=arguments["on"], at=arguments["at"])  # fmt: skip
    return Agreed(plan, held)


@transaction.atomic
def instalments_due(*, company: Company, on: date, at: datetime) -> list[PaymentPlan]:
    """Missed instalments, defaulted plans, escalations and alerts of `on`; the plans defaulted."""
    return plans.decide_due(company=company, on=on, at=at)
