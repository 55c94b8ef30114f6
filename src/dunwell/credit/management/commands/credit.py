"""`dunwell credit holds|hold|release`: credit holds placed and released by a person, with why."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from dunwell.core.management.base import DunwellCommand
from dunwell.core.models import Company
from dunwell.credit.models import CreditHold
from dunwell.credit.services.holds import place_credit_hold, release_credit_hold
from dunwell.ledger.models import Customer


class Command(DunwellCommand):
    help = "Credit holds: list the open ones, place one by hand, release one with a reason."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True,
                                        metavar="{holds,hold,release}")  # fmt: skip
        actions.add_parser("holds", help="the customers on credit hold")
        for name, text in (("hold", "put a customer on credit hold"),
                           ("release", "take a customer off credit hold")):  # fmt: skip
            sub = actions.add_parser(name, help=text)
            sub.add_argument("--customer", required=True, help="account number")
            sub.add_argument("--reason", required=True)
            sub.add_argument("--by", required=True, help="the user who decided (username)")
        self.add_to_each(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        if options["action"] == "holds":
            self._holds(company, options)
            return
        customer = Customer.objects.filter(company=company,
                                           account_number=options["customer"]).first()  # fmt: skip
        if customer is None:
            raise CommandError(f"no customer {options['customer']!r} in {company.code}")
        user = self.user(options["by"])
        on, at = self.today(company), self.now()
        if options["action"] == "hold":
            with transaction.atomic():
                hold, new = place_credit_hold(company=company, customer=customer, on=on, at=at,
                                              reason=options["reason"], source="by hand",
                                              actor=user)  # fmt: skip
            said = "placed" if new else f"already on hold since {hold.placed_on.isoformat()}"
        else:
            hold = release_credit_hold(company=company, customer=customer, on=on, at=at,
                                       reason=options["reason"], actor=user)  # fmt: skip
            said = "released"
        if options["format"] == "json":
            self.emit_json(_row(hold) | {"result": said})
        else:
            self.stdout.write(f"{customer.account_number}: credit hold {said}")

    def _holds(self, company: Company, options: dict[str, Any]) -> None:
        rows = [_row(h) for h in CreditHold.objects.filter(company=company, released_on__isnull=True)
                .select_related("customer", "placed_by").order_by("placed_on", "pk")]  # fmt: skip
        if options["format"] == "json":
            self.emit_json(rows)
            return
        for row in rows:
            self.stdout.write(f"{row['customer']}  {row['placed_on']}  {row['reason']} "
                              f"({row['source']})")  # fmt: skip
        if not rows:
            self.stdout.write("no customer is on credit hold")


def _row(hold: CreditHold) -> dict[str, Any]:
    return {
        "customer": hold.customer.account_number,
        "name": hold.customer.legal_name,
        "placed_on": hold.placed_on.isoformat(),
        "reason": hold.reason,
        "source": hold.source,
        "placed_by": hold.placed_by.username if hold.placed_by else None,
        "released_on": hold.released_on.isoformat() if hold.released_on else None,
        "release_reason": hold.release_reason,
        "released_by": hold.released_by.username if hold.released_by else None,
    }
