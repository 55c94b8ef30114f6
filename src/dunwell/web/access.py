"""Who may see which company, in which role: the current company of a request and the view guard.

A user works in the companies they hold a membership of (superusers in all, as administrators).
The current one is chosen with `?company=<id>` (remembered in the session) and defaults to the
first. Every page resolves it through `company_view`, and fetches single records through the
`access_*` helpers, which 404 for another company's records (invariant 3: company scoping).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from dunwell.core.models import Company, Membership, Role
from dunwell.ledger.models import Customer, OpenItem
from dunwell.ledger.queries import customers_for, items_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

SESSION_KEY = "dunwell_company"

# Least to most power; a view's `min_role` admits its own rank and every one above it.
RANK: dict[str, int] = {Role.VIEWER: 0, Role.COLLECTOR: 1, Role.CREDIT_MANAGER: 2, Role.ADMIN: 3}


class CompanyRequest(HttpRequest):
    """A request that went through `company_view` (for type checking only)."""

    company: Company
    role: Role


def companies_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Company]:
    if not user.is_authenticated:
        return Company.objects.none()
    if getattr(user, "is_superuser", False):
        return Company.objects.all()
    return Company.objects.filter(memberships__user_id=user.pk)


def company_for(request: HttpRequest) -> Company:
    """The company the request works in; 404 when the user may not see the one asked for."""
    companies = companies_for(request.user)
    asked = request.GET.get("company", "")
    if asked:
        company = companies.filter(pk=asked).first() if asked.isdigit() else None
        if company is None:
            raise Http404("no such company")
        request.session[SESSION_KEY] = company.pk
        return company
    remembered = request.session.get(SESSION_KEY)
    company = companies.filter(pk=remembered).first() if remembered else None
    company = company or companies.first()
    if company is None:
        raise Http404("you are not a member of any company")
    return company


def role_for(user: AbstractBaseUser | AnonymousUser, company: Company) -> Role | None:
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    if user.pk is None:
        return None
    role = (
        Membership.objects.filter(user_id=user.pk, company=company)
        .values_list("role", flat=True)
        .first()
    )
    return Role(role) if role else None


def has_role(role: Role | None, min_role: Role) -> bool:
    return role is not None and RANK[role] >= RANK[min_role]


def company_view(
    min_role: Role = Role.VIEWER,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Require login, set `request.company` and `request.role`, 403 below `min_role`."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            company = company_for(request)
            role = role_for(request.user, company)
            if not has_role(role, min_role):
                raise PermissionDenied
            scoped = cast("CompanyRequest", request)
            scoped.company = company
            scoped.role = cast("Role", role)
            return view(scoped, *args, **kwargs)

        return login_required(wrapper)

    return decorate


def access_customer(request: CompanyRequest, customer_id: int) -> Customer:
    queryset = customers_for(request.company).select_related(
        "company", "owner", "payment_term", "parent"
    )
    return get_object_or_404(queryset, pk=customer_id)


def access_item(request: CompanyRequest, item_id: int) -> OpenItem:
    queryset = items_for(request.company).select_related(
        "customer", "customer__parent", "payment_term", "related"
    )
    return get_object_or_404(queryset, pk=item_id)
