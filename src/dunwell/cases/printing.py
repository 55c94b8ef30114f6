"""The agreement letter of a payment plan, in the customer's language, as HTML and PDF: the
parties, the covered invoices, the schedule, interest and fee, what a missed instalment does,
where to pay with which reference, and lines to sign. Laid out like the ledger's documents."""

from __future__ import annotations

from typing import Any

from dunwell.cases.models import PaymentPlan
from dunwell.cases.services.plans import plan_reference
from dunwell.core.pdf import write_pdf
from dunwell.ledger.parties import billing_party, company_header
from dunwell.ledger.printing import document_language, filename_part, render_document


def agreement_context(plan: PaymentPlan) -> dict[str, Any]:
    covered = list(plan.covered.select_related("item").order_by("item__due_on", "item__number"))
    return {
        "plan": plan,
        "company": company_header(plan.company),
        "recipient": billing_party(plan.customer),
        "covered": covered,
        "instalments": list(plan.instalments.order_by("sequence")),
        "reference": plan_reference(plan),
    }


def agreement_filename(plan: PaymentPlan) -> str:
    return f"payment-plan-{plan.pk}-{filename_part(plan.customer.account_number)}.pdf"


def agreement_html(plan: PaymentPlan) -> str:
    language = document_language(plan.customer, plan.company)
    return render_document("documents/plan_agreement.html", agreement_context(plan), language)


def agreement_pdf(plan: PaymentPlan) -> bytes:
    return write_pdf(agreement_html(plan))
