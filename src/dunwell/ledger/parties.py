"""Who sends and who receives a document, as printed in its address block: the company's header
and the customer's billing address (a branch may be billed at its head office)."""

from __future__ import annotations

from dataclasses import dataclass

from dunwell.core.models import Company
from dunwell.ledger.models import Customer


@dataclass(frozen=True)
class Party:
    """Who sends or receives the statement, as printed in the address block."""

    name: str
    address_lines: tuple[str, ...]
    country: str
    vat_id: str = ""


@dataclass(frozen=True)
class CompanyHeader:
    party: Party
    iban: str
    bic: str


def company_header(company: Company) -> CompanyHeader:
    lines = tuple(line.strip() for line in company.address.splitlines() if line.strip())
    party = Party(company.legal_name, lines, company.country, company.vat_id)
    return CompanyHeader(party, company.iban, company.bic)


def billing_party(customer: Customer) -> Party:
    """The name and address invoices and statements go to (a branch may be billed at its parent)."""
    parent = customer.parent if customer.billed_to_parent and customer.parent_id else None
    billed = parent or customer
    town = " ".join(part for part in (billed.postal_code, billed.city) if part)
    lines = tuple(line for line in (billed.street, town) if line)
    return Party(billed.legal_name, lines, billed.country, billed.vat_id)


__all__ = ["CompanyHeader", "Party", "billing_party", "company_header"]
