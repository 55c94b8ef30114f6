"""Creating dunning policies and their steps, assigning them, and the company's default ladder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.dunning.models import Channel, CustomerPolicy, ItemPolicy, Policy, PolicyRule, Step
from dunwell.dunning.rules.steps import StepError, StepRule, check_steps
from dunwell.ledger.models import ContactRole, Customer, OpenItem
from dunwell.terms.rules.fees import LateFee


@dataclass(frozen=True)
class StepSpec:
    name: str
    template: str
    channels: tuple[str, ...]
    offset_days: int = 0
    after_previous_days: int | None = None
    recipient_roles: tuple[str, ...] = (ContactRole.AP_CLERK.value,)
    cc_roles: tuple[str, ...] = field(default=())
    min_overdue_minor: int = 0
    needs_approval: bool = False
    fee: LateFee | None = None
    charge_interest: bool = False


AP = ContactRole.AP_CLERK.value
MANAGER = ContactRole.AP_MANAGER.value
DIRECTOR = ContactRole.FINANCE_DIRECTOR.value
OWNER = ContactRole.OWNER.value

# The ladder a company starts with: friendly before the due date, firm after, a letter before
# action only when a person has approved it.
STANDARD = (
    StepSpec("Courtesy reminder", "courtesy", ("email",), offset_days=-3),
    StepSpec("First reminder", "friendly", ("email",), offset_days=7),
    StepSpec("Second reminder", "firm", ("email", "call"), offset_days=21, cc_roles=(MANAGER,)),
    StepSpec("Final demand", "final", ("email", "letter"), offset_days=35,
             recipient_roles=(MANAGER, DIRECTOR), cc_roles=(AP,), needs_approval=True),
    StepSpec("Letter before action", "before_action", ("letter", "hold", "agency"),
             offset_days=50, recipient_roles=(DIRECTOR, OWNER), needs_approval=True),
)  # fmt: skip


@transaction.atomic
def create_policy(
    *,
    company: Company,
    name: str,
    steps: tuple[StepSpec, ...],
    at: datetime,
    is_default: bool = False,
    min_gap_days: int = 5,
) -> Policy:
    """A named policy with its ordered steps; refused when a step cannot be followed."""
    if Policy.objects.filter(company=company, name=name).exists():
        raise DunwellError(ErrorCode.DUPLICATE, f"a policy named {name!r} exists", field="name")
    rules = [StepRule(i, s.offset_days, s.after_previous_days) for i, s in enumerate(steps, 1)]
    try:
        check_steps(rules)
    except StepError as error:
        raise DunwellError(ErrorCode.INVALID, f"{name}: {error}", field="steps") from None
    for number, spec in enumerate(steps, start=1):
        _check_step(name, number, spec)
    if is_default:
        Policy.objects.filter(company=company, is_default=True).update(is_default=False)
    policy = Policy.objects.create(
        company=company, name=name, is_default=is_default, min_gap_days=min_gap_days, created_at=at
    )
    Step.objects.bulk_create(
        Step(
            policy=policy,
            sequence=number,
            name=spec.name,
            offset_days=spec.offset_days,
            after_previous_days=spec.after_previous_days,
            channels=list(spec.channels),
            recipient_roles=list(spec.recipient_roles),
            cc_roles=list(spec.cc_roles),
            template=spec.template,
            min_overdue_minor=spec.min_overdue_minor,
            needs_approval=spec.needs_approval,
            fee_fixed_minor=spec.fee.fixed_minor if spec.fee else 0,
            fee_percent=spec.fee.percent if spec.fee else None,
            fee_min_minor=spec.fee.minimum_minor if spec.fee else 0,
            fee_max_minor=spec.fee.maximum_minor if spec.fee else None,
            charge_interest=spec.charge_interest,
        )
        for number, spec in enumerate(steps, start=1)
    )
    return policy


def _check_step(policy: str, number: int, spec: StepSpec) -> None:
    where = f"{policy}, step {number} ({spec.name})"
    unknown = set(spec.channels) - set(Channel.values)
    if not spec.channels or unknown:
        expected = ", ".join(Channel.values)
        raise DunwellError(ErrorCode.INVALID, f"{where}: channels must be among {expected}",
                           field="channels")  # fmt: skip
    roles = set(spec.recipient_roles) | set(spec.cc_roles)
    if roles - set(ContactRole.values):
        expected = ", ".join(ContactRole.values)
        raise DunwellError(ErrorCode.INVALID, f"{where}: roles must be among {expected}",
                           field="recipient_roles")  # fmt: skip
    if {"email", "letter"} & set(spec.channels) and not spec.recipient_roles:
        raise DunwellError(ErrorCode.INVALID, f"{where}: a message needs recipient roles",
                           field="recipient_roles")  # fmt: skip
    if spec.min_overdue_minor < 0:
        raise DunwellError(ErrorCode.INVALID, f"{where}: a minimum cannot be negative",
                           field="min_overdue_minor")  # fmt: skip


def ensure_default_policy(company: Company, at: datetime) -> Policy:
    """The company's default policy, the standard ladder when it has none yet."""
    found = Policy.objects.filter(company=company, is_default=True).first()
    if found is not None:
        return found
    return create_policy(company=company, name="Standard", steps=STANDARD, at=at, is_default=True)


def assign_customer(customer: Customer, policy: Policy | None) -> None:
    """Dun this customer under `policy` (None: back to the rules and the default)."""
    _same_company(customer.company_id, policy)
    if policy is None:
        CustomerPolicy.objects.filter(customer=customer).delete()
    else:
        CustomerPolicy.objects.update_or_create(customer=customer, defaults={"policy": policy})


def assign_item(item: OpenItem, policy: Policy | None) -> None:
    _same_company(item.company_id, policy)
    if policy is None:
        ItemPolicy.objects.filter(item=item).delete()
    else:
        ItemPolicy.objects.update_or_create(item=item, defaults={"policy": policy})


def add_rule(
    *,
    policy: Policy,
    priority: int = 100,
    segment: str = "",
    tag: str = "",
    country: str = "",
    min_open_minor: int | None = None,
) -> PolicyRule:
    if not (segment or tag or country or min_open_minor is not None):
        raise DunwellError(ErrorCode.INVALID, "a rule needs a segment, tag, country or amount")
    return PolicyRule.objects.create(
        company_id=policy.company_id,
        policy=policy,
        priority=priority,
        segment=segment,
        tag=tag,
        country=country.upper(),
        min_open_minor=min_open_minor,
    )


def _same_company(company_id: int, policy: Policy | None) -> None:
    if policy is not None and policy.company_id != company_id:
        raise DunwellError(ErrorCode.INVALID, "the policy belongs to another company")


@transaction.atomic
def set_escalation_steps(
    *, policy: Policy, broken_promise_step: int | None, plan_default_step: int | None
) -> Policy:
    """The steps a broken promise and a defaulted plan send on the next run (None: the step
    after the highest the items reached)."""
    count = Step.objects.filter(policy=policy).count()
    for name, value in (("broken_promise_step", broken_promise_step),
                        ("plan_default_step", plan_default_step)):  # fmt: skip
        if value is not None and not 1 <= value <= count:
            raise DunwellError(ErrorCode.INVALID, f"{name} {value}: {policy.name} has steps 1 to "
                               f"{count}", field=name)  # fmt: skip
    Policy.objects.filter(pk=policy.pk).update(
        broken_promise_step=broken_promise_step, plan_default_step=plan_default_step
    )
    policy.refresh_from_db()
    return policy
