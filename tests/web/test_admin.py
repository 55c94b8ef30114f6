"""The Django admin: for superusers, and read-only for the ledger's tables.

Every change to money goes through the services so that it reaches the history; the admin shows
those rows and refuses to add, change or delete them. Acme has one customer with an invoice of
EUR 1,234.56 (part paid), an invoice in two instalments (part written off), a contact, an FX rate
and an import run with a rejected row, so that every table has a row to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from dunwell.core.models import Company, FxRate, Membership, Role
from dunwell.dunning.tasks import deliver_outbox
from dunwell.imports.models import ImportRun, RejectedRow
from dunwell.ledger.models import (
    Activity,
    ActivityKind,
    Allocation,
    Customer,
    Instalment,
    OpenItem,
    OpenItemLine,
    Payment,
    WriteOff,
)
from dunwell.ledger.services.allocations import allocate_payment, write_off
from dunwell.ledger.services.customers import add_contact
from dunwell.ledger.services.documents import LineInput
from dunwell.ledger.services.fx import set_rate
from dunwell.terms.models import PaymentTermLine
from dunwell.terms.rules.due_dates import Basis
from dunwell.terms.services import create_term
from tests import factories
from tests.factories import AT

pytestmark = pytest.mark.django_db

READ_ONLY: tuple[type[Model], ...] = (
    OpenItem,
    Instalment,
    OpenItemLine,
    Payment,
    Allocation,
    WriteOff,
    Activity,
    ImportRun,
    RejectedRow,
)


@dataclass
class World:
    company: Company
    customer: Customer
    invoice: OpenItem
    root: User
    staff: User


@pytest.fixture
def world() -> World:
    acme = factories.company()
    bauer = factories.customer(acme, country="DE")
    add_contact(customer=bauer, actor=None, name="Petra Bauer", email="petra@bauer.example")
    line = LineInput("Bearings", Decimal(10), Decimal("123.456"), 123456)
    invoice = factories.invoice(acme, bauer, "INV-1", 123456, date(2026, 1, 5), lines=(line,))
    halves = create_term(company=acme, code="halves", name="Half at 30, half at 60 days", days=30)
    halves.lines.update(share_percent=Decimal(50))
    PaymentTermLine.objects.create(term=halves, sequence=2, basis=Basis.AFTER_INVOICE, days=60)
    split = factories.invoice(acme, bauer, "INV-2", 20000, date(2026, 1, 5), payment_term=halves)
    paid = factories.payment(acme, bauer, "P-1", 50000, date(2026, 1, 20))
    allocate_payment(
        company=acme, payment=paid, item=invoice, amount_minor=50000, actor=None, at=AT
    )
    write_off(company=acme, item=split, on=date(2026, 1, 21), reason="rounding", amount_minor=100,
              actor=None, at=AT)  # fmt: skip
    set_rate(base="EUR", quote="USD", on=date(2026, 1, 5), rate=Decimal("1.085"))
    run = ImportRun.objects.create(
        company=acme, kind="invoices", file_name="invoices.csv", sha256="0" * 64, status="applied",
        started_at=AT, finished_at=AT,
    )  # fmt: skip
    RejectedRow.objects.create(run=run, line=3, field="amount", reason="'1,2,3' is not an amount")
    root = User.objects.create_superuser("root", "root@acme.example", "root-password-1")
    staff = User.objects.create_user("stella", password="stella-password-1", is_staff=True)
    Membership.objects.create(user=staff, company=acme, role=Role.ADMIN)
    Client().post("/login/", {"username": "stella", "password": "wrong"})  # an attempt, logged
    Group.objects.create(name="auditors")
    deliver_outbox.enqueue()  # a row of the task queue (django-tasks-db shows it to superusers)
    return World(acme, bauer, invoice, root, staff)


def url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def as_user(client: Client, user: User) -> Client:
    return factories.signed_in(client, user)


def test_superuser_sees_open_items_with_their_amounts_formatted(
    client: Client, world: World
) -> None:
    as_user(client, world.root)

    listed = client.get(url(OpenItem, "changelist"))
    shown = client.get(url(OpenItem, "change", world.invoice.pk))

    assert listed.status_code == 200
    assert "INV-1" in listed.text
    assert "€1,234.56" in listed.text  # the amount
    assert "€734.56" in listed.text  # still open after the payment of 500.00
    assert "123456" not in listed.text
    assert shown.status_code == 200
    assert "€1,234.56" in shown.text
    assert "Bearings" in shown.text  # its lines, inline
    assert "€500.00" in shown.text  # and the allocation that reduced it


def test_ledger_change_form_has_no_save_button_and_a_post_is_refused(
    client: Client, world: World
) -> None:
    as_user(client, world.root)
    change = url(OpenItem, "change", world.invoice.pk)

    form = client.get(change)
    posted = client.post(change, {"number": "HACKED", "amount_minor": "1"})

    assert 'name="_save"' not in form.text
    assert "deletelink" not in form.text
    assert posted.status_code == 403
    world.invoice.refresh_from_db()
    assert (world.invoice.number, world.invoice.amount_minor) == ("INV-1", 123456)


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_ledger_rows_cannot_be_added_changed_or_deleted(
    client: Client, world: World, model: type[Model]
) -> None:
    as_user(client, world.root)
    row = model._default_manager.order_by("pk").first()
    assert row is not None
    before = model._default_manager.count()

    assert client.get(url(model, "add")).status_code == 403
    assert client.post(url(model, "add"), {}).status_code == 403
    assert client.post(url(model, "change", row.pk), {}).status_code == 403
    assert client.get(url(model, "delete", row.pk)).status_code == 403
    assert client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    listed = client.get(url(model, "changelist"))
    assert "delete_selected" not in listed.text
    bulk = {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    client.post(url(model, "changelist"), bulk)
    assert model._default_manager.count() == before


def test_a_history_entry_is_not_changed_or_deleted_in_the_admin(
    client: Client, world: World
) -> None:
    """The history's changelist offers no action at all; a POST of its forms changes nothing."""
    as_user(client, world.root)
    entry = Activity.objects.order_by("pk").first()
    assert entry is not None
    summary = entry.summary

    listed = client.get(url(Activity, "changelist"))
    form = client.get(url(Activity, "change", entry.pk))
    posted = client.post(url(Activity, "change", entry.pk), {"summary": "rewritten"})
    deleted = client.post(url(Activity, "delete", entry.pk), {"post": "yes"})

    assert 'name="action"' not in listed.text
    assert 'name="_save"' not in form.text and "deletelink" not in form.text
    assert (posted.status_code, deleted.status_code) == (403, 403)
    assert Activity.objects.get(pk=entry.pk).summary == summary


