"""The security log: sign-ins, lock-outs, two-factor set-ups and who may do what (issue 6).

`record` writes one `AuditEvent`; the web layer calls it from the sign-in signals with the
request's address and browser (`web.audit`), the services from every change of access. When the
user works in exactly one company, that company is stored too, so that its administrators see
the event on their audit page (`company_events`).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from dunwell.core.models import AuditEvent, AuditKind, Company, Membership

USER_AGENT_MAX = 300
DETAIL_MAX = 500


def record(
    kind: AuditKind,
    *,
    at: datetime,
    user: User | None = None,
    username: str = "",
    company: Company | None = None,
    actor: User | None = None,
    ip: str | None = None,
    user_agent: str = "",
    detail: str = "",
) -> AuditEvent:
    if company is None and user is not None:
        companies = list(Membership.objects.filter(user=user).values_list("company_id", flat=True))
        company_id = companies[0] if len(companies) == 1 else None
    else:
        company_id = company.pk if company is not None else None
    return AuditEvent.objects.create(
        at=at,
        kind=kind,
        user=user,
        username=(user.get_username() if user is not None else username)[:150],
        company_id=company_id,
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        ip=ip or None,
        user_agent=user_agent[:USER_AGENT_MAX],
        detail=detail[:DETAIL_MAX],
    )


def company_events(company: Company) -> QuerySet[AuditEvent]:
    """What a company's administrators see: the events filed under the company and those of the
    people who work in it now that no company was named for (a sign-in of someone with two
    companies is in both logs; a role in another company is not)."""
    members = Membership.objects.filter(company=company).values("user_id")
    return AuditEvent.objects.filter(Q(company=company) | Q(company=None, user_id__in=members))
