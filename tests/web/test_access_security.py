"""Access, hardened (issue 6): passwords hashed with Argon2id, the second factor required for
administrators, login throttling, CSRF and the security headers, and the security log of
sign-ins and permission changes (append-only).

Acme has an administrator (ada) and a collector (colin), both with the password PASSWORD; Bolt
has its own administrator (bea), who must never see Acme's log.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from dunwell import settings as production
from dunwell.core.errors import DunwellError
from dunwell.core.models import AuditEvent, AuditKind, Company, Membership, Role
from dunwell.core.services.companies import create_user, grant_access
from tests import factories as f
from tests.web.test_pages import assert_csp_clean

pytestmark = pytest.mark.django_db

PASSWORD = "ledger-and-quill-42"
ADDRESS = "203.0.113.7"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chromium/140"


@dataclass
class World:
    acme: Company
    bolt: Company
    ada: User
    colin: User
    bea: User


def _member(username: str, company: Company, role: Role) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD)
    Membership.objects.create(user=user, company=company, role=role)
    return user


@pytest.fixture
def world() -> World:
    acme, bolt = f.company("acme"), f.company("bolt")
    return World(acme, bolt, _member("ada", acme, Role.ADMIN),
                 _member("colin", acme, Role.COLLECTOR), _member("bea", bolt, Role.ADMIN))  # fmt: skip


def sign_in(client: Client, username: str, password: str = PASSWORD,
            address: str = ADDRESS) -> Any:  # fmt: skip
    return client.post("/login/", {"username": username, "password": password,
                                   "next": "/customers/"},
                       REMOTE_ADDR=address, HTTP_USER_AGENT=BROWSER)  # fmt: skip


def app_code(device: TOTPDevice, steps_later: int = 0) -> str:
    """What the authenticator app shows now (or that many 30-second steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_later * device.step
    return f"{totp.token():06d}"


def events(*kinds: AuditKind) -> list[tuple[str, str, str]]:
    return list(AuditEvent.objects.filter(kind__in=kinds).order_by("id")
                .values_list("kind", "username", "detail"))  # fmt: skip


# -- passwords --------------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_and_older_hashes_upgraded_at_sign_in(
    client: Client, world: World
) -> None:
    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
        user = create_user(username="nora", password=PASSWORD, at=f.AT)
        assert user.password.startswith("argon2$argon2id$")
        world.colin.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
        world.colin.save(update_fields=["password"])
        assert sign_in(client, "colin").status_code == 302
    world.colin.refresh_from_db()
    assert world.colin.password.startswith("argon2$argon2id$")


# -- second factor ----------------------------------------------------------------------------


def test_a_collector_signs_in_with_a_password_and_the_sign_in_is_logged(
    client: Client, world: World
) -> None:
    response = sign_in(client, "colin")
    assert (response.status_code, response["Location"]) == (302, "/customers/")
    assert client.get("/customers/").status_code == 200
    event = AuditEvent.objects.get(kind=AuditKind.SIGNED_IN)
    assert (event.username, event.ip, event.user_agent, event.company_id) == (
        "colin", ADDRESS, BROWSER, world.acme.pk)  # fmt: skip


def test_an_administrator_sets_up_the_app_then_enters_a_code_at_every_sign_in(
    client: Client, world: World
) -> None:
    sign_in(client, "ada")
    response = client.get("/customers/")
    assert (response.status_code, response["Location"]) == (
        302, "/account/two-factor/?next=%2Fcustomers%2F")  # fmt: skip
    assert client.get("/items/1/").status_code == 302  # every page waits for the set-up
    setup = client.get("/account/two-factor/?next=/customers/")
    html = setup.content.decode()
    assert_csp_clean(setup, html)
    assert 'src="data:image/svg+xml' in html and "Administrators sign in with a password" in html
    device = TOTPDevice.objects.get(user=world.ada, confirmed=False)
    secret = html.split('id="totp-secret">', 1)[1].split("<", 1)[0]
    assert len(secret.replace(" ", "")) == 32  # the 20-byte key in base32, for typing by hand

    wrong = client.post("/account/two-factor/", {"code": "000000", "next": "/customers/"})
    assert "That code is not right" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0  # the app's next code, without waiting out the throttle
    device.save()
    done = client.post("/account/two-factor/", {"code": app_code(device), "next": "/customers/"})
    assert (done.status_code, done["Location"]) == (302, "/customers/")
    assert client.get("/customers/").status_code == 200
    assert TOTPDevice.objects.get(user=world.ada).confirmed

    client.post("/logout/")
    sign_in(client, "ada")
    response = client.get("/customers/")
    assert response["Location"] == "/account/two-factor/verify?next=%2Fcustomers%2F"
    used = client.post("/account/two-factor/verify", {"code": app_code(device), "next": "/"})
    assert "was used already" in used.content.decode()  # a code counts once
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.save()
    later = client.post("/account/two-factor/verify",
                        {"code": app_code(device, steps_later=1), "next": "/customers/"})  # fmt: skip
    assert (later.status_code, later["Location"]) == (302, "/customers/")
    assert client.get("/customers/").status_code == 200
    assert [k for k, _, _ in events(AuditKind.TWO_FACTOR_ENABLED, AuditKind.TWO_FACTOR_FAILED)] == [
        "two_factor_failed", "two_factor_enabled", "two_factor_failed"]  # fmt: skip


