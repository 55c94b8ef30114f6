"""Credit on the customer page (issue 7 point 2): the exposure against the limit, the risk score
with why, the limit's history, and the limit set by a credit manager with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.models import Role
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.credit.models import CreditLimitChange, RiskScore
from dunwell.credit.services.exposure import Exposure, exposures
from dunwell.credit.services.limits import set_limit
from dunwell.ledger.models import Customer
from dunwell.web.access import CompanyRequest, access_customer, company_view, has_role

CHANGES_SHOWN = 5


@dataclass(frozen=True)
class CreditSection:
    exposure: Exposure
    utilisation_percent: int | None
    score: RiskScore | None
    changes: list[CreditLimitChange]
    can_set: bool
    limit_text: str  # the limit as the form shows it, "25000.00" ("" without one)


def credit_section(customer: Customer, request: Any) -> CreditSection:
    company = request.company
    exposure = exposures(company, clock.today(company), [customer.pk])[customer.pk]
    share = exposure.utilisation
    changes = list(CreditLimitChange.objects.filter(customer=customer).select_related("by")
                   .order_by("-on", "-pk")[:CHANGES_SHOWN])  # fmt: skip
    return CreditSection(exposure, None if share is None else round(share * 100),
                         RiskScore.objects.filter(customer=customer).first(), changes,
                         has_role(request.role, Role.CREDIT_MANAGER),
                         "" if customer.credit_limit_minor is None else
                         str(Money.from_minor(customer.credit_limit_minor, customer.currency).amount))  # fmt: skip


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def set_credit_limit(request: CompanyRequest, customer_id: int) -> HttpResponse:
    found = access_customer(request, customer_id)
    text = request.POST.get("limit", "").strip()
    try:
        minor = Money(parse_amount(text), found.currency).minor if text else None
        set_limit(company=request.company, customer=found, limit_minor=minor,
                  reason=request.POST.get("reason", ""), actor=request.user,  # type: ignore[arg-type]
                  on=clock.today(request.company), at=clock.now())  # fmt: skip
    except MoneyError as error:
        flash.error(request, gettext("Credit limit %(text)s: %(error)s") % {"text": repr(text),
                                                                          "error": error})  # fmt: skip
    except DunwellError as error:
        flash.error(request, error.message)
    else:
        limit = (
            str(Money.from_minor(minor, found.currency))
            if minor is not None
            else gettext("no limit")
        )
        flash.success(request, gettext("%(customer)s: credit limit %(limit)s") % {
            "customer": found, "limit": limit})  # fmt: skip
    return redirect("web:customer", customer_id=found.pk)
