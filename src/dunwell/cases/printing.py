"""Documents of cases, in the customer's language, as HTML and PDF, laid out like the ledger's:
the agreement letter of a payment plan (parties, covered invoices, schedule, interest and fee,
what a missed instalment does, where to pay with which reference, lines to sign) and the claim
statement of an insolvency for the administrator (CSV and PDF, every line and the totals)."""

from __future__ import annotations

import csv
import io
from typing import Any

from dunwell.cases.models import Insolvency, PaymentPlan
from dunwell.cases.services.insolvency import claim_totals
from dunwell.cases.services.plans import plan_reference
from dunwell.core.money import Money
from dunwell.core.pdf import write_pdf
from dunwell.ledger.parties import billing_party, company_header
from dunwell.ledger.printing import document_language, filename_part, render_document

CSV_HEADER = ("document", "kind", "issued_on", "due_on", "currency", "principal", "interest",
              "costs", "total", "basis")  # fmt: skip


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


def _amount(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency).amount)


def claim_csv(insolvency: Insolvency) -> str:
    """One row per item, then one TOTAL row per currency."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for line in insolvency.lines.select_related("item"):
        item, cur = line.item, line.currency
        writer.writerow((item.number, item.kind, item.issued_on.isoformat(),
                         item.due_on.isoformat(), cur, _amount(line.principal_minor, cur),
                         _amount(line.interest_minor, cur), _amount(line.costs_minor, cur),
                         _amount(line.total_minor, cur), line.basis))  # fmt: skip
    for total in claim_totals(insolvency):
        cur = total.currency
        writer.writerow(("TOTAL", "", "", "", cur, _amount(total.principal_minor, cur),
                         _amount(total.interest_minor, cur), _amount(total.costs_minor, cur),
                         _amount(total.total_minor, cur), ""))  # fmt: skip
    return out.getvalue()


def claim_html(insolvency: Insolvency) -> str:
    customer = insolvency.customer
    language = document_language(customer, insolvency.company)
    context = {
        "insolvency": insolvency,
        "company": company_header(insolvency.company),
        "debtor": billing_party(customer),
        "lines": list(insolvency.lines.select_related("item")),
        "totals": claim_totals(insolvency),
    }
    return render_document("documents/claim.html", context, language)


def claim_pdf(insolvency: Insolvency) -> bytes:
    return write_pdf(claim_html(insolvency))


def claim_filename(insolvency: Insolvency, extension: str) -> str:
    account = filename_part(insolvency.customer.account_number)
    return f"claim-{account}-{insolvency.opened_on.isoformat()}.{extension}"
