"""`dunwell credit ...`: credit holds placed and released by a person, with why; limits with their
history; exposure against the limits; the policy's check; risk scores; reviews; applications.

    dunwell credit holds | hold | release --customer C --reason R --by U
    dunwell credit limit --customer C --set 25000.00|none --reason R [--by U]
    dunwell credit exposure [--customer C] [--over]
    dunwell credit check [--on D]          the policy's holds placed and released
    dunwell credit scores [--customer C] [--refresh]
    dunwell credit reviews                 the reviews that are due, as tasks
    dunwell credit apply --customer C --requested 50000 [--net-worth ...] [--references F.json]
    dunwell credit application N           with the suggested limit by method
    dunwell credit decide N --approve --limit 40000 | --decline  --reason R [--by U]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from dunwell.core.errors import DunwellError
from dunwell.core.management.base import DunwellCommand, parse_iso_date
from dunwell.core.models import Company
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.credit.models import CreditApplication, CreditHold, CreditLimitChange, RiskScore
from dunwell.credit.services.exposure import Exposure, exposures
from dunwell.credit.services.holds import place_credit_hold, release_credit_hold
from dunwell.credit.services.limits import (
    ApplicationInput,
    decide_application,
    record_application,
    schedule_reviews,
    set_limit,
    suggestion,
)
from dunwell.credit.services.policy import check_credit
from dunwell.credit.services.scores import refresh_scores
from dunwell.ledger.models import Customer

ACTIONS = ("holds", "hold", "release", "limit", "exposure", "check", "scores", "reviews", "apply",
           "application", "decide")  # fmt: skip
AMOUNT_OPTIONS = ("net_worth", "working_capital", "annual_sales", "monthly_purchases",
                  "bureau_limit")  # fmt: skip


def _amount(minor: int | None, currency: str) -> str | None:
    return None if minor is None else str(Money.from_minor(minor, currency).amount)


def _minor(text: str, currency: str, option: str) -> int:
    try:
        return Money(parse_amount(text), currency).minor
    except MoneyError as error:
        raise CommandError(f"--{option.replace('_', '-')} {text!r}: {error}") from None


class Command(DunwellCommand):
    help = (
        "Credit: holds, limits, exposure, the policy's check, risk scores, reviews, applications."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True,
                                        metavar="{" + ",".join(ACTIONS) + "}")  # fmt: skip
        actions.add_parser("holds", help="the customers on credit hold")
        for name, text in (("hold", "put a customer on credit hold"),
                           ("release", "take a customer off credit hold")):  # fmt: skip
            sub = actions.add_parser(name, help=text)
            sub.add_argument("--customer", required=True, help="account number")
            sub.add_argument("--reason", required=True)
            sub.add_argument("--by", required=True, help="the user who decided (username)")
        limit = actions.add_parser("limit", help="set a customer's credit limit, with why")
        limit.add_argument("--customer", required=True, help="account number")
        limit.add_argument("--set", dest="limit", required=True,
                           help="the limit in the customer's currency, or none")  # fmt: skip
        limit.add_argument("--reason", required=True)
        limit.add_argument("--by", help="the user who decided (username)")
        exposure = actions.add_parser("exposure", help="exposure against the limits")
        exposure.add_argument("--customer", help="account number (default: all)")
        exposure.add_argument("--over", action="store_true", help="only those over their limit")
        check = actions.add_parser("check", help="the policy's holds placed and released")
        check.add_argument("--on", type=parse_iso_date, help="business date (default: today)")
        scores = actions.add_parser("scores", help="risk scores, worst first")
        scores.add_argument("--customer", help="account number (default: all)")
        scores.add_argument("--refresh", action="store_true", help="score everyone again first")
        actions.add_parser("reviews", help="create the credit reviews that are due, as tasks")
        apply = actions.add_parser("apply", help="record a credit application")
        apply.add_argument("--customer", required=True, help="account number")
        apply.add_argument("--requested", required=True, help="the limit asked for")
        apply.add_argument("--received", type=parse_iso_date, help="YYYY-MM-DD (default: today)")
        for option in AMOUNT_OPTIONS:
            apply.add_argument(f"--{option.replace('_', '-')}", dest=option)
        apply.add_argument("--terms-days", type=int)
        apply.add_argument("--expected-delay-days", type=int, default=0)
        apply.add_argument("--references", type=Path,
                           help="JSON file: [{name, contact, high_credit_minor, terms, pays}]")  # fmt: skip
        apply.add_argument("--bureau", default="")
        apply.add_argument("--bureau-score", default="")
        apply.add_argument("--bureau-report-on", type=parse_iso_date)
        apply.add_argument("--by", help="who recorded it (username)")
        show = actions.add_parser("application", help="an application and its suggested limit")
        show.add_argument("id", type=int)
        decide = actions.add_parser("decide", help="approve or decline an application")
        decide.add_argument("id", type=int)
        way = decide.add_mutually_exclusive_group(required=True)
        way.add_argument("--approve", action="store_true")
        way.add_argument("--decline", action="store_true")
        decide.add_argument("--limit", help="the limit granted (with --approve)")
        decide.add_argument("--reason", required=True)
        decide.add_argument("--by", help="the user who decided (username)")
        self.add_to_each(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        action = options["action"]
        try:
            result = getattr(self, f"_{action}")(company, options)
        except DunwellError as error:
            name = error.context.get("field", "")
            raise CommandError(f"--{name}: {error.message}" if name else error.message) from None
        if action in ("holds", "hold", "release"):
            return  # these write their own output
        if options["format"] == "json":
            self.emit_json(result)
        else:
            self._text(action, result)

    def _customer(self, company: Company, number: str) -> Customer:
        customer = Customer.objects.filter(company=company, account_number=number).first()
        if customer is None:
            raise CommandError(f"--customer: no customer {number!r} in {company.code}")
        return customer

    # holds -----------------------------------------------------------------------------------

    def _hold(self, company: Company, options: dict[str, Any]) -> None:
        self._hold_or_release(company, options)

    def _release(self, company: Company, options: dict[str, Any]) -> None:
        self._hold_or_release(company, options)

    def _hold_or_release(self, company: Company, options: dict[str, Any]) -> None:
        customer = self._customer(company, options["customer"])
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
            if hold.override_until:
                said += f" (the policy holds it again no sooner than {hold.override_until})"
        if options["format"] == "json":
            self.emit_json(_hold_row(hold) | {"result": said})
        else:
            self.stdout.write(f"{customer.account_number}: credit hold {said}")

    def _holds(self, company: Company, options: dict[str, Any]) -> None:
        rows = [_hold_row(h) for h in CreditHold.objects.filter(company=company,
                released_on__isnull=True).select_related("customer", "placed_by")
                .order_by("placed_on", "pk")]  # fmt: skip
        if options["format"] == "json":
            self.emit_json(rows)
            return
        for row in rows:
            self.stdout.write(f"{row['customer']}  {row['placed_on']}  {row['reason']} "
                              f"({row['source']})")  # fmt: skip
        if not rows:
            self.stdout.write("no customer is on credit hold")

    # limits and exposure ---------------------------------------------------------------------

    def _limit(self, company: Company, options: dict[str, Any]) -> dict[str, Any]:
        customer = self._customer(company, options["customer"])
        text = options["limit"].strip()
        minor = None if text.lower() == "none" else _minor(text, customer.currency, "set")
        actor = self.user(options["by"]) if options["by"] else None
        change = set_limit(company=company, customer=customer, limit_minor=minor,
                           reason=options["reason"], actor=actor, on=self.today(company),
                           at=self.now())  # fmt: skip
        return _limit_row(change, customer) | {"exposure": _exposure_row(
            exposures(company, self.today(company), [customer.pk])[customer.pk], customer)}  # fmt: skip

    def _exposure(self, company: Company, options: dict[str, Any]) -> list[dict[str, Any]]:
        ids = [self._customer(company, options["customer"]).pk] if options["customer"] else None
        found = exposures(company, self.today(company), ids)
        customers = Customer.objects.in_bulk(list(found))
        rows = sorted(found.values(), key=lambda e: (-e.over_limit_minor, -e.total_minor,
                                                     customers[e.customer_id].account_number))  # fmt: skip
        if options["over"]:
            rows = [e for e in rows if e.over_limit_minor > 0]
        return [_exposure_row(e, customers[e.customer_id]) for e in rows if e.total_minor
                or e.limit_minor is not None]  # fmt: skip

    def _check(self, company: Company, options: dict[str, Any]) -> dict[str, object]:
        on = options["on"] or self.today(company)
        return check_credit(company=company, on=on, at=self.now()).as_dict()

    # scores and reviews ----------------------------------------------------------------------

    def _scores(self, company: Company, options: dict[str, Any]) -> list[dict[str, Any]]:
        if options["refresh"]:
            refresh_scores(company=company, as_of=self.today(company), at=self.now())
        rows = RiskScore.objects.filter(company=company).select_related("customer")
        if options["customer"]:
            rows = rows.filter(customer=self._customer(company, options["customer"]))
        ordered = sorted(rows, key=lambda s: (s.value is None, s.value or 0,
                                              s.customer.account_number))  # fmt: skip
        return [{"customer": s.customer.account_number, "name": s.customer.legal_name,
                 "score": s.value, "band": s.band or None,
                 "payment_index": None if s.payment_index is None else str(s.payment_index),
                 "dbt_days": None if s.dbt_days is None else str(s.dbt_days),
                 "experiences": s.experiences, "components": s.components,
                 "explanation": s.explanation, "as_of": s.as_of.isoformat()}
                for s in ordered]  # fmt: skip

    def _reviews(self, company: Company, options: dict[str, Any]) -> dict[str, int]:
        return {"created": schedule_reviews(company=company, on=self.today(company),
                                            at=self.now())}  # fmt: skip

    # applications ----------------------------------------------------------------------------

    def _apply(self, company: Company, options: dict[str, Any]) -> dict[str, Any]:
        customer = self._customer(company, options["customer"])
        amounts = {f"{o}_minor": _minor(options[o], customer.currency, o)
                   for o in AMOUNT_OPTIONS if options[o]}  # fmt: skip
        references: tuple[dict[str, Any], ...] = ()
        if options["references"] is not None:
            path: Path = options["references"]
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise CommandError(f"--references {path}: {error}") from None
            if not isinstance(loaded, list) or not all(isinstance(r, dict) for r in loaded):
                raise CommandError(f"--references {path}: expected a JSON list of objects")
            references = tuple(loaded)
        spec = ApplicationInput(
            requested_minor=_minor(options["requested"], customer.currency, "requested"),
            received_on=options["received"] or self.today(company),
            terms_days=options["terms_days"], expected_delay_days=options["expected_delay_days"],
            trade_references=references, bureau=options["bureau"],
            bureau_score=options["bureau_score"], bureau_report_on=options["bureau_report_on"],
            **amounts,
        )  # fmt: skip
        actor = self.user(options["by"]) if options["by"] else None
        made = record_application(company=company, customer=customer, spec=spec, actor=actor,
                                  at=self.now())  # fmt: skip
        return _application_row(made)

    def _application(self, company: Company, options: dict[str, Any]) -> dict[str, Any]:
        return _application_row(self._found_application(company, options["id"]))

    def _decide(self, company: Company, options: dict[str, Any]) -> dict[str, Any]:
        application = self._found_application(company, options["id"])
        limit = options["limit"]
        if options["decline"] and limit:
            raise CommandError("--limit: a declined application grants no limit")
        minor = _minor(limit, application.currency, "limit") if limit else None
        actor = self.user(options["by"]) if options["by"] else None
        decided = decide_application(application=application, approve=options["approve"],
                                     limit_minor=minor, reason=options["reason"], actor=actor,
                                     on=self.today(company), at=self.now())  # fmt: skip
        return _application_row(decided)

    def _found_application(self, company: Company, pk: int) -> CreditApplication:
        found = (
            CreditApplication.objects.filter(company=company, pk=pk)
            .select_related("customer")
            .first()
        )
        if found is None:
            raise CommandError(f"no credit application {pk} in {company.code}")
        return found

    # text output -----------------------------------------------------------------------------

    def _text(self, action: str, result: Any) -> None:
        if action == "exposure":
            for r in result:
                over = f"  OVER by {r['over_limit']}" if r["over_limit"] != "0.00" else ""
                self.stdout.write(f"{r['customer']:<12} {r['currency']} exposure {r['exposure']:>14}"
                                  f"  limit {r['limit'] or 'none':>14}{over}")  # fmt: skip
            if not result:
                self.stdout.write("no customer has an exposure or a limit")
        elif action == "scores":
            for r in result:
                self.stdout.write(f"{r['customer']:<12} {r['explanation']}")
            if not result:
                self.stdout.write("no scores yet: run `dunwell credit scores --refresh`")
        elif action == "check":
            for r in result["placed"]:
                self.stdout.write(f"placed   {r['customer']}: {r['reason']}")
            for r in result["released"]:
                self.stdout.write(f"released {r['customer']}: {r['reason']}")
            for account in result["overridden"]:
                self.stdout.write(f"not held {account}: a person released it, the override stands")
            if not (result["placed"] or result["released"] or result["overridden"]):
                self.stdout.write("nothing to place or release")
        else:
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False, default=str))


def _hold_row(hold: CreditHold) -> dict[str, Any]:
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
        "override_until": hold.override_until.isoformat() if hold.override_until else None,
    }


def _limit_row(change: CreditLimitChange, customer: Customer) -> dict[str, Any]:
    return {"customer": customer.account_number, "currency": change.currency,
            "previous": _amount(change.previous_minor, change.currency),
            "limit": _amount(change.limit_minor, change.currency), "reason": change.reason,
            "on": change.on.isoformat()}  # fmt: skip


def _exposure_row(exposure: Exposure, customer: Customer) -> dict[str, Any]:
    c = exposure.currency
    return {"customer": customer.account_number, "name": customer.legal_name, "currency": c,
            "open": _amount(exposure.open_minor, c),
            "unapplied": _amount(exposure.unapplied_minor, c),
            "orders": _amount(exposure.orders_minor, c),
            "exposure": _amount(exposure.total_minor, c),
            "limit": _amount(exposure.limit_minor, c),
            "over_limit": _amount(exposure.over_limit_minor, c),
            "oldest_days_past_due": exposure.oldest_days}  # fmt: skip


def _application_row(application: CreditApplication) -> dict[str, Any]:
    c = application.currency
    suggested = suggestion(application)
    return {
        "id": application.pk, "customer": application.customer.account_number,
        "received_on": application.received_on.isoformat(), "currency": c,
        "requested": _amount(application.requested_minor, c), "state": application.state,
        "trade_references": application.trade_references, "bureau": application.bureau,
        "bureau_score": application.bureau_score,
        "bureau_limit": _amount(application.bureau_limit_minor, c),
        "suggested": {"by_method": {k: _amount(v, c) for k, v in suggested.by_method.items()},
                      "blend": _amount(suggested.blend_minor, c),
                      "needs_based": _amount(suggested.needs_minor, c)},
        "decided": _amount(application.decided_minor, c),
        "decided_on": application.decided_on.isoformat() if application.decided_on else None,
        "decision_reason": application.decision_reason,
    }  # fmt: skip
