"""Opening insolvency proceedings stops all dunning at once: the case with its claim
(`cases.services.insolvency`), a credit hold (`credit`), and the unsent reminders, letters and
call tasks withdrawn (`dunning`), in one transaction. From then on the pause source
`dunning.pauses.insolvencies` keeps the account out of every run until the proceedings close."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cases.models import Insolvency
from dunwell.cases.services import insolvency as cases
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.credit.services.holds import place_credit_hold
from dunwell.dunning.services.withdrawals import withdraw_unsent
from dunwell.ledger.models import Customer


@transaction.atomic
def open_insolvency(
    *, company: Company, customer: Customer, actor: User | None, on: date, at: datetime,
    **details: Any,
) -> tuple[Insolvency, int]:  # fmt: skip
    """The proceedings (keywords of `cases.services.insolvency.open_insolvency`); returns them
    and how many unsent messages were withdrawn."""
    opened = cases.open_insolvency(company=company, customer=customer, actor=actor, on=on, at=at,
                                   **details)  # fmt: skip
    why = f"{english(opened.get_kind_display).lower()} {opened.pk} opened {opened.opened_on.isoformat()}"
    place_credit_hold(company=company, customer=customer, on=on, at=at, reason=why,
                      source="insolvency", actor=actor)  # fmt: skip
    withdrawn = withdraw_unsent(company=company, customer=customer, reason=why, actor=actor,
                                on=on, at=at)  # fmt: skip
    return opened, withdrawn
