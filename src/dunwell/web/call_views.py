"""The collector's daily tools on the customer page: log a call (outcome first, Enter submits),
add a note, make a task; and closing the case tasks listed at Dunning > Calls and tasks.

A call goes through the workflow (`workflows.calls.log_call`): it may answer the dunning step's
call task (`?task=ID` on the customer page, from the tasks list) and open the dispute it raised.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from dunwell.cases.models import (
    CallLog,
    CallOutcome,
    DisputeReason,
    Task,
    TaskKind,
    TaskState,
)
from dunwell.cases.services.calls import add_note, flagged_contacts
from dunwell.cases.services.tasks import cancel_task, complete_task, create_task
from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Membership, Role
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.dunning.models import Channel, Message, MessageStatus
from dunwell.ledger.models import Contact, Customer, ItemKind, OpenItem
from dunwell.web.access import CompanyRequest, access_customer, company_view, has_role
from dunwell.web.pickers import Picker, respond
from dunwell.workflows.calls import DisputeSpec, PromiseSpec, log_call

RECENT_CALLS = 10
BY_HAND_KINDS = [(k, label) for k, label in TaskKind.choices if k != TaskKind.ALERT]


class CallForm(forms.Form):
    contact: forms.ModelChoiceField[Contact] = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, label=_("Contact")
    )
    outcome = forms.ChoiceField(choices=CallOutcome.choices, label=_("Outcome"))
    note = forms.CharField(required=False, max_length=2000, label=_("Note"))
    next_action_on = forms.DateField(required=False, label=_("Next action"))
    task = forms.IntegerField(required=False, min_value=1)
    items: forms.ModelMultipleChoiceField[OpenItem] = forms.ModelMultipleChoiceField(
        queryset=OpenItem.objects.none(), required=False, label=_("Invoices")
    )
    reason = forms.ChoiceField(choices=[("", "—"), *DisputeReason.choices], required=False)
    amount = forms.CharField(required=False, max_length=30, label=_("Amount promised"))
    pay_by = forms.DateField(required=False, label=_("Pay by"))

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["contact"].queryset = customer.contacts.all()  # type: ignore[attr-defined]
        self.fields["items"].queryset = open_items(customer)  # type: ignore[attr-defined]


def open_items(customer: Customer) -> QuerySet[OpenItem]:
    return OpenItem.objects.filter(
        customer=customer, kind__in=(ItemKind.INVOICE, ItemKind.FEE, ItemKind.INTEREST),
        open_minor__gt=0, voided_on__isnull=True,
    ).order_by("due_on", "number")  # fmt: skip


def section(request: CompanyRequest, customer: Customer) -> dict[str, Any]:
    """What `_calls.html` shows: the form (pre-filled from `?task=`), recent calls, open tasks."""
    flagged = flagged_contacts([customer.pk])
    answering = None
    task_id = request.GET.get("task", "")
    if task_id.isdigit():
        answering = Message.objects.filter(
            company=request.company, customer=customer, pk=int(task_id), channel=Channel.CALL,
            status=MessageStatus.PENDING,
        ).first()  # fmt: skip
    return {
        "can_log": has_role(request.role, Role.COLLECTOR),
        "contacts": [(c, c.pk in flagged) for c in customer.contacts.all()],
        "outcomes": CallOutcome.choices,
        "answering": answering,
        "picker_link": _picker_link(customer, answering),
        "reasons": DisputeReason.choices,
        "kinds": BY_HAND_KINDS,
        "members": _members(request),
        "calls": CallLog.objects.filter(customer=customer).select_related(
            "contact", "actor", "follow_up"
        )[:RECENT_CALLS],
        "tasks": Task.objects.filter(customer=customer, state=TaskState.OPEN).select_related(
            "assignee"
        ),
        "today": clock.today(request.company),
    }


def _picker_link(customer: Customer, answering: Message | None) -> str:
    """The call form's page of its own (no JavaScript), still answering the task."""
    url = reverse("web:call_invoices", args=[customer.pk])
    return f"{url}?task={answering.pk}" if answering else url


@require_GET
@company_view(min_role=Role.COLLECTOR)
def call_invoices(request: CompanyRequest, customer_id: int) -> HttpResponse:
    """The call form's invoices (web.pickers): those a promise or a dispute of the call is about."""
    found = access_customer(request, customer_id)
    url = reverse("web:call_invoices", args=[found.pk])
    return respond(request, open_items(found), Picker(name="items", key="call", url=url),
                   customer=found, title=_("Log a call"), form="web/cases/_call_form.html",
                   context={"calls": section(request, found)})  # fmt: skip


@require_GET
@company_view(min_role=Role.COLLECTOR)
def note_invoices(request: CompanyRequest, customer_id: int) -> HttpResponse:
    """The note form's invoice (web.pickers): one, or none for a note on the account."""
    found = access_customer(request, customer_id)
    url = reverse("web:note_invoices", args=[found.pk])
    picker = Picker(name="item", key="note", url=url, multiple=False)
    return respond(request, open_items(found), picker, customer=found, title=_("Add a note"),
                   form="web/cases/_note_form.html", context={})  # fmt: skip


def _members(request: CompanyRequest) -> QuerySet[User]:
    return User.objects.filter(
        pk__in=Membership.objects.filter(company=request.company).values("user_id")
    ).order_by("username")


def _back(customer: Customer, anchor: str = "calls") -> HttpResponse:
    return redirect(f"{reverse('web:customer', args=[customer.pk])}#{anchor}")


