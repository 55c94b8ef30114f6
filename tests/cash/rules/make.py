"""Small builders for matching tests: open items, payers and bank lines with plain defaults."""

from datetime import date

from dunwell.cash.rules.values import Candidate, Line, Payer

ISSUED = date(2025, 3, 1)
DUE = date(2025, 3, 31)
PAID = date(2025, 3, 20)


def item(item_id, number, open_minor, *, customer=1, due=DUE, issued=ISSUED, **fields):
    kind = fields.pop("kind", "credit_note" if open_minor < 0 else "invoice")
    return Candidate(
        item_id=item_id,
        customer_id=customer,
        number=number,
        currency=fields.pop("currency", "EUR"),
        open_minor=open_minor,
        due_on=due,
        issued_on=issued,
        kind=kind,
        **fields,
    )


def line(amount_minor, *, on=PAID, currency="EUR", **fields):
    return Line(amount_minor=amount_minor, currency=currency, value_on=on, **fields)


def payer(customer_id, *names, ibans=(), parent=None):
    return Payer(customer_id, tuple(names), tuple(ibans), parent)
