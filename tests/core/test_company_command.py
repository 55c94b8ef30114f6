"""`dunwell company create|list|grant`: set up a company and its people without `dunwell shell`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from dunwell.core.models import Company, Membership, Role

pytestmark = pytest.mark.django_db

ACME = [
    "--name",
    "Acme GmbH",
    "--country",
    "DE",
    "--currency",
    "EUR",
    "--timezone",
    "Europe/Berlin",
]


def run(*args: str) -> str:
    out = StringIO()
    call_command("company", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_create_stores_the_checked_company_and_prints_it_as_json() -> None:
    printed = run(
        "create", *ACME,
        "--iban", "de89 3704 0044 0532 0130 00", "--bic", "COBADEFFXXX", "--holidays", "de-by",
        "--format", "json",
    )  # fmt: skip
    company = Company.objects.get()
    assert (company.code, company.legal_name, company.country, company.base_currency) == (
        "acme-gmbh",
        "Acme GmbH",
        "DE",
        "EUR",
    )
    assert company.time_zone == "Europe/Berlin"
    assert company.iban == "DE89370400440532013000"
    assert company.bic == "COBADEFFXXX"
    assert (company.holiday_country, company.holiday_subdivision) == ("DE", "BY")
    assert company.governing_law == "DE"
    assert json.loads(printed) == {
        "id": company.pk,
        "code": "acme-gmbh",
        "name": "Acme GmbH",
        "country": "DE",
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "holidays": "DE-BY",
        "law": "DE",
        "kid_check": "mod10",
        "write_off_approval": "500.00",
    }


def test_set_changes_the_write_off_approval_threshold() -> None:
    run("create", "--name", "Acme GmbH", "--country", "DE", "--currency", "EUR",
        "--timezone", "Europe/Berlin")  # fmt: skip
    assert run("set", "--company", "acme-gmbh", "--write-off-approval", "1,250.50") == (
        "acme-gmbh: write-offs above EUR 1250.50 need a second person\n"
    )
    assert Company.objects.get().write_off_approval_minor == 1_250_50
    with pytest.raises(CommandError, match="--write-off-approval 'lots': "):
        run("set", "--company", "acme-gmbh", "--write-off-approval", "lots")
    with pytest.raises(CommandError, match="--write-off-approval: the write-off threshold cannot"):
        run("set", "--company", "acme-gmbh", "--write-off-approval", "-1.00")


def test_a_norwegian_company_chooses_how_its_kid_references_are_checked() -> None:
    run("create", "--name", "Nordlys AS", "--country", "NO", "--currency", "NOK",
        "--kid-check", "mod11")  # fmt: skip
    assert Company.objects.get().kid_check == "mod11"
    assert run("set", "--company", "nordlys-as", "--kid-check", "mod10") == (
        "nordlys-as: KID references of new invoices use MOD10\n"
    )
    assert Company.objects.get().kid_check == "mod10"
    with pytest.raises(CommandError, match="give --write-off-approval AMOUNT or --kid-check"):
        run("set", "--company", "nordlys-as")


def test_create_takes_the_time_zone_and_law_of_a_country_with_one_of_each() -> None:
    run("create", "--name", "Brit Ltd", "--country", "gb", "--currency", "gbp", "--code", "brit")
    company = Company.objects.get(code="brit")
    assert (company.time_zone, company.governing_law, company.base_currency) == (
        "Europe/London",
        "UK",
        "GBP",
    )


def test_create_gives_eu_law_to_an_eu_member_without_its_own_and_contract_law_elsewhere() -> None:
    run("create", "--name", "Espa SA", "--country", "ES", "--currency", "EUR",
        "--timezone", "Europe/Madrid")  # fmt: skip
    run("create", "--name", "Swiss AG", "--country", "CH", "--currency", "CHF")
    laws = dict(Company.objects.values_list("code", "governing_law"))
    assert laws == {"espa-sa": "EU", "swiss-ag": "CONTRACT"}


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--currency", "EUX", "--currency: unknown currency 'EUX': expected an ISO 4217 code"),
        ("--country", "XX", "--country: 'XX' is not an ISO 3166-1 country code"),
        (
            "--iban",
            "DE89370400440532013001",
            "--iban: 'DE89370400440532013001' is not a valid IBAN",
        ),
        ("--bic", "XXXX", "--bic: 'XXXX' is not a valid BIC (invalid length)"),
        ("--timezone", "Europe/Nowhere", "--timezone: 'Europe/Nowhere' is not a time zone"),
        ("--holidays", "DE-XX", "--holidays: DE has no subdivision 'XX'"),
        ("--law", "Mars", "--law: no governing law 'Mars': expected one of EU, UK, DE"),
    ],
)
def test_create_refuses_a_bad_value_naming_the_option_and_what_was_expected(
    option: str, value: str, message: str
) -> None:
    args = [*ACME]
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    with pytest.raises(CommandError) as refused:
        run("create", *args)
    assert str(refused.value).startswith(message)
    assert not Company.objects.exists()


def test_create_asks_for_a_time_zone_when_the_country_has_several() -> None:
    with pytest.raises(CommandError, match=r"--timezone: Germany has 2 time zones \(Europe/Berlin"):
        run("create", "--name", "Acme GmbH", "--country", "DE", "--currency", "EUR")


def test_create_refuses_a_second_company_with_the_same_code() -> None:
    run("create", *ACME)
    with pytest.raises(CommandError, match="--code: a company with the code 'acme-gmbh' exists"):
        run("create", *ACME)
    assert Company.objects.count() == 1


def test_list_prints_the_companies_with_their_members_as_json() -> None:
    run("create", *ACME)
    run("create", "--name", "Brit Ltd", "--country", "GB", "--currency", "GBP")
    anna = User.objects.create_user("anna")
    Membership.objects.create(user=anna, company=Company.objects.get(code="brit-ltd"), role="admin")

    listed = json.loads(run("list", "--format", "json"))

    assert [(c["code"], c["currency"], c["members"]) for c in listed] == [
        ("acme-gmbh", "EUR", []),
        ("brit-ltd", "GBP", [{"user": "anna", "role": "admin"}]),
    ]
    table = run("list")
    assert "acme-gmbh" in table
    assert "Europe/London" in table


def test_list_says_how_to_start_when_there_is_no_company() -> None:
    assert "dunwell company create" in run("list")


def test_grant_creates_the_membership_and_a_regrant_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run("create", *ACME)
    monkeypatch.setenv("ANNA_PASSWORD", "correct-horse-battery")

    first = json.loads(
        run("grant", "--company", "acme-gmbh", "--user", "anna", "--role", "collector",
            "--create-user", "--password-from-env", "ANNA_PASSWORD", "--format", "json")
    )  # fmt: skip
    again = json.loads(
        run("grant", "--company", "acme-gmbh", "--user", "anna", "--role", "collector",
            "--create-user", "--password-from-env", "ANNA_PASSWORD", "--format", "json")
    )  # fmt: skip

    anna = User.objects.get(username="anna")
    assert anna.check_password("correct-horse-battery")
    assert not anna.is_staff
    assert not anna.is_superuser
    membership = Membership.objects.get()
    assert (membership.user, membership.company.code, membership.role) == (
        anna,
        "acme-gmbh",
        Role.COLLECTOR,
    )
    assert (first["outcome"], first["user_created"]) == ("created", True)
    assert (again["outcome"], again["user_created"]) == ("unchanged", False)


def test_grant_changes_the_role_of_an_existing_member_by_company_id() -> None:
    run("create", *ACME)
    company = Company.objects.get()
    User.objects.create_user("anna")
    run("grant", "--company", "acme-gmbh", "--user", "anna", "--role", "viewer")

    printed = run("grant", "--company", str(company.pk), "--user", "anna", "--role", "admin")

    assert Membership.objects.get().role == Role.ADMIN
    assert "anna is now administrator in acme-gmbh" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--company", "nope", "--user", "anna"], "--company: no company 'nope' (known: acme-gmbh)"),
        (["--company", "acme-gmbh", "--user", "bob"], "--user: there is no user 'bob': pass --create-user"),
        (["--company", "acme-gmbh", "--user", "bob", "--create-user"], "--create-user needs a password"),
    ],
)  # fmt: skip
def test_grant_refuses_with_a_message_that_says_what_to_do(args: list[str], message: str) -> None:
    run("create", *ACME)
    User.objects.create_user("anna")
    with pytest.raises(CommandError) as refused:
        run("grant", *args, "--role", "viewer")
    assert str(refused.value).startswith(message)
    assert not Membership.objects.exists()


def test_grant_refuses_a_weak_password_and_creates_no_user(monkeypatch: pytest.MonkeyPatch) -> None:
    run("create", *ACME)
    monkeypatch.setenv("WEAK", "abc")
    with pytest.raises(CommandError, match="the password is refused: This password is too short"):
        run("grant", "--company", "acme-gmbh", "--user", "bob", "--role", "viewer",
            "--create-user", "--password-from-env", "WEAK")  # fmt: skip
    assert not User.objects.filter(username="bob").exists()


def test_grant_refuses_an_unknown_role() -> None:
    run("create", *ACME)
    with pytest.raises(CommandError, match="invalid choice: 'boss'"):
        run("grant", "--company", "acme-gmbh", "--user", "anna", "--role", "boss")