@override_settings(OTP_TOTP_THROTTLE_FACTOR=60)
def test_after_a_wrong_code_even_the_right_one_waits(client: Client, world: World) -> None:
    device = TOTPDevice.objects.create(user=world.ada, name="phone", confirmed=True)
    sign_in(client, "ada")
    client.post("/account/two-factor/verify", {"code": "123456"})
    refused = client.post("/account/two-factor/verify", {"code": app_code(device)})
    assert refused.status_code == 200 and "That code is not right" in refused.content.decode()
    assert client.get("/customers/").status_code == 302


def test_a_collector_may_turn_the_second_factor_on_and_is_then_asked_for_it(
    client: Client, world: World
) -> None:
    sign_in(client, "colin")
    client.get("/account/two-factor/")
    device = TOTPDevice.objects.get(user=world.colin)
    client.post("/account/two-factor/", {"code": app_code(device)})
    client.post("/logout/")
    sign_in(client, "colin")
    assert client.get("/worklist/")["Location"].startswith("/account/two-factor/verify")
    htmx = client.get("/worklist/refresh", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 403  # an inline request is refused, not redirected into a fragment


def test_a_lost_phone_is_reset_from_the_command_line_and_set_up_again(
    client: Client, world: World
) -> None:
    TOTPDevice.objects.create(user=world.ada, name="phone", confirmed=True)
    call_command("company", "reset-two-factor", "--user", "ada", stdout=io.StringIO())
    assert not TOTPDevice.objects.filter(user=world.ada).exists()
    assert events(AuditKind.TWO_FACTOR_RESET) == [
        ("two_factor_reset", "ada", "dunwell company reset-two-factor")]  # fmt: skip
    sign_in(client, "ada")
    assert client.get("/customers/")["Location"].startswith("/account/two-factor/?")


# -- throttling -------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_that_user_out_from_that_address(
    client: Client, world: World
) -> None:
    for _ in range(4):
        response = sign_in(client, "colin", "wrong-password")
        assert response.status_code == 200  # the form again, with its error
    locked = sign_in(client, "colin", "wrong-password")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "refused for 15 minutes" in locked.content.decode()
    assert sign_in(client, "colin").status_code == 429  # the right password too, for now
    other = Client()
    assert sign_in(other, "colin", address="198.51.100.2").status_code == 302
    kinds = [k for k, _, _ in events(AuditKind.SIGN_IN_FAILED, AuditKind.LOCKED_OUT)]
    assert kinds.count("sign_in_failed") >= 5 and "locked_out" in kinds
    assert AuditEvent.objects.filter(kind=AuditKind.LOCKED_OUT, ip=ADDRESS).exists()


def test_a_failed_sign_in_of_an_unknown_user_is_logged_by_the_name_tried(client: Client) -> None:
    sign_in(client, "mallory", "guess")
    event = AuditEvent.objects.get(kind=AuditKind.SIGN_IN_FAILED)
    assert (event.username, event.user_id, event.ip) == ("mallory", None, ADDRESS)


# -- CSRF, headers, cookies -------------------------------------------------------------------


