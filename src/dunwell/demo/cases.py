"""The demo's case work during its month of collections: what a collections team does beside the
dunning run, through the same workflows and services the pages and commands use.

- The collectors make the calls the run asked for and log each with an outcome (no answer,
  voicemail, will pay, promise to pay with the oldest overdue invoice and a date four days on);
  every other promise is kept by a payment the day before its date, the rest are broken (the
  daily cycle decides them and the next run escalates).
- On the second business day three customers dispute an invoice (part of one for quantity, one
  for price, one not received); one goes under investigation, the price dispute is rejected.
- On the third, the customer with the most overdue agrees six monthly instalments, and pays the
  first on its date.
- On the fourth, the second-largest debtor is placed with a collection agency, which reports a
  recovery two weeks later.

Choices are by rank of the overdue amount and by turn, so the demo is the same every time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from dunwell.cases.models import CallOutcome, Dispute, PaymentPlan, Placement, PromiseToPay
from dunwell.cases.services import disputes, placements
from dunwell.core.errors import DunwellError
from dunwell.core.models import Company
from dunwell.dunning.models import Message
from dunwell.ledger.models import Customer, ItemKind, OpenItem
from dunwell.ledger.services.payments import PaymentInput, receive_payment
from dunwell.workflows import calls, plans
from dunwell.workflows.payments import apply_payment

OUTCOMES = (CallOutcome.NO_ANSWER, CallOutcome.PROMISE, CallOutcome.VOICEMAIL,
            CallOutcome.PROMISE, CallOutcome.WILL_PAY)  # fmt: skip
NOTES = {
    CallOutcome.NO_ANSWER: "rang out, no voicemail",
    CallOutcome.VOICEMAIL: "left a message for accounts payable",
    CallOutcome.PROMISE: "AP confirms the payment run",
    CallOutcome.WILL_PAY: "invoice approved, in the next payment run",
}


@dataclass
class CaseStats:
    calls_logged: int = 0
    promises: int = 0
    disputes: int = 0
    plans: int = 0
    placements: int = 0
    payments: int = 0


@dataclass
class Desk:
    company: Company
    users: dict[str, Any]
    stats: CaseStats = field(default_factory=CaseStats)
    _due: list[tuple[date, Any]] = field(default_factory=list)  # (day, payment to make)
    _serial: int = 0

    def call(self, task: Message, turn: int, day: date, at: datetime) -> bool:
        """Log the step's call task `task` with the outcome of its turn; whether it was."""
        outcome = OUTCOMES[turn % len(OUTCOMES)]
        customer = task.customer
        promise = None
        oldest = _overdue(customer, day)[:1]
        if outcome == CallOutcome.PROMISE and oldest:
            item = oldest[0]
            promise = calls.PromiseSpec(amount_minor=item.open_minor, currency=item.currency,
                                        promised_on=day + timedelta(days=4), items=(item,))  # fmt: skip
        elif outcome == CallOutcome.PROMISE:
            outcome = CallOutcome.WILL_PAY
        contact = customer.contacts.exclude(phone="").first()
        try:
            logged = calls.log_call(
                company=self.company, customer=customer, outcome=outcome, contact=contact,
                phone=contact.phone if contact else "", note=NOTES[outcome],
                message_id=task.pk, promise=promise, actor=task.assignee, on=day, at=at,
            )  # fmt: skip
        except DunwellError:
            return False  # e.g. the invoice was paid in the meantime: the collector moves on
        self.stats.calls_logged += 1
        if logged.promise is not None:
            self.stats.promises += 1
            if self.stats.promises % 2:  # every other promise is kept, the day before its date
                self._due.append((logged.promise.promised_on - timedelta(days=1), logged.promise))
        return True

    def day(self, index: int, day: date, at: datetime) -> None:
        """The case work of business day `index` of the month."""
        for when, what in [entry for entry in self._due if entry[0] <= day]:
            self._due.remove((when, what))
            self._settle(what, day, at)
        if index == 1:
            self._disputes(day, at)
        elif index == 2:
            self._plan(day, at)
        elif index == 3:
            self._placement(day, at)
        elif index == 4:
            self._investigate(day, at)
        elif index == 9:
            self._reject_price_dispute(day, at)
        elif index == 13:
            self._recovery(day, at)

    # -- the scripted cases ------------------------------------------------------------------

    def _ranked(self, day: date) -> list[Customer]:
        """Customers by overdue amount, largest first, without open cases of their own."""
        busy = set(Dispute.objects.filter(company=self.company).values_list("customer", flat=True))
        busy |= set(
            Placement.objects.filter(company=self.company).values_list("customer", flat=True)
        )
        busy |= set(self.company_plans())
        totals = (
            OpenItem.objects.filter(
                company=self.company,
                kind=ItemKind.INVOICE,
                open_minor__gt=0,
                due_on__lt=day - timedelta(days=30),
            )
            .values("customer")
            .annotate(total=Sum("open_minor"))
            .order_by("-total", "customer")
        )
        ids = [row["customer"] for row in totals if row["customer"] not in busy][:12]
        found = Customer.objects.in_bulk(ids)
        return [found[i] for i in ids]

    def company_plans(self) -> list[int]:
        return list(
            PaymentPlan.objects.filter(company=self.company).values_list("customer", flat=True)
        )

    def _disputes(self, day: date, at: datetime) -> None:
        ranked = [c for c in self._ranked(day) if _overdue(c, day)][4:7]
        reasons = ("quantity", "price", "not_received")
        notes = ("two of twelve cartons missing on delivery", "unit price above the framework "
                 "agreement", "goods never arrived at the Lyon warehouse")  # fmt: skip
        for customer, reason, note in zip(ranked, reasons, notes, strict=False):
            item = _overdue(customer, day)[0]
            part = item.open_minor * 3 // 10 if reason == "quantity" else None
            disputes.open_dispute(company=self.company, customer=customer,
                                  items=[(item, part)], reason=reason, note=note,
                                  owner=customer.owner, due_by=day + timedelta(days=21),
                                  actor=customer.owner or self.users["collector"], on=day,
                                  at=at)  # fmt: skip
            self.stats.disputes += 1

    def _investigate(self, day: date, at: datetime) -> None:
        first = Dispute.objects.filter(company=self.company, reason="quantity").first()
        if first is not None:
            disputes.investigate(dispute=first, note="asked the warehouse for the delivery note",
                                 actor=first.owner, on=day, at=at)  # fmt: skip

    def _reject_price_dispute(self, day: date, at: datetime) -> None:
        price = Dispute.objects.filter(company=self.company, reason="price").first()
        if price is not None:
            disputes.resolve(dispute=price, resolution="rejected",
                             note="price as in the signed framework agreement of 2025",
                             actor=self.users["credit"], on=day, at=at)  # fmt: skip

    def _plan(self, day: date, at: datetime) -> None:
        ranked = [c for c in self._ranked(day) if _overdue(c, day)]
        if not ranked:
            return
        customer, items = ranked[0], _overdue(ranked[0], day)
        agreed = plans.agree_plan(
            company=self.company, customer=customer, items=items, instalments=6,
            every_months=1, first_due_on=day + timedelta(days=7), interest_percent=Decimal(4),
            agreed_by="the managing director", note="agreed on the phone, letter sent",
            actor=self.users["credit"], on=day, at=at,
        )  # fmt: skip
        self.stats.plans += 1
        first = agreed.plan.instalments.order_by("sequence").first()
        if first is not None:
            self._due.append((first.due_on, first))

    def _placement(self, day: date, at: datetime) -> None:
        ranked = [c for c in self._ranked(day) if _overdue(c, day)]
        if not ranked:
            return
        customer = ranked[0]
        agency = placements.create_agency(
            company=self.company, name="Inkasso Nord GmbH", commission_percent="15",
            email="auftrag@inkasso-nord.example", phone="+49 40 555 0100",
            address="Ballindamm 8, 20095 Hamburg", at=at,
        )  # fmt: skip
        placements.place_account(company=self.company, customer=customer, agency=agency,
                                 currency=customer.currency, on=day, at=at,
                                 actor=self.users["credit"],
                                 note="no answer for eight weeks, letter before action ignored")  # fmt: skip
        self.stats.placements += 1

    def _recovery(self, day: date, at: datetime) -> None:
        placement = Placement.objects.filter(company=self.company).first()
        if placement is None:
            return
        item = placement.items.select_related("item").order_by("item__due_on").first()
        if item is None or item.item.open_minor <= 0:
            return
        amount = item.item.open_minor // 2
        payment = self._pay(placement.customer, [item.item], amount, day, at, "Inkasso Nord")
        placements.record_recovery(placement=placement, amount_minor=amount, on=day, at=at,
                                   actor=self.users["credit"], payment=payment,
                                   note="first part collected by the agency")  # fmt: skip

    # -- money -------------------------------------------------------------------------------

    def _settle(self, what: Any, day: date, at: datetime) -> None:
        if isinstance(what, PromiseToPay):
            items = [p.item for p in what.promised.select_related("item")]
            self._pay(what.customer, items, what.amount_minor, day, at, "as promised")
        else:  # an instalment of a plan
            plan = what.plan
            items = [c.item for c in plan.covered.select_related("item").order_by("item__due_on")]
            self._pay(plan.customer, items, what.amount_minor, day, at, f"plan {plan.pk}")

    def _pay(self, customer: Customer, items: list[OpenItem], amount: int, day: date,
             at: datetime, reference: str) -> Any:  # fmt: skip
        """A bank transfer of `amount`, applied to `items` oldest first (workflows.payments)."""
        self._serial += 1
        currency = items[0].currency
        payment = receive_payment(company=self.company, spec=PaymentInput(
            customer=customer, external_id=f"BANK-CASE-{self._serial:04d}", value_on=day,
            currency=currency, amount_minor=amount, reference=reference,
        ), actor=None, at=at)  # fmt: skip
        left = amount
        for item in items:
            item.refresh_from_db(fields=["open_minor"])
            part = min(left, item.open_minor)
            if part > 0:
                apply_payment(company=self.company, payment=payment, item=item,
                              amount_minor=part, on=day, actor=None, at=at)  # fmt: skip
                left -= part
        self.stats.payments += 1
        return payment


def _overdue(customer: Customer, day: date) -> list[OpenItem]:
    return list(
        OpenItem.objects.filter(
            customer=customer,
            kind=ItemKind.INVOICE,
            open_minor__gt=0,
            due_on__lt=day,
            currency=customer.currency,
        ).order_by("due_on", "pk")
    )
