"""The dunning pages: the outbox, one message with its text, approvals, runs and policies."""

from __future__ import annotations

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Role
from dunwell.dunning.models import (
    Channel,
    Decision,
    Message,
    MessageStatus,
    Outcome,
    Policy,
    Run,
    StatementCopy,
)
from dunwell.dunning.rendering import RenderError
from dunwell.dunning.rendering import render as render_message
from dunwell.dunning.rules.steps import listed
from dunwell.dunning.services.approvals import approve, reject
from dunwell.dunning.services.followups import complete_task, task_name
from dunwell.dunning.services.run import TASK_CHANNELS
from dunwell.ledger.models import Contact
from dunwell.web.access import CompanyRequest, company_view, has_role
from dunwell.web.call_views import case_tasks

PAGE_SIZE = 50


def _query_without_page(request: CompanyRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@company_view()
def outbox(request: CompanyRequest) -> HttpResponse:
    rows = Message.objects.filter(company=request.company).select_related("customer", "policy")
    status, channel = request.GET.get("status", ""), request.GET.get("channel", "")
    q, day = request.GET.get("q", "").strip(), request.GET.get("date", "")
    if status in MessageStatus.values:
        rows = rows.filter(status=status)
    if channel in Channel.values:
        rows = rows.filter(channel=channel)
    if q:
        rows = rows.filter(
            Q(customer__legal_name__icontains=q) | Q(customer__account_number__icontains=q)
        )
    if day:
        rows = rows.filter(business_date=day)
    page = Paginator(rows.order_by("-business_date", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "query": _query_without_page(request),
        "statuses": MessageStatus.choices,
        "channels": Channel.choices,
        "status": status,
        "channel": channel,
        "q": q,
        "date": day,
    }
    return render(request, "web/dunning/outbox.html", context)


@company_view()
def message(request: CompanyRequest, message_id: int) -> HttpResponse:
    found = get_object_or_404(
        Message.objects.filter(company=request.company).select_related(
            "customer", "policy", "decision", "decision__run", "company", "statement"
        ),
        pk=message_id,
    )
    language = request.GET.get("language", "")
    subject, body, error = found.subject, found.body, ""
    if found.status != MessageStatus.SENT or language:
        try:  # not sent yet (or another language asked for): a preview with today's data
            subject, body = render_message(found, language=language or None)
        except RenderError as exc:
            error = str(exc)
    context = {
        "message": found,
        "subject": subject,
        "body": body,
        "error": error,
        "preview": found.status != MessageStatus.SENT or bool(language),
        "language": language or found.language,
        "can_decide": found.decision.outcome == Outcome.APPROVAL
        and request.role in (Role.ADMIN, Role.CREDIT_MANAGER),
    }
    return render(request, "web/dunning/message.html", context)


@company_view()
def statement(request: CompanyRequest, message_id: int) -> HttpResponse:
    """The statement PDF exactly as the message carried it."""
    copy = get_object_or_404(
        StatementCopy, company=request.company, pk=Message.objects.filter(
            company=request.company, pk=message_id).values("statement_id")[:1],
    )  # fmt: skip
    response = HttpResponse(bytes(copy.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{copy.filename}"'
    return response


@company_view()
def tasks(request: CompanyRequest) -> HttpResponse:
    """Calls and tasks waiting for a person: the user's own first (`?who=all` for everyone's); the
    steps' call tasks (paged), and beside them the case tasks (by hand, follow-ups, alerts)."""
    who = request.GET.get("who", "mine")
    rows = (
        Message.objects.filter(
            company=request.company, channel__in=TASK_CHANNELS, status=MessageStatus.PENDING
        )
        .select_related("customer", "decision", "assignee")
        .order_by("business_date", "pk")
    )
    if who == "mine":
        rows = rows.filter(assignee_id=request.user.pk)
    elif who == "unassigned":
        rows = rows.filter(assignee__isnull=True)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    own = Paginator(case_tasks(request, who), PAGE_SIZE).get_page(request.GET.get("tpage"))
    customer_ids = {m.customer_id for m in page} | {t.customer_id for t in own}
    phones: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(customer_id__in=customer_ids).exclude(phone=""):
        phones.setdefault(contact.customer_id, []).append(contact)
    context = {
        "page": page,
        "query": _query_without_page(request),
        "who": who,
        "tasks": [
            (m, task_name(m), phones.get(m.customer_id, []), _overdue_total(m)) for m in page
        ],
        "case_tasks": [(t, phones.get(t.customer_id, [])) for t in own],
        "case_page": own,
        "today": clock.today(request.company),
        "can_do": has_role(request.role, Role.COLLECTOR),
    }
    return render(request, "web/dunning/tasks.html", context)


def _overdue_total(message: Message) -> int:
    return sum(row["open_minor"] for row in listed(message.decision.items))


@require_POST
@company_view(min_role=Role.COLLECTOR)
def task_done(request: CompanyRequest, message_id: int) -> HttpResponse:
    try:
        task = complete_task(company=request.company, message_id=message_id,
                             note=request.POST.get("note", ""), actor=request.user,  # type: ignore[arg-type]
                             on=clock.today(request.company), at=clock.now())  # fmt: skip
    except DunwellError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise Http404(error.message) from None
        flash.error(request, error.message)
    else:
        flash.success(request, f"{task.customer}: {task_name(task).lower()} done")
    return redirect(f"{reverse('web:dunning_tasks')}?{request.POST.get('query', '')}")


@company_view()
def approvals(request: CompanyRequest) -> HttpResponse:
    waiting = (
        Decision.objects.filter(company=request.company, outcome=Outcome.APPROVAL)
        .select_related("customer", "run", "policy")
        .prefetch_related("messages")
        .order_by("run__business_date", "pk")
    )
    context = {
        "decisions": waiting,
        "can_decide": request.role in (Role.ADMIN, Role.CREDIT_MANAGER),
    }
    return render(request, "web/dunning/approvals.html", context)


@require_POST
@company_view(min_role=Role.CREDIT_MANAGER)
def decide(request: CompanyRequest, decision_id: int) -> HttpResponse:
    decision = get_object_or_404(Decision.objects.filter(company=request.company), pk=decision_id)
    on, at = clock.today(request.company), clock.now()
    try:
        if request.POST.get("action") == "approve":
            released = approve(decision=decision, actor=request.user, on=on, at=at)  # type: ignore[arg-type]
            flash.success(request, f"{decision.customer}: step {decision.step} approved, "
                                   f"{released} message(s) released")  # fmt: skip
        else:
            reject(decision=decision, actor=request.user, on=on, at=at,  # type: ignore[arg-type]
                   reason=request.POST.get("reason", ""))  # fmt: skip
            flash.success(request, f"{decision.customer}: step {decision.step} rejected")
    except DunwellError as error:
        flash.error(request, error.message)
    return redirect("web:dunning_approvals")


@company_view()
def runs(request: CompanyRequest) -> HttpResponse:
    rows = Run.objects.filter(company=request.company).order_by("-business_date")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/dunning/runs.html", {"page": page, "query": ""})


@company_view()
def run(request: CompanyRequest, run_id: int) -> HttpResponse:
    found = get_object_or_404(Run.objects.filter(company=request.company), pk=run_id)
    outcome = request.GET.get("outcome", "")
    decisions = found.decisions.select_related("customer", "policy").order_by(
        "customer__account_number", "currency"
    )
    if outcome in Outcome.values:
        decisions = decisions.filter(outcome=outcome)
    page = Paginator(decisions, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "run": found,
        "page": page,
        "query": _query_without_page(request),
        "outcomes": Outcome.choices,
        "outcome": outcome,
    }
    return render(request, "web/dunning/run.html", context)


@company_view()
def policies(request: CompanyRequest) -> HttpResponse:
    rows = Policy.objects.filter(company=request.company).prefetch_related("steps", "rules")
    return render(request, "web/dunning/policies.html", {"policies": rows})
