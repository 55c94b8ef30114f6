"""Free-text payment terms: the unambiguous phrasings are read, everything else is refused."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.core.dates import Adjustment
from dunwell.formats.einvoice import read_einvoice
from dunwell.terms.rules.due_dates import (
    Basis,
    Discount,
    DueRule,
    TermLine,
    Terms,
    discount_offer,
    due_on,
)
from dunwell.terms.rules.text import describe, discount_from_text, terms_from_text


def single(rule: DueRule, discount: Discount | None = None) -> Terms:
    return Terms((TermLine(rule),), discount=discount)


TWO_TEN_NET_30 = single(DueRule(Basis.AFTER_INVOICE, days=30), Discount(Decimal(2), 10))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Payment within 30 days", Terms.net(30)),
        ("Net 30", Terms.net(30)),
        ("net 30 days", Terms.net(30)),
        ("30 days net", Terms.net(30)),
        ("NET 60.", Terms.net(60)),
        ("n/30", Terms.net(30)),
        ("Payable within 45 days of invoice date", Terms.net(45)),
        ("Zahlbar innerhalb von 14 Tagen", Terms.net(14)),
        ("Zahlbar innerhalb 30 Tagen netto", Terms.net(30)),
        ("Zahlbar innerhalb von 30 Tagen ohne Abzug", Terms.net(30)),
        ("30 Tage netto", Terms.net(30)),
        ("Due on receipt", Terms.net(0)),
        ("Sofort zahlbar ohne Abzug", Terms.net(0)),
        ("2% 10 Net 30", TWO_TEN_NET_30),
        ("2/10 net 30", TWO_TEN_NET_30),
        ("2/10, n/30", TWO_TEN_NET_30),
        ("2 % 10 days, net 30", TWO_TEN_NET_30),
        ("2% discount if paid within 10 days, net 30 days", TWO_TEN_NET_30),
        ("Payment within 10 days, 2% discount, otherwise net 30", TWO_TEN_NET_30),
        ("2 % Skonto bei Zahlung innerhalb von 10 Tagen, 30 Tage netto", TWO_TEN_NET_30),
        ("Zahlbar innerhalb 10 Tagen mit 2% Skonto, innerhalb 30 Tagen netto", TWO_TEN_NET_30),
        (
            "2,5 % Skonto innerhalb 8 Tagen, 30 Tage netto",
            single(DueRule(Basis.AFTER_INVOICE, days=30), Discount(Decimal("2.5"), 8)),
        ),
        ("30 days after end of month", single(DueRule(Basis.AFTER_END_OF_MONTH, days=30))),
        ("End of month", single(DueRule(Basis.AFTER_END_OF_MONTH))),
        ("End of the following month", single(DueRule(Basis.END_OF_MONTH_AFTER_MONTHS, months=1))),
        (
            "21st of the following month",
            single(DueRule(Basis.DAY_OF_MONTH, months=1, day_of_month=21)),
        ),
        ("21 MFI", single(DueRule(Basis.DAY_OF_MONTH, months=1, day_of_month=21))),
        ("Net 10th prox", single(DueRule(Basis.DAY_OF_MONTH, months=1, day_of_month=10))),
        (
            "45 days, then end of month",
            single(DueRule(Basis.AFTER_INVOICE_THEN_END_OF_MONTH, days=45)),
        ),
        ("Net 30, moved to the next business day", Terms.net(30, Adjustment.FOLLOWING)),
    ],
)
def test_phrase_is_read_as_the_terms_it_states(text, expected):
    assert terms_from_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "30 days end of month",  # EOM + 30 in ERPNext/Odoo, end of next month in UK usage
        "30 days EOM",
        "Net 30 EOM",
        "EOM",
        "45 jours fin de mois",  # two legal readings in France
        "Net 30 from receipt of goods",  # words left over
        "Zahlbar innerhalb 14 Tagen nach Rechnungseingang",  # after receipt, not issue
        "30 days",
        "2/10",
        "2/30 net 30",  # the discount period is as long as the net period
        "120% 10 net 30",
        "32 MFI",
        "Payment within 10 days, 2% discount",  # a discount alone: see discount_from_text
        "",
    ],
)
def test_phrase_is_refused_when_it_is_ambiguous_or_not_recognised(text):
    assert terms_from_text(text) is None


def test_example7_terms_text_gives_due_date_30_days_after_issue(shared_data):
    path = shared_data / "einvoice/ubl/cef_ubl-tc434-example7.xml"
    invoice = read_einvoice(path.read_bytes(), file_name=path.name)
    terms = terms_from_text(invoice.terms_text or "")
    assert invoice.terms_text == "Payment within 30 days"
    assert terms == Terms.net(30)
    assert (invoice.issued_on, due_on(terms, invoice.issued_on)) == (
        date(2013, 3, 11),
        date(2013, 4, 10),
    )


def test_discount_alone_is_no_terms_but_is_read_as_a_discount_when_peppol_states_it():
    text = "Payment within 10 days, 2% discount"
    assert terms_from_text(text) is None
    assert discount_from_text(text) == Discount(Decimal(2), 10)


def test_discount_is_read_from_full_terms_too():
    assert discount_from_text("2/10 net 30") == Discount(Decimal(2), 10)
    assert discount_from_text("Net 30") is None


def test_two_ten_net_thirty_gives_the_domain_dates_when_issued_on_31_january():
    terms = terms_from_text("2/10 net 30")
    assert terms is not None
    offer = discount_offer(terms, date(2025, 1, 31), 100_000)
    assert (offer, due_on(terms, date(2025, 1, 31))) == (
        discount_offer(TWO_TEN_NET_30, date(2025, 1, 31), 100_000),
        date(2025, 3, 2),
    )
    assert offer is not None
    assert (offer.until, offer.amount_minor) == (date(2025, 2, 10), 2000)


# -- describe -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        (Terms.net(30), "Net 30"),
        (Terms.net(0), "Due on receipt"),
        (TWO_TEN_NET_30, "2 % 10 days, net 30"),
        (
            single(DueRule(Basis.AFTER_INVOICE, days=30), Discount(Decimal("1.50"), 1)),
            "1.5 % 1 day, net 30",
        ),
        (single(DueRule(Basis.AFTER_END_OF_MONTH, days=30)), "30 days after end of month"),
        (single(DueRule(Basis.AFTER_END_OF_MONTH)), "End of month"),
        (single(DueRule(Basis.END_OF_MONTH_AFTER_MONTHS, months=1)), "End of the following month"),
        (
            single(DueRule(Basis.END_OF_MONTH_AFTER_MONTHS, months=2)),
            "End of the month 2 months after the invoice month",
        ),
        (
            single(DueRule(Basis.DAY_OF_MONTH, months=1, day_of_month=21)),
            "21st of the following month",
        ),
        (
            single(DueRule(Basis.DAY_OF_MONTH, months=0, day_of_month=12)),
            "12th of the invoice month",
        ),
        (
            single(DueRule(Basis.AFTER_INVOICE_THEN_END_OF_MONTH, days=45)),
            "45 days, then end of month",
        ),
        (
            Terms(
                tuple(
                    TermLine(DueRule(Basis.AFTER_INVOICE, days=d), share)
                    for d, share in ((30, Decimal(40)), (60, Decimal(30)), (90, None))
                )
            ),
            "3 instalments",
        ),
        (Terms.net(14, Adjustment.PRECEDING), "Net 14, moved to the previous business day"),
    ],
)
def test_description_reads_as_plain_english(terms, expected):
    assert describe(terms) == expected


def _rules() -> st.SearchStrategy[DueRule]:
    days = st.integers(min_value=0, max_value=365)
    return st.one_of(
        days.map(lambda d: DueRule(Basis.AFTER_INVOICE, days=d)),
        days.map(lambda d: DueRule(Basis.AFTER_END_OF_MONTH, days=d)),
        days.map(lambda d: DueRule(Basis.AFTER_INVOICE_THEN_END_OF_MONTH, days=d)),
        st.integers(1, 12).map(lambda m: DueRule(Basis.END_OF_MONTH_AFTER_MONTHS, months=m)),
        st.builds(
            lambda m, d: DueRule(Basis.DAY_OF_MONTH, months=m, day_of_month=d),
            st.integers(0, 12),
            st.integers(1, 31),
        ),
    )


@st.composite
def _terms(draw: st.DrawFn) -> Terms:
    rule = draw(_rules())
    discount = None
    if draw(st.booleans()) and (rule.basis is not Basis.AFTER_INVOICE or rule.days > 0):
        limit = rule.days - 1 if rule.basis is Basis.AFTER_INVOICE else 365
        percent = Decimal(draw(st.integers(1, 9999))).scaleb(-2)
        discount = Discount(percent, draw(st.integers(0, limit)))
    return Terms((TermLine(rule),), discount, draw(st.sampled_from(Adjustment)))


@given(_terms())
def test_description_reads_back_to_the_same_terms(terms):
    assert terms_from_text(describe(terms)) == terms
