"""`{% plans_section customer request as section %}`: the customer page's payment plans section
reads its own rows, so that the section is one include line on the page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template

from dunwell.cases.models import InstalmentState, PaymentPlan, PlanInstalment
from dunwell.core.models import Role
from dunwell.ledger.models import Customer
from dunwell.web.access import has_role
from dunwell.web.plan_views import SCHEDULE, plannable

register = template.Library()

SHOWN = 20


@dataclass(frozen=True)
class PlanRow:
    plan: PaymentPlan
    numbers: str
    paid_minor: int
    next_due: PlanInstalment | None


@dataclass(frozen=True)
class Section:
    rows: list[PlanRow]
    can_agree: bool
    has_items: bool  # open items a plan may cover: the form's picker lists them when opened
    schedule_rows: range = SCHEDULE


@register.simple_tag
def plans_section(customer: Customer, request: Any) -> Section:
    plans = PaymentPlan.objects.filter(customer=customer).prefetch_related(
        "covered__item", "instalments"
    )[:SHOWN]
    rows = []
    for plan in plans:
        instalments = sorted(plan.instalments.all(), key=lambda i: i.sequence)
        rows.append(PlanRow(
            plan, ", ".join(sorted(c.item.number for c in plan.covered.all())),
            sum(i.paid_minor for i in instalments),
            next((i for i in instalments if i.state != InstalmentState.PAID), None),
        ))  # fmt: skip
    can_agree = has_role(getattr(request, "role", None), Role.COLLECTOR)
    return Section(rows, can_agree, can_agree and plannable(customer).exists())
