"""The bank's lists (issue 6): the review queue and the statement lines searched by payer, text,
reference or amount, filtered by account, value date and proposals, sorted and paged in SQL,
scoped to the company; a decision on a line returns to the same filtered page.

Acme has three unmatched credits on two accounts:
  Meyer  EUR 1,234.50  2025-03-01  Main    "Invoice INV-77"      one proposal
  Zeta   EUR    99.00  2025-03-05  Savings RF18539007547034      none
  Alpha  EUR   500.00  2025-02-20  Main    "March rent"          one proposal
Bolt has a line of its own from "Meyer" of the same amount.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dunwell.cash.models import (
    BankAccount,
    BankStatement,
    LineState,
    Proposal,
    StatementFile,
    StatementLine,
)
from dunwell.core.models import Company
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
AT = datetime(2025, 3, 20, 8, 0, tzinfo=UTC)
CARD = re.compile(
    r'<section class="card case-form" id="line-\d+">\s*<h3>.*? · .*? · .*? · (.*?)[<\n]'
)
ROW = re.compile(r'<tr><td class="date">[\d-]+</td><td class="num">[^<]*</td>\s*<td>([^<]*)<')
_numbers = count(1)


def account(company: Company, name: str) -> BankAccount:
    return BankAccount.objects.create(company=company, name=name, currency="EUR",
                                      iban=f"DE{next(_numbers):020}", created_at=AT)  # fmt: skip


def line(on: BankAccount, amount_minor: int, name: str, value_on: date, *, text: str = "",
         structured: tuple[str, ...] = (), state: str = LineState.UNMATCHED) -> StatementLine:  # fmt: skip
    n = next(_numbers)
    file = StatementFile.objects.create(company=on.company, file_name=f"s{n}.xml", sha256=f"{n:064}",
                                        format="camt053", size=1, imported_at=AT)  # fmt: skip
    statement = BankStatement.objects.create(company=on.company, account=on, file=file,
                                             key=f"S{n}", statement_id=f"S{n}", entries=1)  # fmt: skip
    return StatementLine.objects.create(
        company=on.company, account=on, statement=statement, key=f"k{n}", entry_index=1,
        amount_minor=amount_minor, currency="EUR", value_on=value_on, text=text,
        structured=list(structured), counterparty_name=name, state=state,
    )  # fmt: skip


def propose(cast: Cast, for_line: StatementLine) -> None:  # noqa: F811
    Proposal.objects.create(company=for_line.company, line=for_line, rank=1, confidence=700,
                            rule="amount", reason="the amount fits", customer=cast.customer_a,
                            allocations=[], unapplied_minor=0, proposed_at=AT)  # fmt: skip


@pytest.fixture
def lines(cast: Cast) -> dict[str, StatementLine]:  # noqa: F811
    main, savings = account(cast.a, "Main"), account(cast.a, "Savings")
    made = {
        "Meyer": line(main, 1234_50, "Meyer", date(2025, 3, 1), text="Invoice INV-77"),
        "Zeta": line(savings, 99_00, "Zeta", date(2025, 3, 5), structured=("RF18539007547034",)),
        "Alpha": line(main, 500_00, "Alpha", date(2025, 2, 20), text="March rent"),
    }
    propose(cast, made["Meyer"])
    propose(cast, made["Alpha"])
    line(account(cast.b, "Bolt's"), 1234_50, "Meyer", date(2025, 3, 1), text="Invoice INV-77")
    return made


def queue(client: Client, query: str = "", **extra: str) -> list[str]:
    """The payers of the queue's cards, in the order shown."""
    return CARD.findall(page(client, f"/bank/review/?{query}", **extra))


@pytest.mark.parametrize(("q", "shown"), [
    ("meyer", ["Meyer"]),
    ("INV-77", ["Meyer"]),  # the remittance text
    ("rf1853900", ["Zeta"]),  # a structured reference, in any case
    ("1234.50", ["Meyer"]),  # an amount typed as money: exactly that amount
    ("1.234,50", ["Meyer"]),  # as Germans write it
    ("500", ["Alpha"]),
    ("99.00", ["Zeta"]),
    ("1234.5", ["Meyer"]),
    ("1234.51", []),
    ("nobody", []),
])  # fmt: skip
def test_the_queue_finds_lines_by_payer_text_reference_or_amount(client, cast, lines, q, shown):  # noqa: F811
    assert queue(as_user(client, cast.collector_a), f"q={q}") == shown


