"""Who gets in: the second factor on every request, and the security log of sign-ins.

- `TwoFactorMiddleware` (after django-otp's, which marks `request.user.is_verified()`): someone
  signed in with a password whose session has not yet passed the second factor goes to the
  code page when they have a device, and to the set-up page when they must have one
  (administrators, `core.services.two_factor.required`). Until then only those two pages,
  signing out and the static files answer; the rest redirects (a page) or answers 403 (htmx).
- The sign-in signals of django.contrib.auth and django-axes write the security log
  (`core.services.audit`) with the address and browser of the request (`client_ip`, also
  django-axes' notion of the address: one definition for the lock-out and the log).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.urls import reverse

from dunwell.core import clock
from dunwell.core.models import AuditKind
from dunwell.core.services import audit, two_factor

Handler = Callable[[HttpRequest], HttpResponse]


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from: the connection's. Behind a proxy, configure it to
    pass the address on and the server (gunicorn's --forwarded-allow-ips) to trust it."""
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request: HttpRequest | None) -> str:
    return str(request.META.get("HTTP_USER_AGENT", "")) if request is not None else ""


class TwoFactorMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self._open: tuple[str, ...] | None = None

    def open_paths(self) -> tuple[str, ...]:
        if self._open is None:
            self._open = (reverse("two_factor_verify"), reverse("two_factor_setup"),
                          reverse("logout"), reverse("login"), "/static/")  # fmt: skip
        return self._open

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not isinstance(user, User) or getattr(user, "is_verified", lambda: True)():
            return self.get_response(request)  # anonymous, or past the second factor
        if request.path.startswith(self.open_paths()):
            return self.get_response(request)
        has_device, must = two_factor.needed(user)
        if has_device:
            target = "two_factor_verify"
        elif must:
            target = "two_factor_setup"
        else:
            return self.get_response(request)
        if request.headers.get("HX-Request"):
            return HttpResponseForbidden("the second factor is needed: reload the page")
        return HttpResponseRedirect(
            f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}"
        )


def _signed_in(sender: Any, request: HttpRequest, user: User, **_: Any) -> None:
    audit.record(AuditKind.SIGNED_IN, at=clock.now(), user=user, ip=client_ip(request),
                 user_agent=user_agent(request))  # fmt: skip


def _signed_out(sender: Any, request: HttpRequest | None, user: User | None, **_: Any) -> None:
    if user is None:
        return
    audit.record(AuditKind.SIGNED_OUT, at=clock.now(), user=user,
                 ip=client_ip(request) if request is not None else None,
                 user_agent=user_agent(request))  # fmt: skip


def _failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None,
            **_: Any) -> None:  # fmt: skip
    username = str(credentials.get("username", ""))
    audit.record(AuditKind.SIGN_IN_FAILED, at=clock.now(), username=username,
                 user=User.objects.filter(username=username).first(),
                 ip=client_ip(request) if request is not None else None,
                 user_agent=user_agent(request), detail="wrong username or password")  # fmt: skip


def _locked_out(sender: Any, request: HttpRequest, username: str, ip_address: str,
                **_: Any) -> None:  # fmt: skip
    audit.record(AuditKind.LOCKED_OUT, at=clock.now(), username=username or "",
                 user=User.objects.filter(username=username).first() if username else None,
                 ip=ip_address, user_agent=user_agent(request),
                 detail="too many failed sign-ins: refused until the cool-off ends")  # fmt: skip


def connect() -> None:
    from axes.signals import user_locked_out  # noqa: PLC0415 - once the apps are loaded

    user_logged_in.connect(_signed_in, dispatch_uid="dunwell-audit-in")
    user_logged_out.connect(_signed_out, dispatch_uid="dunwell-audit-out")
    user_login_failed.connect(_failed, dispatch_uid="dunwell-audit-failed")
    user_locked_out.connect(_locked_out, dispatch_uid="dunwell-audit-locked")