def test_staff_who_are_not_superusers_are_sent_to_the_admin_login(
    client: Client, world: World
) -> None:
    as_user(client, world.staff)

    index = client.get("/admin/")
    items = client.get(url(OpenItem, "changelist"))
    customer = client.get(url(Customer, "change", world.customer.pk))

    assert index.status_code == 302
    assert index["Location"] == "/admin/login/?next=/admin/"
    assert items.status_code == 302
    assert items["Location"].startswith("/admin/login/")
    assert customer.status_code == 302
    assert "not authorized to access this page" in client.get("/admin/login/").text


def test_the_admin_login_refuses_staff_and_admits_superusers(world: World) -> None:
    refused = Client().post(
        "/admin/login/", {"username": "stella", "password": "stella-password-1", "next": "/admin/"}
    )
    admitted = Client().post(
        "/admin/login/", {"username": "root", "password": "root-password-1", "next": "/admin/"}
    )

    assert refused.status_code == 200
    assert "username and password of a superuser account" in refused.text
    assert admitted.status_code == 302
    assert admitted["Location"] == "/admin/"


def test_anonymous_visitors_are_sent_to_the_admin_login(client: Client, world: World) -> None:
    response = client.get(url(Payment, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_every_registered_table_lists_and_shows_its_rows_to_a_superuser(
    client: Client, world: World
) -> None:
    as_user(client, world.root)
    assert client.get("/admin/").status_code == 200
    for model in admin.site._registry:
        listed = client.get(url(model, "changelist"))
        assert listed.status_code == 200, model.__name__
        row = model._default_manager.order_by("pk").first()
        assert row is not None, f"the world has no {model.__name__}"
        assert client.get(url(model, "change", row.pk)).status_code == 200, model.__name__


def test_big_changelists_take_the_same_few_queries_whatever_the_rows(
    client: Client, world: World, django_assert_max_num_queries: object
) -> None:
    for n in range(2, 30):
        factories.invoice(world.company, world.customer, f"INV-{n + 1}", 1000 * n, date(2026, 1, 6))
    as_user(client, world.root)
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        assert client.get(url(OpenItem, "changelist")).status_code == 200
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        assert client.get(url(Activity, "changelist")).status_code == 200


def test_a_customer_edit_goes_through_the_service_and_reaches_the_history(
    client: Client, world: World
) -> None:
    as_user(client, world.root)
    change = url(Customer, "change", world.customer.pk)
    form = {
        "legal_name": "Bauer KG", "kind": "business", "country": "DE", "registration_id": "",
        "vat_id": "", "street": "Hauptstr. 1", "postal_code": "80331", "city": "München",
        "language": "de", "segment": "", "billed_to_parent": "",
    }  # fmt: skip

    saved = client.post(change, form)
    refused = client.post(change, {**form, "vat_id": "DE123"})

    assert saved.status_code == 302
    world.customer.refresh_from_db()
    assert (world.customer.city, world.customer.language) == ("München", "de")
    entry = Activity.objects.get(kind=ActivityKind.CUSTOMER_UPDATED)
    assert entry.customer == world.customer
    assert entry.actor == world.root
    assert entry.summary == "Customer updated: street, postal_code, city, language"
    assert refused.status_code == 200
    assert "is not a valid DE VAT number" in refused.text
    assert Activity.objects.filter(kind=ActivityKind.CUSTOMER_UPDATED).count() == 1


def test_customers_are_not_added_or_deleted_in_the_admin(client: Client, world: World) -> None:
    as_user(client, world.root)
    assert client.get(url(Customer, "add")).status_code == 403
    assert (
        client.post(url(Customer, "delete", world.customer.pk), {"post": "yes"}).status_code == 403
    )


def test_an_fx_rate_is_added_through_the_service_and_then_only_shown(
    client: Client, world: World
) -> None:
    as_user(client, world.root)
    form = {"on": "2026-01-06", "base": "eur", "quote": "GBP", "rate": "0.8612", "source": "ECB"}

    added = client.post(url(FxRate, "add"), form)
    duplicate = client.post(url(FxRate, "add"), form)
    unknown = client.post(url(FxRate, "add"), {**form, "quote": "XXY"})
    rate = FxRate.objects.get(quote="GBP")
    changed = client.post(url(FxRate, "change", rate.pk), {**form, "rate": "9"})

    assert added.status_code == 302
    assert (rate.base, rate.rate, rate.source) == ("EUR", Decimal("0.8612"), "ECB")
    assert "already exists" in duplicate.text
    assert "unknown currency &#x27;XXY&#x27;" in unknown.text
    assert changed.status_code == 403
    assert client.post(url(FxRate, "delete", rate.pk), {"post": "yes"}).status_code == 403
    rate.refresh_from_db()
    assert rate.rate == Decimal("0.8612")


def test_a_company_edit_is_checked_like_the_command(client: Client, world: World) -> None:
    as_user(client, world.root)
    change = url(Company, "change", world.company.pk)
    form = {
        "legal_name": "Acme GmbH", "country": "DE", "iban": "DE89370400440532013001", "bic": "",
        "address": "", "vat_id": "", "time_zone": "Europe/Berlin", "holiday_country": "DE",
        "holiday_subdivision": "", "due_date_adjustment": "none", "governing_law": "DE",
        "default_language": "de", "kid_check": "mod10",
    }  # fmt: skip

    refused = client.post(change, form)
    saved = client.post(change, {**form, "iban": "DE89 3704 0044 0532 0130 00"})

    assert "is not a valid IBAN" in refused.text
    assert saved.status_code == 302
    world.company.refresh_from_db()
    assert world.company.iban == "DE89370400440532013000"
    assert world.company.base_currency == "EUR"  # read-only once created


def test_payment_terms_whose_shares_do_not_add_up_are_refused(client: Client, world: World) -> None:
    as_user(client, world.root)
    form = {
        "company": world.company.pk, "code": "odd", "name": "Odd", "adjustment": "",
        "interest_grace_days": "0", "interest_day_count": "ACT/365F",
        "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0",
        "lines-0-sequence": "1", "lines-0-share_percent": "60", "lines-0-basis": "after_invoice",
        "lines-0-days": "30", "lines-0-months": "0",
        "lines-1-sequence": "2", "lines-1-share_percent": "60", "lines-1-basis": "after_invoice",
        "lines-1-days": "60", "lines-1-months": "0",
    }  # fmt: skip

    refused = client.post(url(PaymentTermLine.term.field.related_model, "add"), form)
    saved = client.post(
        url(PaymentTermLine.term.field.related_model, "add"),
        {**form, "lines-1-share_percent": "40"},
    )

    assert "the shares add up to 120 %, not 100 %" in refused.text
    assert saved.status_code == 302
    assert world.company.payment_terms.get(code="odd").lines.count() == 2