def test_the_queue_filters_by_account_value_date_and_proposals(client, cast, lines):  # noqa: F811
    as_user(client, cast.collector_a)
    savings = lines["Zeta"].account_id
    assert queue(client, f"account={savings}") == ["Zeta"]
    assert queue(client, "value_from=2025-03-01") == ["Zeta", "Meyer"]
    assert queue(client, "value_to=2025-02-28") == ["Alpha"]
    assert queue(client, "value_from=2025-02-21&value_to=2025-03-04") == ["Meyer"]
    assert queue(client, "proposals=with") == ["Meyer", "Alpha"]
    assert queue(client, "proposals=without") == ["Zeta"]
    html = page(client, "/bank/review/?proposals=without")
    assert "3 lines wait for review" in html and "1 line matches the search and filters." in html


@pytest.mark.parametrize(("sort", "order"), [
    ("", ["Zeta", "Meyer", "Alpha"]),  # newest value date first
    ("value", ["Alpha", "Meyer", "Zeta"]),
    ("-value", ["Zeta", "Meyer", "Alpha"]),
    ("amount", ["Zeta", "Alpha", "Meyer"]),
    ("-amount", ["Meyer", "Alpha", "Zeta"]),
    ("counterparty", ["Alpha", "Meyer", "Zeta"]),
    ("-counterparty", ["Zeta", "Meyer", "Alpha"]),
    ("bogus", ["Zeta", "Meyer", "Alpha"]),  # an unknown sort falls back to the default
])  # fmt: skip
def test_the_queue_sorts_by_value_date_amount_or_payer(client, cast, lines, sort, order):  # noqa: F811
    assert queue(as_user(client, cast.collector_a), f"sort={sort}") == order


def test_the_sort_links_keep_the_filters_and_say_which_is_sorted(client, cast, lines):  # noqa: F811
    html = page(as_user(client, cast.collector_a), "/bank/review/?q=e&sort=-amount&page=1")
    assert '<a href="?q=e&amp;sort=amount" aria-current="true">Amount' in html
    assert "(sorted descending)" in html
    assert '<a href="?q=e&amp;sort=-value">Value date</a>' in html  # no page: a new order
    assert '<input type="hidden" name="sort" value="-amount">' in html  # the form keeps it


def test_the_queue_pages_keep_the_search_filters_and_sort(client, cast, lines):  # noqa: F811
    main = lines["Meyer"].account
    for n in range(55):
        line(main, 10_00 + n, f"Bulk {n:02}", date(2025, 1, 1) + timedelta(days=n))
    as_user(client, cast.collector_a)
    query = f"q=bulk&account={main.pk}&sort=amount"
    first = page(client, f"/bank/review/?{query}")
    assert CARD.findall(first) == [f"Bulk {n:02}" for n in range(50)]
    assert "Page 1 of 2 · 55 lines" in first
    assert f'href="?q=bulk&amp;account={main.pk}&amp;sort=amount&amp;page=2"' in first
    assert queue(client, f"{query}&page=2") == [f"Bulk {n:02}" for n in range(50, 55)]


def test_the_queue_runs_as_many_queries_for_fifty_lines_as_for_three(client, cast, lines):  # noqa: F811
    as_user(client, cast.collector_a)
    query = "/bank/review/?q=e&proposals=without&value_from=2024-01-01&sort=-counterparty"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page(client, query)
        return len(captured)

    few = queries()
    for n in range(50):
        line(lines["Zeta"].account, 5_00 + n, f"More {n}", date(2025, 1, 2))
    assert queries() == few


def test_a_decision_returns_to_the_same_filtered_page(client, cast, lines):  # noqa: F811
    as_user(client, cast.manager_a)
    back = "q=e&proposals=with&sort=amount&page=1"
    response = client.post(f"/bank/lines/{lines['Meyer'].pk}/ignore",
                           {"reason": "a refund", "back": back})  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == f"/bank/review/?{back}"
    html = client.get(response["Location"]).content.decode()
    assert "is not a receivable: a refund" in html and CARD.findall(html) == ["Alpha"]
    # what comes back is a query string on the queue's own address, whatever was sent
    hostile = client.post(f"/bank/lines/{lines['Alpha'].pk}/ignore",
                          {"reason": "x", "back": "//evil.example/"})  # fmt: skip
    assert hostile["Location"].startswith("/bank/review/?")