@require_POST
@company_view(min_role=Role.COLLECTOR)
def call(request: CompanyRequest, customer_id: int) -> HttpResponse:
    found = access_customer(request, customer_id)
    form = CallForm(request.POST, customer=found)
    if not form.is_valid():
        flash.error(request, _form_errors(form))
        return _back(found)
    data = form.cleaned_data
    try:
        logged = log_call(
            company=request.company, customer=found, outcome=data["outcome"],
            contact=data["contact"], note=data["note"], next_action_on=data["next_action_on"],
            message_id=data["task"], promise=_promise(found, data), dispute=_dispute(data),
            actor=request.user, on=clock.today(request.company), at=clock.now(),  # type: ignore[arg-type]
        )  # fmt: skip
    except DunwellError as error:
        flash.error(request, error.message)
        return _back(found)
    follow = f"; next action {logged.follow_up.due_on.isoformat()}" if logged.follow_up else ""
    flash.success(
        request, f"{found}: call logged ({english(logged.get_outcome_display).lower()}{follow})"
    )
    return _back(found)


def _promise(customer: Customer, data: dict[str, Any]) -> PromiseSpec | None:
    if not (data["amount"] or data["pay_by"]):
        return None
    if not (data["amount"] and data["pay_by"]):
        raise DunwellError(ErrorCode.INVALID, "a promise needs the amount and the date to pay by",
                           field="amount")  # fmt: skip
    items = list(data["items"])
    currency = items[0].currency if items else customer.currency
    try:
        minor = Money(parse_amount(data["amount"]), currency).minor
    except MoneyError as error:
        raise DunwellError(ErrorCode.INVALID, f"amount: {error}", field="amount") from None
    return PromiseSpec(amount_minor=minor, currency=currency, promised_on=data["pay_by"],
                       items=tuple(items))  # fmt: skip


def _dispute(data: dict[str, Any]) -> DisputeSpec | None:
    if data["outcome"] != CallOutcome.DISPUTE:
        return None
    if not data["items"] or not data["reason"]:
        raise DunwellError(ErrorCode.INVALID, "a dispute needs the invoices it is about and a "
                           "reason", field="items")  # fmt: skip
    return DisputeSpec(items=[(item, None) for item in data["items"]], reason=data["reason"])


def _form_errors(form: forms.Form) -> str:
    return "; ".join(
        f"{form.fields[name].label or name}: {' '.join(str(e) for e in errors)}"
        if name in form.fields else " ".join(str(e) for e in errors)
        for name, errors in form.errors.items()
    )  # fmt: skip


@require_POST
@company_view(min_role=Role.COLLECTOR)
def note(request: CompanyRequest, customer_id: int) -> HttpResponse:
    found = access_customer(request, customer_id)
    item_id = request.POST.get("item", "")
    item = (
        get_object_or_404(OpenItem.objects.filter(customer=found), pk=int(item_id))
        if item_id.isdigit()
        else None
    )
    try:
        add_note(company=request.company, customer=found, item=item,
                 text=request.POST.get("text", ""), actor=request.user,  # type: ignore[arg-type]
                 on=clock.today(request.company), at=clock.now())  # fmt: skip
    except DunwellError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, f"{found}: note added")
    return _back(found)


class TaskForm(forms.Form):
    title = forms.CharField(max_length=200, label=_("Task"))
    due_on = forms.DateField(label=_("Due"))
    kind = forms.ChoiceField(choices=BY_HAND_KINDS, required=False)
    assignee = forms.IntegerField(required=False)


@require_POST
@company_view(min_role=Role.COLLECTOR)
def new_task(request: CompanyRequest, customer_id: int) -> HttpResponse:
    found = access_customer(request, customer_id)
    form = TaskForm(request.POST)
    if not form.is_valid():
        flash.error(request, _form_errors(form))
        return _back(found)
    data = form.cleaned_data
    assignee = None
    if data["assignee"]:
        assignee = _members(request).filter(pk=data["assignee"]).first()
        if assignee is None:
            raise Http404("no such member")
    try:
        task = create_task(company=request.company, customer=found,
                           kind=data["kind"] or TaskKind.CALL, title=data["title"],
                           due_on=data["due_on"], assignee=assignee, actor=request.user,  # type: ignore[arg-type]
                           on=clock.today(request.company), at=clock.now())  # fmt: skip
    except DunwellError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, f"{found}: task due {task.due_on.isoformat()} added")
    return _back(found)


def case_tasks(request: CompanyRequest, who: str, state: str = TaskState.OPEN) -> QuerySet[Task]:
    """The case tasks of the Calls and tasks page (open ones unless `state` says otherwise, ""
    for all): the user's, no one's, everyone's, or one user's (`who` their id)."""
    rows = Task.objects.filter(company=request.company).select_related("customer", "assignee")
    if state:
        rows = rows.filter(state=state)
    if who == "mine":
        return rows.filter(assignee_id=request.user.pk)
    if who == "unassigned":
        return rows.filter(assignee__isnull=True)
    if who.isdigit():
        return rows.filter(assignee_id=int(who))
    return rows


@require_POST
@company_view(min_role=Role.COLLECTOR)
def close_task(request: CompanyRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(
        Task.objects.filter(company=request.company).select_related("customer"), pk=task_id
    )
    close = cancel_task if request.POST.get("action") == "cancel" else complete_task
    try:
        close(task=task, note=request.POST.get("note", ""), actor=request.user,  # type: ignore[arg-type]
              on=clock.today(request.company), at=clock.now())  # fmt: skip
    except DunwellError as error:
        flash.error(request, error.message)
    else:
        verb = "cancelled" if close is cancel_task else "done"
        flash.success(request, f"{task.customer}: task {verb}")
    return redirect(f"{reverse('web:dunning_tasks')}?{request.POST.get('query', '')}")