def test_posts_without_the_csrf_token_are_refused(world: World) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert sign_in(strict, "colin").status_code == 403
    f.signed_in(strict, world.colin)
    customer = f.customer(world.acme)
    response = strict.post(f"/customers/{customer.pk}/notes", {"text": "asked for the PO"})
    assert response.status_code == 403
    assert not customer.activities.filter(summary__contains="asked for the PO").exists()


def test_security_headers_and_cookie_flags(client: Client, world: World) -> None:
    page = client.get("/login/")
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert page.cookies["csrftoken"]["httponly"] and page.cookies["csrftoken"]["samesite"] == "Lax"
    signed = sign_in(client, "colin")
    session = signed.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert session["max-age"] == 10 * 3600


# -- the security log -------------------------------------------------------------------------


def test_role_changes_are_logged_with_who_made_them(world: World) -> None:
    grant_access(company=world.acme, user=world.colin, role="credit_manager", at=f.AT,
                 actor=world.ada)  # fmt: skip
    call_command("company", "revoke", "--company", "acme", "--user", "colin", stdout=io.StringIO())
    rows = list(AuditEvent.objects.filter(company=world.acme).order_by("id")
                .values_list("kind", "username", "actor_name", "detail"))  # fmt: skip
    assert rows == [
        ("role_changed", "colin", "ada", "collector -> credit manager in acme"),
        ("access_revoked", "colin", "", "was credit manager in acme"),
    ]


def test_the_security_log_page_shows_the_companys_events_to_its_administrators_only(
    client: Client, world: World
) -> None:
    sign_in(Client(), "colin")
    sign_in(Client(), "colin", "wrong-password")
    sign_in(Client(), "bea")
    grant_access(company=world.acme, user=world.colin, role="viewer", at=f.AT, actor=world.ada)
    html = f.signed_in(client, world.ada).get("/security-log/").content.decode()
    assert "Sign-in failed" in html and "Role changed" in html and ADDRESS in html
    assert "collector -&gt; viewer in acme" in html
    assert "bea" not in html  # Bolt's administrator signs in to Bolt: not in Acme's log
    only = client.get("/security-log/?kind=sign_in_failed").content.decode()
    assert "wrong username or password" in only and "Role changed</td>" not in only
    assert f.signed_in(Client(), world.colin).get("/security-log/").status_code == 403
    bolt = f.signed_in(Client(), world.bea).get("/security-log/").content.decode()
    assert "colin" not in bolt


def test_the_security_log_cannot_be_changed(world: World, as_in_production: None) -> None:
    sign_in(Client(), "colin")
    event = AuditEvent.objects.get(kind=AuditKind.SIGNED_IN)
    event.detail = "nothing happened"
    with pytest.raises(DunwellError, match="the security log is append-only"):
        event.save()
    with pytest.raises(DunwellError, match="append-only"):
        AuditEvent.objects.all().delete()
    for statement in ("UPDATE core_auditevent SET detail = 'x' WHERE id = %s",
                      "DELETE FROM core_auditevent WHERE id = %s"):  # fmt: skip
        with (pytest.raises(DatabaseError, match="append-only"), transaction.atomic(),
              connection.cursor() as cursor):  # fmt: skip
            cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).detail == ""


def test_a_role_changed_in_the_admin_is_logged_with_the_superuser(
    client: Client, world: World
) -> None:
    root = User.objects.create_superuser("root", "root@acme.example", PASSWORD)
    membership = Membership.objects.get(user=world.colin)
    f.signed_in(client, root)
    response = client.post(f"/admin/core/membership/{membership.pk}/change/", {"role": "viewer"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER
    client.post(f"/admin/core/membership/{membership.pk}/delete/", {"post": "yes"})
    assert not Membership.objects.filter(pk=membership.pk).exists()
    logged = AuditEvent.objects.filter(company=world.acme).order_by("id")
    assert list(logged.values_list("kind", "actor_name", "detail")) == [
        ("role_changed", "root", "collector -> viewer in acme"),
        ("access_revoked", "root", "was viewer in acme"),
    ]


def test_an_administrator_without_the_second_factor_cannot_reach_the_admin(
    client: Client, world: World
) -> None:
    User.objects.create_superuser("root", "root@acme.example", PASSWORD)
    sign_in(client, "root")
    assert client.get("/admin/")["Location"].startswith("/account/two-factor/?next=%2Fadmin%2F")