def test_another_company_s_lines_never_appear_not_even_by_its_account(client, cast, lines):  # noqa: F811
    as_user(client, cast.user_b)
    assert queue(client, "q=meyer") == ["Meyer"]  # Bolt's own line
    bolt = StatementLine.objects.get(company=cast.b)
    acme_account = lines["Meyer"].account_id
    html = page(client, f"/bank/review/?account={acme_account}")
    assert "Account: Select a valid choice." in html  # not one of Bolt's: said, not applied
    assert CARD.findall(html) == ["Meyer"] and f"Line {bolt.pk}" in html
    assert f"Line {lines['Meyer'].pk}" not in html and "Zeta" not in html


def test_a_date_that_is_no_date_is_named_and_the_other_filters_still_apply(
    client,
    cast,  # noqa: F811
    lines,
):
    html = page(as_user(client, cast.collector_a), "/bank/review/?value_from=2025-13-01&q=zeta")
    assert "Value date from: Enter a date as YYYY-MM-DD, e.g. 2026-01-31." in html
    assert CARD.findall(html) == ["Zeta"]
    html = page(client, "/bank/review/?value_from=2025-03-05&value_to=2025-03-01")
    assert "to: It is before the start of the range." in html


def test_the_queue_speaks_german(client, cast, lines):  # noqa: F811
    html = page(as_user(client, cast.collector_a), "/bank/review/", HTTP_ACCEPT_LANGUAGE="de")
    assert "Valuta von" in html and "Sortieren nach" in html
    assert "Mit Vorschlägen" in html and "Betrag" in html


# -- the bank page's statement lines ---------------------------------------------------------


def statement_lines(client: Client, query: str = "") -> list[str]:
    return ROW.findall(page(client, f"/bank/?{query}"))


def test_the_statement_lines_search_sort_and_count_by_state(client, cast, lines):  # noqa: F811
    line(lines["Meyer"].account, 42_00, "Meyer", date(2025, 3, 2), state=LineState.APPLIED)
    as_user(client, cast.collector_a)
    assert statement_lines(client, "q=meyer") == ["Meyer", "Meyer"]
    assert statement_lines(client, "q=42.00") == ["Meyer"]
    assert statement_lines(client, "sort=amount") == ["Meyer", "Zeta", "Alpha", "Meyer"]
    assert statement_lines(client, "sort=counterparty") == ["Alpha", "Meyer", "Meyer", "Zeta"]
    assert statement_lines(client, "sort=nonsense") == ["Zeta", "Meyer", "Meyer", "Alpha"]
    html = page(client, "/bank/?q=meyer&state=applied")
    assert ROW.findall(html) == ["Meyer"]
    assert "Unmatched (1)" in html and "Applied (1)" in html  # of what the search finds
    assert '<a href="?q=meyer&amp;state=unmatched">' in html  # the tabs keep the search
    assert "Zeta" not in statement_lines(client, "value_to=2025-03-04&sort=value")


def test_the_statement_lines_page_and_keep_the_state_and_search(client, cast, lines):  # noqa: F811
    main = lines["Meyer"].account
    for n in range(60):
        line(main, 1_00 + n, f"Many {n:02}", date(2024, 6, 1) + timedelta(days=n),
             state=LineState.APPLIED)  # fmt: skip
    as_user(client, cast.collector_a)
    html = page(client, "/bank/?state=applied&q=many&sort=value")
    assert ROW.findall(html) == [f"Many {n:02}" for n in range(50)]
    assert "Page 1 of 2 · 60 lines" in html
    assert 'href="?state=applied&amp;q=many&amp;sort=value&amp;page=2"' in html
    second = statement_lines(client, "state=applied&q=many&sort=value&page=2")
    assert second == [f"Many {n:02}" for n in range(50, 60)]


def test_another_company_s_statement_lines_and_files_never_appear(client, cast, lines):  # noqa: F811
    html = page(as_user(client, cast.user_b), "/bank/?q=e")
    assert ROW.findall(html) == ["Meyer"] and "Bolt&#x27;s" in html
    assert "Main" not in html and "Savings" not in html and "Zeta" not in html
