"""The ledger's KPIs: DOMAIN.md 3's worked dataset end to end, groupings, currencies, voids, credit
notes, refunds, instalments, company scoping, dunning effectiveness, and the SQL against the oracle."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dunwell.dunning.models import Message, MessageStatus
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Allocation, AllocationKind, Customer, ItemKind, OpenItem
from dunwell.ledger.services.allocations import (
    allocate_payment,
    apply_credit_note,
    reverse_allocations,
    void_item,
)
from dunwell.ledger.services.refunds import refund_unapplied
from dunwell.reports.kpi import EARLIER_MONTHS, Group, kpi_report
from dunwell.reports.rules.kpi import Balances, CeiVariant, Document, Reduction, ledger_months
from dunwell.terms.models import PaymentTerm, PaymentTermLine
from dunwell.terms.rules.due_dates import Basis
from tests import factories as f
from tests.factories import AT

pytestmark = pytest.mark.django_db

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
K = 1_000_00  # a thousand euros, in cents


def pay(company, customer, key, item, amount, on):
    payment = f.payment(company, customer, key, amount, on, currency=item.currency)
    allocate_payment(company=company, payment=payment, item=item, amount_minor=amount,
                     actor=None, at=AT)  # fmt: skip
    return payment


def dataset(company):
    """DOMAIN.md 3's quarter: sales 100,000 / 120,000 / 150,000; AR 190,000 on 31 December,
    200,000 on 28 February, 210,000 on 31 March (140,000 current, 7,000 over 90 days)."""
    colly = User.objects.create_user("colly", first_name="Colin", last_name="Collector")
    bauer = f.customer(company, "C001", "Bauer KG", segment="retail")
    Customer.objects.filter(pk=bauer.pk).update(owner=colly)
    meyer = f.customer(company, "C002", "Meyer AG", segment="wholesale")
    f.invoice(company, meyer, "A", 3 * K, date(2024, 10, 16), date(2024, 11, 15))  # > 120 days
    f.invoice(company, meyer, "B", 4 * K, date(2024, 11, 15), date(2024, 12, 15))  # 91-120
    f.invoice(company, bauer, "D", 8 * K, date(2024, 12, 16), date(2025, 1, 15))  # 61-90
    c = f.invoice(company, bauer, "C", 175 * K, date(2024, 12, 10), date(2025, 1, 9))
    pay(company, bauer, "P-C", c, 175 * K, date(2025, 1, 20))  # 11 days late
    e = f.invoice(company, bauer, "E", 100 * K, date(2025, 1, 15), date(2025, 2, 14))
    pay(company, bauer, "P-E1", e, 35 * K, date(2025, 2, 20))  # 6 days late
    pay(company, bauer, "P-E2", e, 50 * K, date(2025, 3, 20))  # 34 days late; 15,000 left
    g = f.invoice(company, meyer, "F", 120 * K, date(2025, 2, 13), date(2025, 3, 15))
    pay(company, meyer, "P-F", g, 80 * K, date(2025, 3, 20))  # 5 days late; 40,000 left
    h = f.invoice(company, bauer, "G", 150 * K, date(2025, 3, 10), date(2025, 4, 9))
    pay(company, bauer, "P-G", h, 10 * K, date(2025, 3, 25))  # 15 days early
    return bauer, meyer


def two(value):
    return None if value is None else value.quantize(Decimal("0.01"))


def test_the_worked_dataset_end_to_end():
    acme = f.company()
    dataset(acme)
    [series] = kpi_report(acme, JAN, MAR).series
    assert (series.group, series.currency) == (Group("acme", "Acme GmbH"), "EUR")
    jan, feb, mar = series.months
    assert [m.credit_sales for m in series.months] == [100 * K, 120 * K, 150 * K]
    assert [m.ending.total for m in series.months] == [115 * K, 200 * K, 210 * K]
    assert mar.ending == Balances(210 * K, 140 * K, 7 * K)
    assert [m.cash_collected for m in series.months] == [175 * K, 35 * K, 140 * K]
    assert two(mar.cei.percent) == Decimal("66.67")
    assert mar.cei.variant is CeiVariant.ONE_MONTH
    assert two(jan.dso_countback) == Decimal("33.54")  # 31 days of January + 15/183 of December
    q = series.period
    assert (q.days, q.credit_sales, q.opening.total, q.cash_collected) == (90, 370 * K,
                                                                           190 * K, 350 * K)  # fmt: skip
    assert [two(v) for v in (q.dso, q.dso_average_ar, q.dso_countback, q.best_possible_dso,
                             q.add, q.percent_current, q.percent_over_90, q.turnover,
                             q.turnover_annualised)] == [
        Decimal(v) for v in ("51.08", "48.65", "45.00", "34.05", "17.03", "66.67", "3.33",
                             "1.85", "7.50")
    ]  # fmt: skip
    assert [(c.variant, two(c.percent)) for c in q.cei_variants][0::2] == [
        (CeiVariant.TOTAL_SALES, Decimal("83.33")),
        (CeiVariant.CRF, Decimal("59.62")),
    ]
    # (175 x 11 + 35 x 6 + 50 x 34 + 80 x 5 - 10 x 15) / 350
    assert two(q.dbt) == Decimal("11.67")
    assert two(feb.dbt) == Decimal("6.00")


def test_groupings_split_the_company_and_add_up_to_it():
    acme = f.company()
    dataset(acme)
    by_segment = kpi_report(acme, JAN, MAR, "segment").series
    assert [(s.group, s.period.opening.total, s.period.ending.total, s.period.credit_sales)
            for s in by_segment] == [
        (Group("retail", "retail"), 183 * K, 163 * K, 250 * K),
        (Group("wholesale", "wholesale"), 7 * K, 47 * K, 120 * K),
    ]  # fmt: skip
    by_collector = kpi_report(acme, JAN, MAR, "collector").series
    assert [(s.group, s.period.ending.total) for s in by_collector] == [
        (Group("", "(unassigned)"), 47 * K),
        (Group("colly", "Colin Collector"), 163 * K),
    ]
    by_customer = kpi_report(acme, JAN, MAR, "customer").series
    assert [(s.group, s.period.ending) for s in by_customer] == [
        (Group("C001", "Bauer KG"), Balances(163 * K, 140 * K, 0)),
        (Group("C002", "Meyer AG"), Balances(47 * K, 0, 7 * K)),
    ]
    assert sum(s.period.cash_collected for s in by_customer) == 350 * K


def test_a_voided_invoice_counts_in_no_month_even_before_it_was_voided():
    acme = f.company()
    bauer, _ = dataset(acme)
    before = kpi_report(acme, JAN, MAR).series[0]
    wrong = f.invoice(acme, bauer, "WRONG", 80 * K, date(2025, 1, 5), date(2025, 2, 4))
    payment = f.payment(acme, bauer, "P-W", 80 * K, date(2025, 1, 30))
    rows = allocate_payment(company=acme, payment=payment, item=wrong, amount_minor=80 * K,
                            actor=None, at=AT)  # fmt: skip
    reverse_allocations(company=acme, allocations=rows, on=date(2025, 2, 27), reason="wrong item",
                        actor=None, at=AT)  # fmt: skip
    void_item(company=acme, item=wrong, on=date(2025, 3, 5), reason="issued in error",
              actor=None, at=AT)  # fmt: skip
    after = kpi_report(acme, JAN, MAR).series[0]
    assert after.months == before.months
    assert after.period == before.period


def test_a_credit_note_nets_the_sales_of_its_month_and_is_not_cash():
    acme = f.company()
    bauer, _ = dataset(acme)
    g = OpenItem.objects.get(number="G")
    credit = f.invoice(acme, bauer, "CN-1", 20 * K, date(2025, 3, 12), date(2025, 3, 12),
                       kind=ItemKind.CREDIT_NOTE)  # fmt: skip
    apply_credit_note(company=acme, credit_note=credit, item=g, actor=None, at=AT)
    mar = kpi_report(acme, JAN, MAR).series[0].months[2]
    assert (mar.credit_sales, mar.ending.total, mar.ending.current) == (130 * K, 190 * K, 120 * K)
    assert mar.cash_collected == 140 * K
    assert two(mar.cei.percent) == Decimal("66.67")  # (200 + 130 - 190) / (200 + 130 - 120)


def test_unapplied_cash_and_its_refund_are_neither_cash_collected_nor_sales():
    acme = f.company()
    bauer, _ = dataset(acme)
    before = kpi_report(acme, JAN, MAR).series[0]
    f.payment(acme, bauer, "P-OVER", 5 * K, date(2025, 2, 10))
    refund_unapplied(company=acme, customer=bauer, amount_minor=3 * K, currency="EUR",
                     on=date(2025, 3, 3), number="RF-1", reason="overpaid", actor=None, at=AT)  # fmt: skip
    assert OpenItem.objects.filter(kind=ItemKind.REFUND).count() == 1
    after = kpi_report(acme, JAN, MAR).series[0]
    assert after.months == before.months


def test_each_currency_is_its_own_series_and_another_company_never_counts():
    acme = f.company()
    dataset(acme)
    yankee = f.customer(acme, "C003", "Yankee Inc", currency="USD")
    usd = f.invoice(acme, yankee, "US-1", 50 * K, date(2025, 2, 1), date(2025, 3, 3))
    pay(acme, yankee, "P-US", usd, 20 * K, date(2025, 3, 10))
    other = f.company("rival")
    stranger = f.customer(other, "C001", "Bauer KG")
    f.invoice(other, stranger, "A", 999 * K, date(2025, 1, 2), date(2025, 2, 1))
    eur, dollars = kpi_report(acme, JAN, MAR).series
    assert (eur.currency, eur.period.ending.total, eur.period.credit_sales) == ("EUR", 210 * K,
                                                                                 370 * K)  # fmt: skip
    assert (dollars.currency, dollars.period.credit_sales, dollars.period.ending) == (
        "USD", 50 * K, Balances(30 * K, 0, 0))  # fmt: skip
    assert two(dollars.period.dbt) == Decimal("7.00")
    [theirs] = kpi_report(other, JAN, MAR).series
    assert (theirs.period.credit_sales, theirs.period.ending.total) == (999 * K, 999 * K)


def test_instalments_age_by_their_own_due_dates():
    acme = f.company()
    bauer = f.customer(acme)
    halves = PaymentTerm.objects.create(company=acme, code="halves", name="Half at 30, half at 60")
    PaymentTermLine.objects.create(
        term=halves, sequence=1, share_percent=50, basis=Basis.AFTER_INVOICE, days=30
    )
    PaymentTermLine.objects.create(term=halves, sequence=2, basis=Basis.AFTER_INVOICE, days=60)
    item = f.invoice(acme, bauer, "INST-1", 1000_01, date(2025, 1, 1), payment_term=halves)
    pay(acme, bauer, "P-1", item, 200_00, date(2025, 2, 5))  # on the first instalment
    jan, feb, mar, apr, may, jun = kpi_report(acme, JAN, date(2025, 6, 1)).series[0].months
    assert jan.ending == Balances(1000_01, 1000_01, 0)  # due 31 January and 2 March
    assert feb.ending == Balances(800_01, 500_00, 0)
    assert mar.ending == apr.ending == Balances(800_01, 0, 0)  # 89 days past due at most
    assert may.ending == Balances(800_01, 0, 300_01)  # the first instalment 120 days past due
    assert jun.ending == Balances(800_01, 0, 800_01)
    assert two(feb.dbt) == Decimal("5.00")


def test_current_means_due_on_the_month_end_or_later_and_over_90_means_91_days_or_more():
    acme = f.company()
    bauer = f.customer(acme)
    dues = {"ninety": date(2024, 12, 31), "ninety-one": date(2024, 12, 30),
            "due today": date(2025, 3, 31), "a day late": date(2025, 3, 30)}  # fmt: skip
    for settled in (False, True):  # never paid, or paid after the month end (the other scans)
        for name, due_on in dues.items():
            item = f.invoice(acme, bauer, f"{name}-{settled}", 100_00, date(2024, 12, 1), due_on)
            if settled:
                pay(acme, bauer, f"P-{name}", item, 100_00, date(2025, 4, 2))
    mar = kpi_report(acme, MAR, MAR).series[0].months[0]
    assert mar.ending == Balances(800_00, 200_00, 200_00)


def test_queries_do_not_grow_with_the_ledger():
    acme = f.company()
    bauer, _ = dataset(acme)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            kpi_report(acme, JAN, MAR, "customer")
        return len(captured.captured_queries)

    few = queries()
    for n in range(30):
        item = f.invoice(acme, bauer, f"MORE-{n}", 100_00 + n, date(2025, 2, 1), date(2025, 3, 3))
        pay(acme, bauer, f"P-MORE-{n}", item, 50_00, date(2025, 3, 5))
    assert queries() == few


def test_months_out_of_order_or_too_many_are_refused():
    acme = f.company()
    with pytest.raises(ValueError, match="the last month 2025-01 is before the first 2025-03"):
        kpi_report(acme, MAR, JAN)
    with pytest.raises(ValueError, match="at most 120 months at once, not 121"):
        kpi_report(acme, date(2015, 1, 1), date(2025, 1, 1))
    with pytest.raises(ValueError, match="grouping 'region': expected one of company, segment"):
        kpi_report(acme, JAN, MAR, "region")
    assert kpi_report(acme, JAN, MAR).series == []


MONDAY = date(2026, 11, 23)


def test_dunning_effectiveness_is_the_share_of_the_demanded_amount_paid_within_the_days():
    acme = f.company()
    ensure_default_policy(acme, AT)
    bauer = f.customer(acme)
    f.contact(bauer, "ap@bauer.example")
    late = f.invoice(acme, bauer, "INV-1", 1000_00, date(2026, 10, 17), date(2026, 11, 16))
    f.invoice(acme, bauer, "INV-2", 500_00, date(2026, 11, 1), date(2026, 12, 1))  # not yet due
    run_dunning(company=acme, on=MONDAY, at=datetime(2026, 11, 23, 6, tzinfo=UTC))
    Message.objects.filter(company_id=acme.pk).update(status=MessageStatus.SENT)
    pay(acme, bauer, "P-0", late, 100_00, MONDAY)  # the same day: before the reminder arrived
    pay(acme, bauer, "P-1", late, 500_00, MONDAY + timedelta(days=17))
    pay(acme, bauer, "P-2", late, 400_00, MONDAY + timedelta(days=48))
    report = kpi_report(acme, date(2026, 11, 1), date(2026, 12, 1))
    [effect] = report.dunning
    assert (effect.policy, effect.step, effect.step_name, effect.channel, effect.currency) == (
        "Standard", 2, "First reminder", "email", "EUR")  # fmt: skip
    assert (effect.messages, effect.overdue_minor, effect.paid_minor) == (1, 1000_00, 500_00)
    assert effect.percent_paid == Decimal(50)
    [later] = kpi_report(acme, date(2026, 11, 1), date(2026, 12, 1), paid_within=60).dunning
    assert later.paid_minor == 900_00
    Message.objects.filter(company_id=acme.pk).update(status=MessageStatus.FAILED)
    assert kpi_report(acme, date(2026, 11, 1), date(2026, 12, 1)).dunning == []


# The SQL against the oracle, on generated ledgers.


def oracle(company, first, last):
    """Month inputs per (customer, currency) from every row, by `rules.kpi.ledger_months`."""
    documents = {}
    reversed_ids = set(Allocation.objects.filter(reversal_of__isnull=False)
                       .values_list("reversal_of_id", flat=True))  # fmt: skip
    for item in OpenItem.objects.filter(company=company, voided_on__isnull=True):
        reductions = tuple(
            Reduction(a.effective_on, a.target_due_on, a.amount_minor,
                      a.kind == AllocationKind.PAYMENT,
                      a.reversal_of_id is not None or a.pk in reversed_ids)
            for a in Allocation.objects.filter(target=item)
        )  # fmt: skip
        parts = tuple(item.instalments.values_list("due_on", "amount_minor"))
        doc = Document(item.issued_on, item.due_on, item.amount_minor, parts, reductions,
                       is_sale=item.kind != ItemKind.REFUND)  # fmt: skip
        documents.setdefault((item.customer.account_number, item.currency), []).append(doc)
    return {key: ledger_months(docs, first, last, EARLIER_MONTHS)
            for key, docs in documents.items()}  # fmt: skip


def _added(a, b):
    if isinstance(a, Balances):
        return Balances(a.total + b.total, a.current + b.current, a.over_90 + b.over_90)
    return a + b


def expected_series(expected, by):
    """The oracle's months as the report shows them: summed per group, DBT as a ratio, and
    only the series with something owed, sold or collected."""
    sums = {}
    for (account, currency), result in expected.items():
        key = ("gen", currency) if by == "company" else (account, currency)
        rows = [(m.credit_sales, m.opening, m.ending, m.cash_collected, m.paid_days, m.paid)
                for m in result.months]  # fmt: skip
        if key in sums:
            rows = [tuple(_added(a, b) for a, b in zip(mine, theirs, strict=True))
                    for mine, theirs in zip(sums[key], rows, strict=True)]  # fmt: skip
        sums[key] = rows
    return {
        key: [(s, o, e, c, None if paid <= 0 else Decimal(days) / Decimal(paid))
              for s, o, e, c, days, paid in rows]
        for key, rows in sums.items()
        if any(s or o.total or e.total or c for s, o, e, c, _, _ in rows)
    }  # fmt: skip


ledgers = st.lists(
    st.tuples(
        st.integers(0, 2),  # customer (the third pays in USD)
        st.integers(0, 200),  # issue day from 2025-01-01
        st.integers(0, 75),  # days to due
        st.integers(1, 900_00),  # amount
        st.lists(st.tuples(st.integers(0, 150), st.integers(1, 100)), max_size=3),  # payments
        st.sampled_from(["invoice", "credit", "void", "reversed"]),
    ),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(ledger=ledgers, first=st.integers(1, 5), months=st.integers(1, 4))
def test_sql_months_agree_with_the_oracle(django_db_blocker, ledger, first, months):
    from django.db import transaction

    start = date(2025, 1, 1)
    with django_db_blocker.unblock(), transaction.atomic():
        company = f.company(code="gen")
        customers = [f.customer(company, f"C{i}", f"Customer {i}",
                                currency="USD" if i == 2 else "EUR") for i in range(3)]  # fmt: skip
        for n, (who, day, to_due, amount, pays, story) in enumerate(ledger):
            owner = customers[who]
            issued = start + timedelta(days=day)
            item = f.invoice(
                company, owner, f"I{n}", amount, issued, issued + timedelta(days=to_due)
            )
            if story == "void":
                void_item(company=company, item=item, on=issued + timedelta(days=to_due),
                          reason="error", actor=None, at=AT)  # fmt: skip
                continue
            if story == "credit":
                note = f.invoice(company, owner, f"CN{n}", max(1, amount // 3),
                                 issued + timedelta(days=5), kind=ItemKind.CREDIT_NOTE)  # fmt: skip
                apply_credit_note(company=company, credit_note=note, item=item, actor=None, at=AT)
            for k, (after, percent) in enumerate(pays):
                item.refresh_from_db()
                share = min(item.open_minor, max(1, amount * percent // 100))
                if share <= 0:
                    break
                rows = allocate_payment(
                    company=company, item=item, amount_minor=share, actor=None, at=AT,
                    payment=f.payment(company, owner, f"P{n}-{k}", share,
                                      issued + timedelta(days=after), currency=owner.currency),
                )  # fmt: skip
                if story == "reversed" and k == 0:
                    reverse_allocations(company=company, allocations=rows, reason="returned",
                                        on=issued + timedelta(days=after + 3), actor=None, at=AT)  # fmt: skip
        begin = date(2025, first, 1)
        end = date(2025, first + months - 1, 1)
        expected = oracle(company, begin, end)
        for by in ("company", "customer"):
            got = {(s.group.key, s.currency): [(m.credit_sales, m.opening, m.ending,
                                                m.cash_collected, m.dbt) for m in s.months]
                   for s in kpi_report(company, begin, end, by).series}  # fmt: skip
            assert got == expected_series(expected, by), by
        transaction.set_rollback(True)
