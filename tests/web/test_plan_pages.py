"""Payment plan pages: the customer page's section, the plan page, its PDF, and the form to agree
a plan, each scoped to the user's company and role."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dunwell.cases.models import PaymentPlan
from dunwell.cases.services.plans import agree_plan
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
            "every_months": 1, "grace_days": 5, "fee": "10.00", "agreed_by": "Mr Buyer"}  # fmt: skip
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
