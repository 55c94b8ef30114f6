"""The dunning pages: the outbox, one message with its text, approvals, runs and policies.

The lists search, filter, sort and page in SQL (`web.listing`); their forms here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages as flash
from django.db.models import F, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from dunwell.cases.models import TaskState
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
from dunwell.web.listing import FilterForm, back_query, date_field, paged
from dunwell.web.worklist_views import collectors

ANY = [("", _("Any"))]
OUTBOX_SORTS = {
    "date": ("business_date", "pk"),
    "-date": ("-business_date", "-pk"),
    "customer": ("customer__legal_name", "customer__account_number", "pk"),
    "-customer": ("-customer__legal_name", "-customer__account_number", "-pk"),
    "channel": ("channel", "-business_date", "pk"),
    "-channel": ("-channel", "-business_date", "-pk"),
    "status": ("status", "-business_date", "pk"),
    "-status": ("-status", "-business_date", "-pk"),
}
CALL_SORTS = {
    "date": ("business_date", "pk"),
    "-date": ("-business_date", "-pk"),
    "customer": ("customer__legal_name", "business_date", "pk"),
    "-customer": ("-customer__legal_name", "business_date", "pk"),
    # no one's last either way (SQLite and PostgreSQL would put them at different ends)
    "assignee": (F("assignee__username").asc(nulls_last=True), "business_date", "pk"),
    "-assignee": (F("assignee__username").desc(nulls_last=True), "business_date", "pk"),
}
TASK_SORTS = {
    "due": ("due_on", "pk"),
    "-due": ("-due_on", "-pk"),
    "customer": ("customer__legal_name", "due_on", "pk"),
    "-customer": ("-customer__legal_name", "due_on", "pk"),
    "assignee": (F("assignee__username").asc(nulls_last=True), "due_on", "pk"),
    "-assignee": (F("assignee__username").desc(nulls_last=True), "due_on", "pk"),
}
APPROVAL_SORTS = {
    "date": ("run__business_date", "pk"),
    "-date": ("-run__business_date", "-pk"),
    "customer": ("customer__legal_name", "currency", "pk"),
    "-customer": ("-customer__legal_name", "currency", "pk"),
    "step": ("step", "run__business_date", "pk"),
    "-step": ("-step", "run__business_date", "pk"),
}
RUN_SORTS = {"date": ("business_date", "pk"), "-date": ("-business_date", "-pk")}
DECISION_SORTS = {
    "customer": ("customer__account_number", "currency", "pk"),
    "-customer": ("-customer__account_number", "currency", "pk"),
    "step": ("step", "customer__account_number", "pk"),
    "-step": ("-step", "customer__account_number", "pk"),
    "outcome": ("outcome", "customer__account_number", "pk"),
    "-outcome": ("-outcome", "customer__account_number", "pk"),
}


def _customer_q(q: str) -> Q:
    return Q(customer__legal_name__icontains=q) | Q(customer__account_number__icontains=q)


class OutboxFilterForm(FilterForm):
    q = forms.CharField(required=False, max_length=100, label=_("Search"))
    status = forms.ChoiceField(required=False, label=_("Status"),
                               choices=ANY + MessageStatus.choices)  # fmt: skip
    channel = forms.ChoiceField(required=False, label=_("Channel"), choices=ANY + Channel.choices)
    date = date_field(_("Business date"))

    def filter(self, rows: QuerySet[Message]) -> QuerySet[Message]:
        if q := self.value("q").strip():
            rows = rows.filter(_customer_q(q))
        if self.value("status"):
            rows = rows.filter(status=self.value("status"))
        if self.value("channel"):
            rows = rows.filter(channel=self.value("channel"))
        if self.value("date"):
            rows = rows.filter(business_date=self.value("date"))
        return rows


@company_view()
def outbox(request: CompanyRequest) -> HttpResponse:
    form = OutboxFilterForm(request.GET)
    rows = Message.objects.filter(company=request.company).select_related("customer", "policy")
    listing = paged(request, form.filter(rows), sorts=OUTBOX_SORTS, default="-date")
    return render(request, "web/dunning/outbox.html", {"form": form, "outbox": listing})


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


class TaskFilterForm(FilterForm):
    """Whose (the user's own unless asked), due when, which customer; the case tasks' state."""

    who = forms.ChoiceField(required=False, label=_("Whose"))
    q = forms.CharField(required=False, max_length=100, label=_("Customer"))
    due_from = date_field(_("Due from"))
    due_to = date_field(pgettext_lazy("a range of dates", "to"))
    state = forms.ChoiceField(required=False, label=_("State of the tasks"),
                              choices=[*TaskState.choices, ("any", _("Any"))])  # fmt: skip

    def __init__(self, *args: Any, people: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["who"]
        if isinstance(field, forms.ChoiceField):  # it is: narrowed for the type checker
            field.choices = [("mine", _("mine")), ("unassigned", _("unassigned")),
                             ("all", _("everyone's")), *people]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.check_range("due_from", "due_to")
        return data

    def whose(self) -> str:
        return str(self.value("who") or "mine")

    def filter(self, rows: QuerySet[Any], due: str) -> QuerySet[Any]:
        if q := self.value("q").strip():
            rows = rows.filter(_customer_q(q))
        if self.value("due_from"):
            rows = rows.filter(**{f"{due}__gte": self.value("due_from")})
        if self.value("due_to"):
            rows = rows.filter(**{f"{due}__lte": self.value("due_to")})
        return rows


@company_view()
def tasks(request: CompanyRequest) -> HttpResponse:
    """Calls and tasks waiting for a person: the user's own first (`?who=all` for everyone's); the
    steps' call tasks, and beside them the case tasks (by hand, follow-ups, alerts), each list
    sorted and paged on its own (the case tasks' parameters start with a `t`)."""
    people = [(str(u.pk), u.get_username()) for u in collectors(request)]
    form = TaskFilterForm(request.GET, people=people)
    who = form.whose()
    rows = Message.objects.filter(
        company=request.company, channel__in=TASK_CHANNELS, status=MessageStatus.PENDING
    ).select_related("customer", "decision", "assignee")
    if who == "mine":
        rows = rows.filter(assignee_id=request.user.pk)
    elif who == "unassigned":
        rows = rows.filter(assignee__isnull=True)
    elif who.isdigit():
        rows = rows.filter(assignee_id=int(who))
    calls = paged(request, form.filter(rows, "business_date"), sorts=CALL_SORTS, default="date")
    state = form.value("state") or TaskState.OPEN
    own = form.filter(case_tasks(request, who, "" if state == "any" else state), "due_on")
    listed = paged(request, own, sorts=TASK_SORTS, default="due", prefix="t")
    customer_ids = {m.customer_id for m in calls.page} | {t.customer_id for t in listed.page}
    phones: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(customer_id__in=customer_ids).exclude(phone=""):
        phones.setdefault(contact.customer_id, []).append(contact)
    context = {
        "form": form,
        "calls": calls,
        "listed": listed,
        "who": who,
        "state": state,
        "tasks": [
            (m, task_name(m), phones.get(m.customer_id, []), _overdue_total(m)) for m in calls.page
        ],
        "case_tasks": [(t, phones.get(t.customer_id, [])) for t in listed.page],
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
    return redirect(f"{reverse('web:dunning_tasks')}?{back_query(request.POST.get('query', ''))}")


class ApprovalFilterForm(FilterForm):
    """The steps that wait for a person (by default), or those a person approved or rejected."""

    STATES = {
        "waiting": Q(outcome=Outcome.APPROVAL),
        "approved": Q(outcome=Outcome.SENT, decided_at__isnull=False),
        "rejected": Q(outcome=Outcome.REJECTED, decided_at__isnull=False),
    }
    state = forms.ChoiceField(required=False, label=_("State"), choices=[
        ("waiting", _("Awaiting approval")), ("approved", _("Approved")),
        ("rejected", _("Rejected")),
    ])  # fmt: skip
    q = forms.CharField(required=False, max_length=100, label=_("Customer"))

    def state_value(self) -> str:
        return str(self.value("state") or "waiting")

    def filter(self, rows: QuerySet[Decision]) -> QuerySet[Decision]:
        rows = rows.filter(self.STATES[self.state_value()])
        if q := self.value("q").strip():
            rows = rows.filter(_customer_q(q))
        return rows


@company_view()
def approvals(request: CompanyRequest) -> HttpResponse:
    form = ApprovalFilterForm(request.GET)
    rows = (
        Decision.objects.filter(company=request.company)
        .select_related("customer", "run", "policy", "decided_by")
        .prefetch_related("messages")
    )
    context = {
        "form": form,
        "decisions": paged(request, form.filter(rows), sorts=APPROVAL_SORTS, default="date"),
        "state": form.state_value(),
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
    query = back_query(request.POST.get("back", ""))
    return redirect(
        f"{reverse('web:dunning_approvals')}?{query}" if query else "web:dunning_approvals"
    )


@company_view()
def runs(request: CompanyRequest) -> HttpResponse:
    rows = Run.objects.filter(company=request.company)
    listing = paged(request, rows, sorts=RUN_SORTS, default="-date")
    return render(request, "web/dunning/runs.html", {"runs": listing})


class RunFilterForm(FilterForm):
    outcome = forms.ChoiceField(required=False, label=_("Outcome"), choices=ANY + Outcome.choices)
    q = forms.CharField(required=False, max_length=100, label=_("Customer"))


@company_view()
def run(request: CompanyRequest, run_id: int) -> HttpResponse:
    found = get_object_or_404(Run.objects.filter(company=request.company), pk=run_id)
    form = RunFilterForm(request.GET)
    decisions = found.decisions.select_related("customer", "policy")
    if form.value("outcome"):
        decisions = decisions.filter(outcome=form.value("outcome"))
    if q := form.value("q").strip():
        decisions = decisions.filter(_customer_q(q))
    context = {
        "run": found,
        "form": form,
        "decisions": paged(request, decisions, sorts=DECISION_SORTS, default="customer"),
    }
    return render(request, "web/dunning/run.html", context)


@company_view()
def policies(request: CompanyRequest) -> HttpResponse:
    rows = Policy.objects.filter(company=request.company).prefetch_related("steps", "rules")
    return render(request, "web/dunning/policies.html", {"policies": rows})
