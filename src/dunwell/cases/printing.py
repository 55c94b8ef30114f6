"""The claim statement of an insolvency, for the administrator: CSV and PDF (rendered like the
ledger's documents, `ledger.printing`), with every line and the totals per currency."""

from __future__ import annotations

import csv
import io

from dunwell.cases.models import Insolvency
from dunwell.cases.services.insolvency import claim_totals
from dunwell.core.money import Money
from dunwell.core.pdf import write_pdf
from dunwell.ledger.parties import billing_party, company_header
from dunwell.ledger.printing import document_language, filename_part, render_document

CSV_HEADER = ("document", "kind", "issued_on", "due_on", "currency", "principal", "interest",
              "costs", "total", "basis")  # fmt: skip


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
