"""`dunwell case disputes|dispute|investigate|resolve`: disputes from the command line, with JSON
output for scripts (issue 4 point 9; promises, plans and placements join them)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import CommandError, CommandParser

from dunwell.cases.models import Dispute, DisputeReason, DisputeState, Resolution
from dunwell.cases.services.disputes import investigate, open_dispute, resolve
from dunwell.core.management.base import DunwellCommand, parse_iso_date
from dunwell.core.models import Company
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.ledger.models import Customer, OpenItem


class Command(DunwellCommand):
    help = "Disputes: list them, open one on invoices (all or part), investigate, resolve."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True,
                                        metavar="{disputes,dispute,investigate,resolve}")  # fmt: skip
        listing = actions.add_parser("disputes", help="the disputes not resolved (or --all)")
        listing.add_argument("--all", action="store_true", help="resolved ones too")
        dispute = actions.add_parser("dispute", help="open a dispute on invoices")
        dispute.add_argument("--customer", required=True, help="account number")
        dispute.add_argument("--invoice", required=True, action="append",
                             help="NUMBER for all that is open, NUMBER=AMOUNT for a part; repeat")  # fmt: skip
        dispute.add_argument("--reason", required=True, choices=DisputeReason.values)
        dispute.add_argument("--note", default="")
        dispute.add_argument("--owner", help="the user who handles it (username)")
        dispute.add_argument("--due-by", type=parse_iso_date, help="to be resolved by")
        step = actions.add_parser("investigate", help="a dispute is being looked into")
        step.add_argument("dispute_id", type=int)
        step.add_argument("--note", default="")
        ending = actions.add_parser("resolve", help="end a dispute")
        ending.add_argument("dispute_id", type=int)
        ending.add_argument("--resolution", required=True, choices=Resolution.values)
        ending.add_argument("--note", required=True)
        for sub in actions.choices.values():
            sub.add_argument("--company", help="company code (may be left out when only one)")
            sub.add_argument("--by", help="the user who acts (username)")
            self.add_format(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        actor = self.user(options["by"]) if options.get("by") else None
        on, at = self.today(company), self.now()
        if options["action"] == "disputes":
            shown = Dispute.objects.filter(company=company)
            if not options["all"]:
                shown = shown.exclude(state=DisputeState.RESOLVED)
            rows = [_row(d) for d in shown.select_related("customer", "owner")]
            if options["format"] == "json":
                self.emit_json(rows)
            for row in rows if options["format"] != "json" else []:
                items = ", ".join(f"{i['number']} {i['amount']}" for i in row["items"])
                self.stdout.write(f"{row['id']}  {row['customer']}  {row['state']}  "
                                  f"{row['reason']}  {items}")  # fmt: skip
            return
        if options["action"] == "dispute":
            dispute = self._open(company, options, actor, on, at)
        else:
            found = Dispute.objects.filter(company=company, pk=options["dispute_id"]).first()
            if found is None:
                raise CommandError(f"no dispute {options['dispute_id']} in {company.code}")
            dispute = found
            if options["action"] == "investigate":
                dispute = investigate(dispute=dispute, note=options["note"], actor=actor, on=on,
                                      at=at)  # fmt: skip
            else:
                dispute = resolve(dispute=dispute, resolution=options["resolution"],
                                  note=options["note"], actor=actor, on=on, at=at)  # fmt: skip
        if options["format"] == "json":
            self.emit_json(_row(dispute))
        else:
            self.stdout.write(f"dispute {dispute.pk}: {dispute.get_state_display().lower()}")

    def _open(self, company: Company, options: dict[str, Any], actor: User | None, on: Any,
              at: Any) -> Dispute:  # fmt: skip
        customer = Customer.objects.filter(company=company,
                                           account_number=options["customer"]).first()  # fmt: skip
        if customer is None:
            raise CommandError(f"no customer {options['customer']!r} in {company.code}")
        items: list[tuple[OpenItem, int | None]] = []
        for given in options["invoice"]:
            number, _, amount = given.partition("=")
            item = OpenItem.objects.filter(company=company, customer=customer,
                                           number=number.strip()).first()  # fmt: skip
            if item is None:
                raise CommandError(f"{customer.account_number} has no invoice {number!r}")
            try:
                minor = Money(parse_amount(amount), item.currency).minor if amount else None
            except MoneyError as error:
                raise CommandError(f"--invoice {given!r}: {error}") from None
            items.append((item, minor))
        owner = self.user(options["owner"]) if options["owner"] else None
        return open_dispute(company=company, customer=customer, items=items,
                            reason=options["reason"], note=options["note"], owner=owner,
                            due_by=options["due_by"], actor=actor, on=on, at=at)  # fmt: skip


def _row(dispute: Dispute) -> dict[str, Any]:
    return {
        "id": dispute.pk,
        "customer": dispute.customer.account_number,
        "state": dispute.state,
        "reason": dispute.reason,
        "resolution": dispute.resolution,
        "note": dispute.note,
        "owner": dispute.owner.username if dispute.owner else None,
        "due_by": dispute.due_by.isoformat() if dispute.due_by else None,
        "opened_on": dispute.opened_on.isoformat(),
        "resolved_on": dispute.resolved_on.isoformat() if dispute.resolved_on else None,
        "items": [
            {
                "number": d.item.number,
                "amount": str(Money.from_minor(d.amount_minor, d.item.currency).amount),
                "currency": d.item.currency,
            }
            for d in dispute.items.select_related("item").order_by("item__number")
        ],
    }
