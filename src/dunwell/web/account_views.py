"""The signed-in person's own security: setting up the authenticator app, entering its code at
sign-in, and (for a company's administrators) the security log.

`TwoFactorMiddleware` (web.security) sends people here; after the code is right the session is
marked verified (django-otp's `login`) and they go on to the page they asked for.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login

from dunwell.core import clock
from dunwell.core.models import AuditKind, Role
from dunwell.core.services import audit, two_factor
from dunwell.web.access import CompanyRequest, company_view
from dunwell.web.listing import paged
from dunwell.web.security import client_ip, user_agent

AUDIT_SORTS = {"at": ("at", "id"), "-at": ("-at", "-id")}


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=12, label=gettext_lazy("Code from your authenticator app"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True, "pattern": "[0-9 ]*"}),
    )  # fmt: skip


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return reverse("web:home")


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # login_required let no one else in
        raise PermissionDenied
    return request.user


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: the QR code and key, then a code to prove it works."""
    user = _user(request)
    devices = two_factor.confirmed(user)
    if devices:
        return render(request, "web/two_factor_status.html", {
            "devices": devices, "required": two_factor.required(user),
            "verified": user.is_verified(),  # type: ignore[attr-defined]
        })  # fmt: skip
    device = two_factor.start(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.confirm(user=user, device=device, code=form.cleaned_data["code"],
                              at=clock.now(), ip=client_ip(request),
                              user_agent=user_agent(request)):  # fmt: skip
            otp_login(request, device)
            flash.success(request, _("Two-factor sign-in is set up: from now on you enter a "
                                     "code from the app after your password."))  # fmt: skip
            return redirect(_next(request))
        form.add_error("code", _("That code is not right. Check the app shows Dunwell and that "
                                 "your phone's clock is correct, then try the next code."))  # fmt: skip
    return render(request, "web/two_factor_setup.html", {
        "form": form, "qr": two_factor.qr_data_url(device), "secret": two_factor.secret(device),
        "required": two_factor.required(user), "next": _next(request),
    })  # fmt: skip


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the app."""
    user = _user(request)
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(_next(request))
    if not two_factor.confirmed(user):
        return redirect(f"{reverse('two_factor_setup')}?next={_next(request)}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.check(user=user, code=form.cleaned_data["code"], at=clock.now(),
                                  ip=client_ip(request), user_agent=user_agent(request))  # fmt: skip
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("code", _("That code is not right or was used already: wait for the "
                                 "next one. After several wrong codes each try waits longer."))  # fmt: skip
    return render(request, "web/two_factor_verify.html", {"form": form, "next": _next(request)})


@company_view(min_role=Role.ADMIN)
def audit_log(request: CompanyRequest) -> HttpResponse:
    """The company's security log: sign-ins, failures, lock-outs, second factors, roles."""
    events = audit.company_events(request.company)
    kind = request.GET.get("kind", "")
    if kind in AuditKind.values:
        events = events.filter(kind=kind)
    who = request.GET.get("q", "").strip()
    if who:
        events = events.filter(username__icontains=who)
    listing = paged(request, events, sorts=AUDIT_SORTS, default="-at")
    context: dict[str, Any] = {
        "events": listing,
        "kinds": AuditKind.choices,
        "kind": kind,
        "q": who,
    }
    return render(request, "web/audit_log.html", context)
