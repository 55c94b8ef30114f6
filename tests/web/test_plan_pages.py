"""Payment plan pages: the customer page's section, the plan page, its PDF, and the form to agree
a plan, each scoped to the user's company and role."""

import html
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dunwell.cases.models import PaymentPlan
from dunwell.cases.services.plans import agree_plan
from dunwell.ledger.models import Activity, ActivityKind, OpenItem
from tests.web.test_pages import Cast, as_user, page
from tests.web.test_pages import cast as cast  # noqa: PLC0414 - the fixture, used by name

pytestmark = pytest.mark.django_db


def plan_of(c: Cast) -> PaymentPlan:
    today = timezone.localdate()
    return agree_plan(company=c.a, customer=c.customer_a, items=[c.invoice_a], instalments=2,
                      first_due_on=today + timedelta(days=10), actor=None, on=today,
                      at=timezone.now())  # fmt: skip


def test_the_customer_page_lists_plans_and_the_plan_page_its_instalments(
    client: Client, cast: Cast
):
    plan = plan_of(cast)
    first = plan.instalments.get(sequence=1)
    html = page(as_user(client, cast.viewer_a), f"/customers/{cast.customer_a.pk}/")
    assert "Payment plans" in html and f'href="/plans/{plan.pk}/"' in html
    assert "acme-INV-1" in html and "€617.28" in html  # 1,234.56 in two: 617.28 each
    assert "Agree a payment plan" not in html  # a viewer may not
    html = page(client, f"/plans/{plan.pk}/")
    assert first.due_on.isoformat() in html and "€617.28" in html and "Due" in html
    response = client.get(f"/plans/{plan.pk}/agreement.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_another_companys_user_gets_404(client: Client, cast: Cast):
    plan = plan_of(cast)
    as_user(client, cast.user_b)
    page(client, f"/plans/{plan.pk}/", status=404)
    assert client.get(f"/plans/{plan.pk}/agreement.pdf").status_code == 404
    response = client.post(f"/customers/{cast.customer_a.pk}/plans/agree", {})
    assert response.status_code == 404


def test_a_collector_agrees_a_plan_and_a_viewer_may_not(client: Client, cast: Cast):
    first = (timezone.localdate() + timedelta(days=14)).isoformat()
    form = {"invoices": [cast.invoice_a.pk], "instalments": 3, "first_due_on": first,
            "every": 1, "unit": "months", "grace_days": 5, "fee": "10.00",
            "agreed_by": "Mr Buyer"}  # fmt: skip
    as_user(client, cast.viewer_a)
    assert client.post(f"/customers/{cast.customer_a.pk}/plans/agree", form).status_code == 403
    html = page(as_user(client, cast.collector_a), f"/customers/{cast.customer_a.pk}/")
    assert "Agree a payment plan" in html
    response = client.post(f"/customers/{cast.customer_a.pk}/plans/agree", form, follow=True)
    plan = PaymentPlan.objects.get()
    assert (plan.total_minor, plan.fee_minor, plan.agreed_by) == (1_244_56, 10_00, "Mr Buyer")
    assert f"payment plan {plan.pk} agreed" in response.content.decode()
    assert plan.instalments.get(sequence=1).due_on == date.fromisoformat(first)
    response = client.post(f"/customers/{cast.customer_a.pk}/plans/agree", form, follow=True)
    assert "is already in payment plan" in response.content.decode()


def agree(client: Client, c: Cast, mode: str = "custom", **fields: object) -> str:
    """Post the plan form for acme-INV-1 (EUR 1,234.56) as a collector; the page shown after."""
    form = {"invoices": [c.invoice_a.pk], "mode": mode, "grace_days": 5, **fields}
    as_user(client, c.collector_a)
    response = client.post(f"/customers/{c.customer_a.pk}/plans/agree", form, follow=True)
    return html.unescape(response.content.decode())


def day(offset: int) -> str:
    return (timezone.localdate() + timedelta(days=offset)).isoformat()


def test_a_custom_schedule_of_dates_and_amounts_is_agreed_as_typed(client: Client, cast: Cast):
    html_ = agree(client, cast, **{"row-1-due_on": day(10), "row-1-amount": "400.00",
                                   "row-3-due_on": day(40), "row-3-amount": "834.56"})  # fmt: skip
    plan = PaymentPlan.objects.get()
    assert f"payment plan {plan.pk} agreed" in html_
    assert [(i.due_on.isoformat(), i.amount_minor) for i in plan.instalments.order_by("sequence")] == [
        (day(10), 400_00), (day(40), 834_56)
    ]  # fmt: skip
    entry = Activity.objects.get(kind=ActivityKind.PLAN_AGREED, item__isnull=True)
    assert entry.summary == (f"payment plan {plan.pk} agreed: EUR 1234.56 in 2 instalments from "
                             f"{day(10)} (first EUR 400.00) for acme-INV-1")  # fmt: skip
    assert entry.amount_minor == 1_234_56
    assert "€400.00" in page(client, f"/plans/{plan.pk}/") and "€834.56" in page(
        client, f"/plans/{plan.pk}/"
    )


def test_a_custom_schedule_with_interest_and_a_fee_adds_up_to_their_total(
    client: Client, cast: Cast
):
    rows = {"row-1-due_on": day(31), "row-2-due_on": day(62), "interest_percent": "12",
            "fee": "25.00"}  # fmt: skip
    short = agree(client, cast, **rows, **{"row-1-amount": "600.00", "row-2-amount": "634.56"})
    assert ("no plan agreed: the instalments add up to EUR 1234.56; the plan's total is EUR "
            "1278.61 (principal EUR 1234.56 + interest EUR 19.05 + fee EUR 25.00)") in short  # fmt: skip
    assert not PaymentPlan.objects.exists()
    assert not OpenItem.objects.filter(number__startswith="PLAN").exists()
    # The interest follows the shares the amounts imply: a larger last instalment carries more
    # of the principal to the second period, 19.26 of interest instead of 19.05.
    short = agree(client, cast, **rows, **{"row-1-amount": "600.00", "row-2-amount": "678.61"})
    assert "the plan's total is EUR 1278.82 (principal EUR 1234.56 + interest EUR 19.26" in short
    agree(client, cast, **rows, **{"row-1-amount": "600.00", "row-2-amount": "678.82"})
    plan = PaymentPlan.objects.get()
    assert (plan.principal_minor, plan.interest_minor, plan.fee_minor, plan.total_minor) == (
        1_234_56, 19_26, 25_00, 1_278_82
    )  # fmt: skip
    charges = OpenItem.objects.filter(number__startswith=f"PLAN-{plan.pk}-").order_by("number")
    assert [(c.number, c.amount_minor) for c in charges] == [
        (f"PLAN-{plan.pk}-FEE", 25_00), (f"PLAN-{plan.pk}-INTEREST", 19_26)
    ]  # fmt: skip
    entry = Activity.objects.get(kind=ActivityKind.PLAN_AGREED, item__isnull=True)
    assert entry.summary.endswith("for acme-INV-1, interest EUR 19.26, fee EUR 25.00")


def test_equal_instalments_every_n_days(client: Client, cast: Cast):
    agree(client, cast, mode="equal", instalments=3, first_due_on=day(7), every=14, unit="days")
    plan = PaymentPlan.objects.get()
    assert [(i.due_on.isoformat(), i.amount_minor) for i in plan.instalments.order_by("sequence")] == [
        (day(7), 411_52), (day(21), 411_52), (day(35), 411_52)
    ]  # fmt: skip
    entry = Activity.objects.get(kind=ActivityKind.PLAN_AGREED, item__isnull=True)
    assert entry.summary == (f"payment plan {plan.pk} agreed: EUR 1234.56 in 3 instalments from "
                             f"{day(7)} (first EUR 411.52) for acme-INV-1")  # fmt: skip


def test_a_custom_schedule_s_last_amount_left_blank_is_the_rest_with_its_interest(
    client: Client, cast: Cast
):
    agree(client, cast, **{"row-1-due_on": day(31), "row-1-amount": "600.00",
                           "row-2-due_on": day(62), "interest_percent": "12", "fee": "25.00"})  # fmt: skip
    plan = PaymentPlan.objects.get()
    # the same plan as above, reached at once: 1,234.56 + interest 19.26 + fee 25.00 - 600.00
    assert [(i.due_on.isoformat(), i.amount_minor) for i in plan.instalments.order_by("sequence")] == [
        (day(31), 600_00), (day(62), 678_82)
    ]  # fmt: skip
    assert (plan.interest_minor, plan.total_minor) == (19_26, 1_278_82)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"row-1-due_on": day(10), "row-2-due_on": day(40), "row-2-amount": "600.00"},
            "Schedule row 1, amount: only the last instalment's amount may be left out",
        ),
        (
            {"row-1-due_on": day(10), "row-1-amount": "1234.56", "row-2-due_on": day(40)},
            "Schedule row 2, amount: the instalments given already cover the plan's total: "
            "nothing is left for the last",
        ),
        ({"row-1-amount": "600.00"}, "Schedule row 1, due date: needed with the amount"),
        (
            {"row-1-due_on": "2027-02-30", "row-1-amount": "1234.56"},
            "Schedule row 1, due date: '2027-02-30': expected YYYY-MM-DD",
        ),
        (
            {
                "row-1-due_on": day(10),
                "row-1-amount": "600.00",
                "row-3-due_on": day(40),
                "row-3-amount": "12,3x",
            },
            "Schedule row 3, amount: '12,3x': '12,3x' is not a number in the format 1,234.56",
        ),
        (
            {"row-1-due_on": day(10), "row-1-amount": "1234.565"},
            "Schedule row 1, amount: '1234.565': EUR 1234.565 has more decimals than EUR allows",
        ),
        (
            {
                "row-1-due_on": day(10),
                "row-1-amount": "634.56",
                "row-2-due_on": day(40),
                "row-2-amount": "-5",
                "row-3-due_on": day(50),
                "row-3-amount": "605.00",
            },
            "Schedule row 2, amount: every instalment must be more than zero",
        ),
        (
            {
                "row-1-due_on": day(40),
                "row-1-amount": "600.00",
                "row-4-due_on": day(40),
                "row-4-amount": "634.56",
            },
            f"Schedule row 4, due date: instalment dates must increase: {day(40)} after {day(40)}",
        ),
        (
            {"row-1-due_on": day(-1), "row-1-amount": "1234.56"},
            f"Schedule row 1, due date: the first instalment {day(-1)} is before the agreement",
        ),
        ({}, "Custom schedule: fill in a due date and an amount on at least one row"),
        (
            {"mode": "equal", "instalments": 3, "every": 1},
            "First due date: needed for equal instalments",
        ),
        (
            {"mode": "equal", "instalments": 3, "first_due_on": day(7), "every": 13},
            "Every: at most 12 months apart",
        ),
        (
            {
                "mode": "equal",
                "instalments": 3,
                "first_due_on": day(7),
                "every": 1,
                "interest_percent": "101",
            },
            "Interest (% a year): Ensure this value is less than or equal to 100.",
        ),
        (
            {"row-1-due_on": day(10), "row-1-amount": "1234.56", "fee": "-1"},
            "Fee: Ensure this value is greater than or equal to 0.",
        ),
    ],
)
def test_a_bad_plan_form_names_the_row_and_field_and_agrees_nothing(
    client: Client, cast: Cast, fields: dict[str, object], message: str
):
    shown = agree(client, cast, **fields)
    assert f"Acme Buyer GmbH (C-100): no plan agreed: {message}" in shown
    assert not PaymentPlan.objects.exists()
    assert not Activity.objects.filter(kind=ActivityKind.PLAN_AGREED).exists()


def test_the_form_offers_both_schedules_with_blank_custom_rows(client: Client, cast: Cast):
    html_ = page(as_user(client, cast.collector_a), f"/customers/{cast.customer_a.pk}/")
    form = html_.split("<summary>Agree a payment plan</summary>")[1].split("</details>")[0]
    assert 'name="mode" value="equal" checked' in form and 'name="mode" value="custom"' in form
    assert '<option value="days">days</option>' in form
    assert form.count('type="date" name="row-') == 12 and 'name="row-12-amount"' in form
