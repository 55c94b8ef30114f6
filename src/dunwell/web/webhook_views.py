"""The webhooks pages, for a company's administrators: its subscriptions with the outcome of each
one's latest event, the form that adds one (its signing secret shown once, on the answer to the
form), deactivating and reactivating, and each subscription's delivery log (paged, failed ones
only on request) with a replay per delivery. The services of `dunwell webhooks` do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.models import Role
from dunwell.web.access import CompanyRequest, company_view
from dunwell.web.listing import paged
from dunwell.webhooks import services
from dunwell.webhooks.models import Subscription

# by the event (the order the receiver gets them in), or by when the delivery was queued
DELIVERY_SORTS = {
    "event": ("activity_id", "pk"),
    "-event": ("-activity_id", "-pk"),
    "queued": ("created_at", "pk"),
    "-queued": ("-created_at", "-pk"),
}


def event_choices() -> list[tuple[str, str]]:
    """Each event by its name, described by the history entries it sends (in the reader's
    language: the kinds' labels)."""
    return [(name, f"{name} · {', '.join(str(kind.label) for kind in kinds)}")
            for name, kinds in services.EVENTS.items()]  # fmt: skip


class SubscriptionForm(forms.Form):
    url = forms.URLField(max_length=500, label=_("Address (URL)"), assume_scheme="https",
                         widget=forms.URLInput(attrs={"placeholder": "https://erp.example/dunwell"}))  # fmt: skip
    events = forms.MultipleChoiceField(label=_("Events"), widget=forms.CheckboxSelectMultiple,
                                       choices=event_choices)  # fmt: skip


@company_view(min_role=Role.ADMIN)
def subscriptions(request: CompanyRequest) -> HttpResponse:
    return _list(request, SubscriptionForm())


def _list(request: CompanyRequest, form: SubscriptionForm, status: int = 200) -> HttpResponse:
    context = {"subscriptions": services.subscriptions(request.company), "form": form}
    return render(request, "web/webhooks/list.html", context, status=status)


@require_POST
@company_view(min_role=Role.ADMIN)
def add(request: CompanyRequest) -> HttpResponse:
    """Subscribe a URL; the answer shows the secret, which no page shows again."""
    form = SubscriptionForm(request.POST)
    if not form.is_valid():
        return _list(request, form, status=400)
    try:
        made = services.subscribe(company=request.company, url=form.cleaned_data["url"],
                                  events=form.cleaned_data["events"], actor=request.user,  # type: ignore[arg-type]
                                  at=clock.now())  # fmt: skip
    except DunwellError as error:
        form.add_error(error.context.get("field") or None, error.message)
        return _list(request, form, status=400)
    response = render(request, "web/webhooks/created.html", {"subscription": made})
    response["Cache-Control"] = "no-store"  # the secret stays out of caches and history
    return response


def _subscription(request: CompanyRequest, subscription_id: int) -> Subscription:
    return get_object_or_404(services.subscriptions(request.company), pk=subscription_id)


@require_POST
@company_view(min_role=Role.ADMIN)
def deactivate(request: CompanyRequest, subscription_id: int) -> HttpResponse:
    return _switch(request, subscription_id, active=False)


@require_POST
@company_view(min_role=Role.ADMIN)
def reactivate(request: CompanyRequest, subscription_id: int) -> HttpResponse:
    return _switch(request, subscription_id, active=True)


def _switch(request: CompanyRequest, subscription_id: int, *, active: bool) -> HttpResponse:
    found = _subscription(request, subscription_id)
    change = services.reactivate if active else services.deactivate
    try:
        change(subscription=found, actor=request.user, at=clock.now())  # type: ignore[arg-type]
    except DunwellError as error:
        flash.error(request, error.message)
        return redirect("web:webhooks")
    if active:
        text = gettext("Webhook to %(url)s reactivated: the events recorded while it was "
                       "inactive are sent too.")  # fmt: skip
    else:
        text = gettext("Webhook to %(url)s deactivated: nothing is sent to it until it is "
                       "reactivated.")  # fmt: skip
    flash.success(request, text % {"url": found.url})
    return redirect("web:webhooks")


@company_view(min_role=Role.ADMIN)
def deliveries(request: CompanyRequest, subscription_id: int) -> HttpResponse:
    found = _subscription(request, subscription_id)
    failed = request.GET.get("failed") == "1"
    rows = services.deliveries(request.company, subscription=found, failed_only=failed)
    context: dict[str, Any] = {
        "subscription": found, "failed": failed, "here": request.get_full_path(),
        "deliveries": paged(request, rows, sorts=DELIVERY_SORTS, default="-event"),
    }  # fmt: skip
    return render(request, "web/webhooks/deliveries.html", context)


@require_POST
@company_view(min_role=Role.ADMIN)
def replay(request: CompanyRequest, delivery_id: int) -> HttpResponse:
    found = get_object_or_404(services.deliveries(request.company), pk=delivery_id)
    services.replay(delivery=found, at=clock.now())
    if found.subscription.active:
        text = gettext("Delivery %(id)s queued again: it goes out on the next delivery round.")
    else:
        text = gettext("Delivery %(id)s queued again: it is sent once the webhook is reactivated.")
    flash.success(request, text % {"id": found.payload.get("id", found.pk)})
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//") and "\\" not in back:
        return redirect(back)
    return redirect("web:webhook_deliveries", found.subscription_id)
