"""How late-payment interest accrues on one debt of a company: the contract's rate when the
debt's payment terms set one, else the statute of the company's governing law (never for a
consumer), else none. One choice for every layer: `dunning.services.charges` books interest by
it, and an insolvency claim in `cases` (below dunning) computes it the same way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dunwell.core.models import Company
from dunwell.terms.models import PaymentTerm
from dunwell.terms.rules import interest
from dunwell.terms.services import applicable_term, reference_rates

Compute = Callable[[int, date, date, Sequence[interest.Reduction]], interest.Interest]


@dataclass(frozen=True)
class Basis:
    """What the interest of a debt runs under (`label`, for people; `code`, what a booked charge
    names: the statute's code or the contract's rate), and the computation: (amount, due on,
    until, reductions) to the interest."""

    label: str
    compute: Compute
    code: str = ""


class Accrual:
    """The company's law and default terms, and the reference rates read once."""

    def __init__(self, company: Company) -> None:
        self.law = interest.STATUTES.get(company.governing_law)
        self.default = applicable_term(company, None)
        self._rates: interest.Rates | None = None

    def basis(self, *terms: PaymentTerm | None, consumer: bool) -> Basis | None:
        """The first of `terms` given (the item's, the customer's), else the company's default."""
        term = next((t for t in terms if t is not None), None) or self.default
        if term is not None and term.interest_percent is not None:
            percent = Decimal(term.interest_percent)
            day_count = interest.DayCount(term.interest_day_count)
            grace = term.interest_grace_days

            def contract(amount: int, due_on: date, until: date,
                         reductions: Sequence[interest.Reduction]) -> interest.Interest:  # fmt: skip
                return interest.contractual_interest(
                    annual_percent=percent, amount_minor=amount, due_on=due_on, until=until,
                    grace_days=grace, reductions=reductions, day_count=day_count,
                )  # fmt: skip

            label = f"contract: {percent.normalize():f} % a year, {day_count.value}"
            return Basis(label, contract, label)
        law = self.law
        if law is None or consumer:
            return None

        def statute(amount: int, due_on: date, until: date,
                    reductions: Sequence[interest.Reduction]) -> interest.Interest:  # fmt: skip
            return interest.statutory_interest(law, amount_minor=amount, due_on=due_on,
                                               until=until, rates=self.rates(),
                                               reductions=reductions)  # fmt: skip

        return Basis(law.name, statute, law.code)

    def rates(self) -> interest.Rates:
        if self._rates is None:
            self._rates = reference_rates()
        return self._rates
