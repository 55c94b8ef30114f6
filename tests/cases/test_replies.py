"""Replies from the customer: a forwarded .eml or pasted text is kept, found a customer by the
sender's address, logged in the history, and turned into a dispute in one step."""

import json
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from django.core.management import CommandError, call_command

from dunwell.cases.models import CustomerReply, DisputeState
from dunwell.cases.services.replies import html_text, log_reply, reply_to_dispute, reply_to_promise
from dunwell.core.errors import DunwellError
from dunwell.ledger.models import Activity, ActivityKind
from tests import factories as f

pytestmark = pytest.mark.django_db

ON = date(2026, 11, 9)
AT = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
SENT = datetime(2026, 11, 6, 14, 30, tzinfo=UTC)


@pytest.fixture
def account():
    company = f.company()
    customer = f.customer(company, "C001", "Bauer KG")
    f.contact(customer, "petra.bauer@bauer.example", name="Petra Bauer")
    item = f.invoice(company, customer, "INV-1", 1_000_00, date(2026, 9, 1))
    return company, customer, item


def reply_eml(sender="Petra Bauer <Petra.Bauer@bauer.example>", html=False) -> str:
    """The customer's reply, forwarded by a collector as an attachment."""
    original = EmailMessage()
    original["From"] = sender
    original["To"] = "receivables@acme.example"
    original["Subject"] = "Re: Reminder INV-1"
    original["Date"] = format_datetime(SENT)
    original["Message-ID"] = "<reply-1@bauer.example>"
    original["In-Reply-To"] = "<reminder-7@acme.example>"
    text = ("Hello,\n\nthe unit price on INV-1 is wrong: we agreed 9.50, not 10.00.\n"
            "Please send a credit note.\n\n> Your invoice INV-1 is overdue.\n")  # fmt: skip
    original.set_content(text)
    if html:
        original.add_alternative("<p>Hello,</p><p>the unit price on <b>INV-1</b> is wrong</p>",
                                 subtype="html")  # fmt: skip
    forward = EmailMessage()
    forward["From"] = "colly@acme.example"
    forward["To"] = "dunwell@acme.example"
    forward["Subject"] = "Fwd: Re: Reminder INV-1"
    forward["Date"] = format_datetime(AT)
    forward["Message-ID"] = "<fwd-1@acme.example>"
    forward.set_content("See below.")
    forward.add_attachment(original)
    return forward.as_string()


def test_a_forwarded_reply_is_read_matched_to_the_customer_and_logged(account):
    company, customer, _ = account
    reply = log_reply(company=company, raw=reply_eml(), actor=None, on=ON, at=AT)
    assert reply.customer == customer
    assert (reply.from_address, reply.subject, reply.received_at) == (
        "petra.bauer@bauer.example", "Re: Reminder INV-1", SENT)  # fmt: skip
    assert (reply.message_id, reply.in_reply_to) == ("<reply-1@bauer.example>",
                                                     "<reminder-7@acme.example>")  # fmt: skip
    assert reply.body.startswith("Hello,\n\nthe unit price on INV-1 is wrong")
    entry = Activity.objects.get(kind=ActivityKind.REPLY_RECEIVED)
    assert entry.summary == (
        "reply from petra.bauer@bauer.example: Re: Reminder INV-1 — Hello, / the unit price on "
        "INV-1 is wrong: we agreed 9.50, not 10.00. / Please send a credit note."
    )
    again = log_reply(company=company, raw=reply_eml(), actor=None, on=ON, at=AT)
    assert (
        again.pk == reply.pk
        and Activity.objects.filter(kind=ActivityKind.REPLY_RECEIVED).count() == 1
    )


def test_the_text_of_an_html_only_reply_is_kept():
    assert html_text("<p>Hello,</p><style>p{}</style><p>the price is <b>wrong</b></p>") == (
        "Hello,\nthe price is wrong"
    )


def test_an_unknown_sender_is_refused_with_how_to_name_the_customer(account):
    company, customer, _ = account
    raw = reply_eml(sender="someone@elsewhere.example")
    with pytest.raises(DunwellError, match="no contact in acme has the address someone@elsewhere"
                                           r".example: name the customer: `--customer ACCOUNT`"):  # fmt: skip
        log_reply(company=company, raw=raw, actor=None, on=ON, at=AT)
    reply = log_reply(company=company, raw=raw, customer=customer, actor=None, on=ON, at=AT)
    assert reply.customer == customer
    pasted = log_reply(company=company, raw="We will pay on Friday.\nRegards", customer=customer,
                       actor=None, on=ON, at=AT)  # fmt: skip
    assert (pasted.subject, pasted.body, pasted.received_at) == ("", "We will pay on Friday.\n"
                                                                 "Regards", AT)  # fmt: skip


def test_a_reply_becomes_a_dispute_in_one_step(account):
    company, _, item = account
    reply = log_reply(company=company, raw=reply_eml(), actor=None, on=ON, at=AT)
    dispute = reply_to_dispute(reply=reply, items=[(item, None)], reason="price", actor=None,
                               on=ON, at=AT)  # fmt: skip
    reply.refresh_from_db()
    assert (reply.dispute, dispute.state) == (dispute, DisputeState.OPEN)
    assert dispute.note == "from the reply of 2026-11-06 (Re: Reminder INV-1)"
    with pytest.raises(DunwellError, match=f"reply {reply.pk} is already dispute {dispute.pk}"):
        reply_to_dispute(reply=reply, items=[(item, None)], reason="price", actor=None, on=ON,
                         at=AT)  # fmt: skip


def test_a_reply_becomes_a_promise_in_one_step(account):
    company, customer, item = account
    reply = log_reply(company=company, raw=reply_eml(), actor=None, on=ON, at=AT)
    promise = reply_to_promise(reply=reply, amount_minor=250_00, currency="EUR",
                               promised_on=date(2026, 11, 20), items=[item], actor=None, on=ON,
                               at=AT)  # fmt: skip
    reply.refresh_from_db()
    assert reply.promise == promise and promise.customer == customer
    assert (promise.amount_minor, promise.channel, promise.promised_by) == (
        250_00, "email", reply.from_address,
    )  # fmt: skip
    assert promise.note == "from the reply of 2026-11-06 (Re: Reminder INV-1)"
    with pytest.raises(DunwellError, match=f"reply {reply.pk} is already promise {promise.pk}"):
        reply_to_promise(reply=reply, amount_minor=1_00, currency="EUR",
                         promised_on=date(2026, 11, 20), actor=None, on=ON, at=AT)  # fmt: skip


def test_the_case_command_logs_lists_and_disputes_as_json(account, capsys, tmp_path):
    eml = tmp_path / "reply.eml"
    eml.write_text(reply_eml())
    call_command("case", "reply", "--file", str(eml), "--format", "json")
    made = json.loads(capsys.readouterr().out)
    assert (made["customer"], made["from"], made["subject"]) == (
        "C001", "petra.bauer@bauer.example", "Re: Reminder INV-1")  # fmt: skip
    call_command("case", "replies", "--format", "json")
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [made["id"]]
    call_command("case", "reply-dispute", str(made["id"]), "--invoice", "INV-1=200.00",
                 "--reason", "price", "--format", "json")  # fmt: skip
    assert json.loads(capsys.readouterr().out)["dispute"] is not None
    assert CustomerReply.objects.get().dispute.items.get().amount_minor == 200_00
    with pytest.raises(CommandError, match=r"--file: no file 'missing\.eml'"):
        call_command("case", "reply", "--file", "missing.eml")
