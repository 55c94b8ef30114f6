"""`dunwell company create|list|grant`: set up the companies (creditors) and who works in them.

dunwell company create --name "Acme GmbH" --country DE --currency EUR --timezone Europe/Berlin
dunwell company list --format json
dunwell company grant --company acme-gmbh --user alice --role collector --create-user
dunwell company revoke --company acme-gmbh --user alice
dunwell company reset-two-factor --user alice   # a lost phone: set it up again at next sign-in
dunwell company set --company nordlys-as --kid-check mod11
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import CommandError, CommandParser
from django.db.models import Count

from dunwell.core.errors import DunwellError
from dunwell.core.i18n import english
from dunwell.core.management.base import DunwellCommand
from dunwell.core.models import Company, GoverningLaw, Membership, Role
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.core.services import two_factor
from dunwell.core.services.companies import (
    CompanyInput,
    access_company,
    create_company,
    create_user,
    grant_access,
    revoke_access,
    set_kid_check,
    set_write_off_threshold,
)

# The option a user typed for each field a service names in its errors.
OPTIONS = {
    "name": "--name",
    "code": "--code",
    "country": "--country",
    "currency": "--currency",
    "time_zone": "--timezone",
    "iban": "--iban",
    "bic": "--bic",
    "holidays": "--holidays",
    "law": "--law",
    "company": "--company",
    "user": "--user",
    "role": "--role",
    "write_off_approval": "--write-off-approval",
    "kid_check": "--kid-check",
}


def option_error(exc: DunwellError) -> CommandError:
    option = OPTIONS.get(str(exc.context.get("field", "")))
    return CommandError(f"{option}: {exc.message}" if option else exc.message)


def company_row(company: Company, members: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": company.pk,
        "code": company.code,
        "name": company.legal_name,
        "country": company.country,
        "currency": company.base_currency,
        "time_zone": company.time_zone,
        "iban": company.iban,
        "bic": company.bic,
        "holidays": "-".join(
            p for p in (company.holiday_country, company.holiday_subdivision) if p
        ),
        "law": company.governing_law,
        "kid_check": company.kid_check,
        "write_off_approval": str(
            Money.from_minor(company.write_off_approval_minor, company.base_currency).amount
        ),
    }
    if members is not None:
        row["members"] = [{"user": user, "role": role} for user, role in members]
    return row


class Command(DunwellCommand):
    help = "Create and list companies, and grant users a role in one."
    needs_company = False

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{create,list,grant,revoke,reset-two-factor,set}"
        )
        create = actions.add_parser("create", help="create a company")
        create.add_argument("--name", required=True, help="legal name, e.g. 'Acme GmbH'")
        create.add_argument("--country", required=True, help="ISO 3166-1 code, e.g. DE")
        create.add_argument("--currency", required=True, help="base currency (ISO 4217), e.g. EUR")
        create.add_argument("--code", default="", help="short code (default: the name as a slug)")
        create.add_argument(
            "--timezone",
            default="",
            help="IANA time zone, e.g. Europe/Berlin (default: the country's, if it has one)",
        )
        create.add_argument("--iban", default="", help="the account customers pay into")
        create.add_argument("--bic", default="", help="the bank's BIC")
        create.add_argument(
            "--holidays", default="", help="holiday calendar, e.g. DE or DE-BY (default: none)"
        )
        create.add_argument(
            "--law",
            default="",
            help=f"governing law for late fees: {', '.join(GoverningLaw.values)} "
            "(default: the country's own, else EU for EU members, else CONTRACT)",
        )
        create.add_argument(
            "--kid-check",
            default="mod10",
            choices=["mod10", "mod11"],
            help="Norway: how KID references are checked, as agreed with the bank (default mod10)",
        )
        self.add_format(create)
        self.add_format(actions.add_parser("list", help="list the companies and their members"))
        grant = actions.add_parser("grant", help="give a user a role in a company")
        grant.add_argument("--company", required=True, help="the company's code or id")
        grant.add_argument("--user", required=True, help="username")
        grant.add_argument("--role", required=True, choices=Role.values)
        grant.add_argument(
            "--create-user", action="store_true", help="create the user if there is none"
        )
        grant.add_argument(
            "--password-from-env",
            metavar="VAR",
            help="with --create-user: read the password from this environment variable "
            "(default: ask for it)",
        )
        self.add_format(grant)
        revoke = actions.add_parser("revoke", help="take a user's role in a company away")
        revoke.add_argument("--company", required=True, help="the company's code or id")
        revoke.add_argument("--user", required=True, help="username")
        self.add_format(revoke)
        reset = actions.add_parser(
            "reset-two-factor",
            help="remove a user's two-factor devices (a lost phone): they set one up again",
        )
        reset.add_argument("--user", required=True, help="username")
        self.add_format(reset)
        settings = actions.add_parser("set", help="change a company's settings")
        settings.add_argument("--company", required=True, help="the company's code or id")
        settings.add_argument(
            "--write-off-approval",
            metavar="AMOUNT",
            help="write-offs above this (in the base currency) need a second person's approval",
        )
        settings.add_argument(
            "--kid-check",
            choices=["mod10", "mod11"],
            help="Norway: how the KID references of invoices issued from now on are checked",
        )
        self.add_format(settings)

    def handle(self, *args: Any, **options: Any) -> None:
        handler = {
            "create": self.create,
            "list": self.list_companies,
            "grant": self.grant,
            "revoke": self.revoke,
            "reset-two-factor": self.reset_two_factor,
            "set": self.set_settings,
        }
        try:
            handler[options["action"]](options)
        except DunwellError as exc:
            raise option_error(exc) from exc

    # -- create -----------------------------------------------------------------------------------

    def create(self, options: dict[str, Any]) -> None:
        company = create_company(
            spec=CompanyInput(
                name=options["name"],
                country=options["country"],
                currency=options["currency"],
                code=options["code"],
                time_zone=options["timezone"],
                iban=options["iban"],
                bic=options["bic"],
                holidays=options["holidays"],
                law=options["law"],
                kid_check=options["kid_check"],
            )
        )
        if options["format"] == "json":
            self.emit_json(company_row(company))
            return
        row = company_row(company)
        self.stdout.write(
            self.style.SUCCESS(f"created {company.code}: {company.legal_name}")
            + f" ({row['country']}, {row['currency']}, {row['time_zone']}, "
            f"law {row['law']}, holidays {row['holidays'] or 'none'})"
        )
        self.stdout.write(
            f"next: dunwell company grant --company {company.code} --user USERNAME --role admin"
        )

    # -- list -------------------------------------------------------------------------------------

    def list_companies(self, options: dict[str, Any]) -> None:
        companies = list(
            Company.objects.annotate(member_count=Count("memberships")).order_by("legal_name", "pk")
        )
        members: dict[int, list[tuple[str, str]]] = {}
        for company_id, username, role in Membership.objects.order_by("user__username").values_list(
            "company_id", "user__username", "role"
        ):
            members.setdefault(company_id, []).append((username, role))
        if options["format"] == "json":
            self.emit_json([company_row(c, members.get(c.pk, [])) for c in companies])
            return
        if not companies:
            self.stdout.write("no companies yet: create one with `dunwell company create`")
            return
        self.stdout.write(
            f"{'id':>4}  {'code':20} {'name':32} {'country':7} {'currency':8} "
            f"{'time zone':20} members"
        )
        for c in companies:
            self.stdout.write(
                f"{c.pk:>4}  {c.code:20} {c.legal_name[:32]:32} {c.country:7} "
                f"{c.base_currency:8} {c.time_zone:20} {c.member_count}"
            )

    # -- set --------------------------------------------------------------------------------------

    def set_settings(self, options: dict[str, Any]) -> None:
        text, kid = options["write_off_approval"], options["kid_check"]
        if text is None and kid is None:
            raise CommandError("set: give --write-off-approval AMOUNT or --kid-check mod10|mod11")
        company = access_company(options["company"])
        said = []
        if text is not None:
            try:
                amount = Money(parse_amount(text), company.base_currency).minor
            except MoneyError as error:
                raise CommandError(f"--write-off-approval {text!r}: {error}") from None
            company = set_write_off_threshold(company=company, amount_minor=amount)
            limit = Money.from_minor(company.write_off_approval_minor, company.base_currency)
            said.append(f"{company.code}: write-offs above {limit} need a second person")
        if kid is not None:
            company = set_kid_check(company=company, method=kid)
            said.append(f"{company.code}: KID references of new invoices use {kid.upper()}")
        if options["format"] == "json":
            self.emit_json(company_row(company))
            return
        self.stdout.write("\n".join(said))

    # -- grant ------------------------------------------------------------------------------------

    def grant(self, options: dict[str, Any]) -> None:
        company = access_company(options["company"])
        user = User.objects.filter(username=options["user"]).first()
        made_user = False
        if user is None:
            if not options["create_user"]:
                raise CommandError(
                    f"--user: there is no user {options['user']!r}: "
                    "pass --create-user to create one"
                )
            password = self._password(options["password_from_env"])
            user = create_user(username=options["user"], password=password, at=self.now())
            made_user = True
        membership, outcome = grant_access(company=company, user=user, role=options["role"],
                                           at=self.now())  # fmt: skip
        if options["format"] == "json":
            self.emit_json(
                {
                    "company": company.code,
                    "user": user.get_username(),
                    "role": membership.role,
                    "outcome": outcome,
                    "user_created": made_user,
                }
            )
            return
        if made_user:
            self.stdout.write(f"created user {user.get_username()}")
        verb = {"created": "is now", "changed": "is now", "unchanged": "was already"}[outcome]
        self.stdout.write(
            self.style.SUCCESS(
                f"{user.get_username()} {verb} {english(Role(membership.role).label).lower()} "
                f"in {company.code}"
            )
        )

    # -- revoke, reset-two-factor ---------------------------------------------------------------

    def revoke(self, options: dict[str, Any]) -> None:
        company = access_company(options["company"])
        user = self.user(options["user"])
        revoked = revoke_access(company=company, user=user, at=self.now())
        if options["format"] == "json":
            self.emit_json({"company": company.code, "user": user.get_username(),
                            "revoked": revoked})  # fmt: skip
            return
        if not revoked:
            raise CommandError(f"--user: {user.get_username()} has no role in {company.code}")
        self.stdout.write(
            self.style.SUCCESS(f"{user.get_username()} no longer works in {company.code}")
        )

    def reset_two_factor(self, options: dict[str, Any]) -> None:
        user = self.user(options["user"])
        removed = two_factor.reset(
            user=user, at=self.now(), detail="dunwell company reset-two-factor"
        )
        if options["format"] == "json":
            self.emit_json({"user": user.get_username(), "devices_removed": removed})
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{user.get_username()}: {removed} two-factor device(s) removed; "
                "they set up a new one at their next sign-in"
            )
            if removed
            else f"{user.get_username()} had no two-factor device"
        )

    def _password(self, variable: str | None) -> str:
        if variable:
            value = os.environ.get(variable)
            if not value:
                raise CommandError(f"--password-from-env: {variable} is not set or empty")
            return value
        if not sys.stdin.isatty():
            raise CommandError(
                "--create-user needs a password: pass --password-from-env VAR, "
                "or run the command in a terminal to be asked"
            )
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ: nothing was created")
        return first
