"""Delivery over a real SMTP server on loopback (aiosmtpd): what it received, and what happens
when it refuses, is down, or the worker dies after handing a message over."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from dunwell.dunning.models import Message, StatementCopy, Step, Template
from dunwell.dunning.services import delivery as delivery_module
from dunwell.dunning.services.delivery import deliver_emails
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.dunning.services.statements import statement_copies
from dunwell.ledger.models import Activity, ActivityKind, Contact, ContactRole
from dunwell.terms.services import create_term
from tests import factories as f
from tests.smtp import free_port, text_of

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def acme():
    company = f.company()
    company.iban, company.bic = "DE89370400440532013000", "COBADEFFXXX"
    company.save()
    ensure_default_policy(company, AT)
    return company


def overdue_customer(company, number, days, *, language="en", amount=1_234_56):
    customer = contactable_customer(company, number, language)
    due = MONDAY - timedelta(days=days)
    f.invoice(company, customer, f"INV-{number}", amount, due - timedelta(days=30), due_on=due)
    return customer


def contactable_customer(company, number, language="en"):
    customer = f.customer(company, number, f"Kunde {number}", language=language)
    f.contact(customer, f"ap@{number.lower()}.example", name="Petra Bauer")
    f.contact(customer, f"boss@{number.lower()}.example", name="Max Weber",
              role=ContactRole.AP_MANAGER)  # fmt: skip
    return customer


def test_a_reminder_reaches_the_mail_server_as_written_and_is_kept_in_the_history(acme, smtp):
    overdue_customer(acme, "C001", 8)
    run_dunning(company=acme, on=MONDAY, at=AT)
    report = deliver_emails(at=AT + timedelta(hours=1))
    assert report.as_dict() == {"sent": 1, "failed": 0, "retry": 0, "uncertain": 0,
                                "waiting": 0, "errors": []}  # fmt: skip
    [(recipients, email)] = smtp.received
    assert recipients == ["ap@c001.example"]
    assert email["Subject"].strip() == "Payment reminder: Kunde C001, €1,234.56 open"
    assert email["From"] == "receivables@acme.example"
    body = text_of(email)
    assert "Dear Petra Bauer," in body
    assert "INV-C001   due Nov 15, 2026   8 days overdue   €1,234.56   ref. RF" in body
    assert "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX" in body
    stored = Message.objects.get()
    assert (stored.status, stored.message_id) == ("sent", email["Message-ID"])
    assert stored.body == body and stored.subject == email["Subject"].strip()
    history = Activity.objects.get(kind=ActivityKind.REMINDER_SENT)
    assert history.data["body"] == body and history.data["to"] == ["ap@c001.example"]
    [attachment] = email.iter_attachments()
    assert attachment.get_filename() == "statement-C001-2026-11-23.pdf"
    assert attachment.get_content_type() == "application/pdf"
    pdf = attachment.get_content()
    assert bytes(stored.statement.pdf) == pdf  # kept exactly as sent
    text = pdf_text(pdf)
    assert "Statement of account" in text and "INV-C001" in text and "1,234.56" in text
    assert history.data["attachments"] == ["statement-C001-2026-11-23.pdf"]
    assert deliver_emails(at=AT + timedelta(hours=2)).sent == 0  # nothing twice
    assert len(smtp.received) == 1


def test_a_german_customer_gets_german_text_and_a_final_demand_names_the_law(acme, smtp):
    overdue_customer(acme, "C002", 40, language="de")
    run_dunning(company=acme, on=MONDAY, at=AT)
    waiting = Message.objects.get(channel="email")
    assert waiting.status == "approval"
    call_command("dunning", "approve", str(waiting.decision_id))
    deliver_emails(at=AT)
    [(recipients, email)] = smtp.received
    assert recipients == ["boss@c002.example", "ap@c002.example"]  # to the manager, cc the clerk
    assert email["Cc"] == "ap@c002.example"
    assert email["Subject"].strip() == "Letzte Mahnung: 1.234,56\xa0€, Kunde C002"
    body = text_of(email)
    assert "Sehr geehrte(r) Max Weber," in body
    assert "INV-C002   fällig 14.10.2026   40 Tage überfällig   1.234,56\xa0€" in body
    assert (
        "Nach EU Late Payment Directive 2011/7/EU (minimum) sind Verzugszinsen von 10,15 %" in body
    )
    assert "zudem ist eine Pauschale von 40,00\xa0€ fällig" in body
    assert "bis zum 03.12.2026 zu zahlen" in body  # business date + 10 days


def test_a_refused_address_fails_the_message_and_the_next_one_is_a_letter(acme, smtp):
    customer = overdue_customer(acme, "C003", 8)
    smtp.refuse.add("ap@c003.example")
    run_dunning(company=acme, on=MONDAY, at=AT)
    report = deliver_emails(at=AT)
    assert report.failed == 1 and report.errors == [
        f"message {Message.objects.get().pk}: the mail server refused ap@c003.example"
    ]
    assert Contact.objects.get(email="ap@c003.example").email_bounced_on == MONDAY
    f.invoice(acme, customer, "INV-2", 50_00, date(2026, 10, 1), due_on=date(2026, 11, 1))
    later = run_dunning(company=acme, on=date(2026, 11, 30), at=AT + timedelta(days=7))
    assert "email" not in later.groups[0].channels and "letter" in later.groups[0].channels


def test_a_server_that_cannot_be_reached_is_tried_again_later(acme, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    overdue_customer(acme, "C004", 8)
    run_dunning(company=acme, on=MONDAY, at=AT)
    assert deliver_emails(at=AT).retry == 1
    message = Message.objects.get()
    assert (message.status, message.attempts, message.next_attempt_at) == (
        "pending", 1, AT + timedelta(minutes=1),
    )  # fmt: skip
    assert "ConnectionRefusedError" in message.error
    assert deliver_emails(at=AT + timedelta(seconds=30)).retry == 0  # not yet
    deliver_emails(at=AT + timedelta(minutes=1))
    message.refresh_from_db()
    assert (message.attempts, message.next_attempt_at) == (2, AT + timedelta(minutes=3))


def test_a_worker_that_dies_after_handing_over_never_sends_the_message_again(
    acme, smtp, monkeypatch
):
    overdue_customer(acme, "C005", 8)
    run_dunning(company=acme, on=MONDAY, at=AT)

    def die(name):
        raise SystemExit(f"killed at {name}")

    monkeypatch.setattr(delivery_module.faults, "point", die)
    with pytest.raises(SystemExit):
        deliver_emails(at=AT)
    monkeypatch.undo()
    assert Message.objects.get().status == "sending" and len(smtp.received) == 1
    assert deliver_emails(at=AT + timedelta(minutes=5)).uncertain == 0  # it may still finish
    report = deliver_emails(at=AT + timedelta(minutes=11))
    assert (report.uncertain, report.sent) == (1, 0)
    assert Message.objects.get().status == "uncertain" and len(smtp.received) == 1


def test_a_template_that_cannot_be_rendered_fails_only_its_message(acme, smtp):
    overdue_customer(acme, "C006", 8)
    overdue_customer(acme, "C007", 8, language="fr")
    Template.objects.create(company=acme, code="friendly", language="fr", subject="Rappel",
                            body="{% for x in %}", updated_at=AT)  # fmt: skip
    run_dunning(company=acme, on=MONDAY, at=AT)
    report = deliver_emails(at=AT)
    assert (report.sent, report.failed) == (1, 1)
    assert "template 'friendly' (fr) cannot be rendered" in report.errors[0]
    assert [r for r, _ in smtp.received] == [["ap@c006.example"]]


def test_a_preview_renders_any_template_and_language_with_the_real_data(acme, capsys, tmp_path):
    overdue_customer(acme, "C008", 8)
    run_dunning(company=acme, on=MONDAY, at=AT)
    message = Message.objects.get()
    call_command("dunning", "preview", str(message.pk), "--language", "de")
    out = capsys.readouterr().out
    assert out.startswith("Subject: Zahlungserinnerung: Kunde C008, 1.234,56\xa0€ offen")
    body = tmp_path / "fr.txt"
    body.write_text("Bonjour {{ contact_name }}, total {{ total }}.\n", encoding="utf-8")
    call_command("dunning", "template", "--code", "friendly", "--language", "fr",
                 "--subject", "Rappel {{ customer.name }}", "--body-file", str(body))  # fmt: skip
    call_command("dunning", "preview", str(message.pk), "--language", "fr")
    assert "Subject: Rappel Kunde C008\n\nBonjour Petra Bauer, total 1\u202f234,56\xa0€." in (
        capsys.readouterr().out
    )


def test_no_email_goes_out_at_night_in_the_companys_time_zone(acme, smtp, settings):
    settings.DUNNING_QUIET_HOURS = (20, 7)
    acme.time_zone = "Europe/Berlin"
    acme.save()
    overdue_customer(acme, "C009", 8)
    run_dunning(company=acme, on=MONDAY, at=AT)
    night = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)  # 22:30 in Berlin
    assert deliver_emails(at=night).as_dict()["sent"] == 0
    assert Message.objects.get().status == "pending" and smtp.received == []
    morning = datetime(2026, 11, 24, 6, 5, tzinfo=UTC)  # 07:05 in Berlin
    assert deliver_emails(at=morning).sent == 1


# -- the statement of account attached ----------------------------------------------------------


def test_two_reminders_of_one_day_carry_one_statement_laid_out_once(acme, smtp):
    customer = overdue_customer(acme, "C010", 8, language="de")
    due = MONDAY - timedelta(days=8)
    f.invoice(acme, customer, "INV-C010-USD", 500_00, due - timedelta(days=30), due_on=due,
              currency="USD")  # fmt: skip
    run_dunning(company=acme, on=MONDAY, at=AT)
    assert deliver_emails(at=AT).sent == 2  # one message per currency
    assert smtp.greetings == 1  # both over one connection
    pdfs = [next(email.iter_attachments()).get_content() for _, email in smtp.received]
    assert pdfs[0] == pdfs[1]
    [copy] = StatementCopy.objects.all()
    assert (copy.customer, copy.as_of, copy.language) == (customer, MONDAY, "de")
    assert {m.statement_id for m in Message.objects.all()} == {copy.pk}
    text = pdf_text(pdfs[0])
    assert "Kontoauszug" in text  # in the customer's language
    assert "INV-C010-USD" in text and "INV-C010" in text  # the whole account, every currency


def test_a_step_that_attaches_no_statement_sends_the_text_alone(acme, smtp):
    overdue_customer(acme, "C011", 8)
    Step.objects.filter(policy__company=acme).update(attach_statement=False)
    run_dunning(company=acme, on=MONDAY, at=AT)
    deliver_emails(at=AT)
    [(_, email)] = smtp.received
    assert list(email.iter_attachments()) == []
    assert Message.objects.get().statement is None and not StatementCopy.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_many_statements_are_laid_out_by_worker_processes_each_with_its_own_customer(acme):
    customers = [overdue_customer(acme, f"P{n:03}", 8 + n) for n in range(9)]
    keys = [(c.pk, MONDAY) for c in customers]
    copies = statement_copies(keys, at=AT, workers=2)
    assert len(copies) == 9 == StatementCopy.objects.count()
    for customer in customers:
        text = pdf_text(bytes(copies[(customer.pk, MONDAY)].pdf))
        assert f"INV-{customer.account_number}" in text
        others = [c.account_number for c in customers if c != customer]
        assert not any(f"INV-{number}" in text for number in others)
    again = statement_copies(keys, at=AT + timedelta(hours=1), workers=2)
    assert {k: c.pk for k, c in again.items()} == {k: c.pk for k, c in copies.items()}


def test_a_reminder_shows_the_early_payment_discount_while_it_still_applies(acme, smtp):
    in_time = create_term(company=acme, code="2-18-net20", name="2/18 net 20", days=20,
                          discount_percent="2", discount_days=18)  # fmt: skip
    expired = create_term(company=acme, code="2-10-net20", name="2/10 net 20", days=20,
                          discount_percent="2", discount_days=10)  # fmt: skip
    issued = MONDAY - timedelta(days=17)  # due Nov 26: the courtesy reminder goes out today
    for number, term in (("C012", in_time), ("C013", expired)):
        customer = contactable_customer(acme, number)
        f.invoice(acme, customer, f"INV-{number}", 1_234_56, issued, payment_term=term)
    run_dunning(company=acme, on=MONDAY, at=AT)
    assert deliver_emails(at=AT).sent == 2
    bodies = [text_of(email) for _, email in smtp.received]
    with_discount = next(b for b in bodies if "INV-C012" in b)
    assert "INV-C012   due Nov 26, 2026   €1,234.56" in with_discount
    assert "paid by Nov 24, 2026, you may deduct an early-payment discount of €24.69" in (
        with_discount
    )
    assert "Paid within the discount periods, €1,209.87 settles these invoices in full." in (
        with_discount
    )
    without = next(b for b in bodies if "INV-C013" in b)
    assert "discount" not in without  # its period ended on Nov 16


def test_a_customer_in_another_time_zone_gets_its_email_in_its_own_morning(acme, smtp, settings):
    settings.DUNNING_QUIET_HOURS = (20, 7)
    acme.time_zone = "Europe/Berlin"
    acme.save()
    overdue_customer(acme, "C014", 8)
    abroad = overdue_customer(acme, "C015", 8)
    abroad.time_zone = "America/New_York"
    abroad.save()
    run_dunning(company=acme, on=MONDAY, at=AT)
    berlin_morning = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 11:00 Berlin, 05:00 New York
    report = deliver_emails(at=berlin_morning)
    assert (report.sent, report.waiting) == (1, 1)
    assert [r for r, _ in smtp.received] == [["ap@c014.example"]]
    new_york_morning = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)  # 07:30 in New York
    assert deliver_emails(at=new_york_morning).sent == 1
    assert smtp.received[-1][0] == ["ap@c015.example"]


def test_a_customer_on_a_public_holiday_gets_its_email_on_its_next_working_day(acme, smtp):
    thanksgiving = date(2026, 11, 26)  # a Thursday: a working day in Germany
    at = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    for number, country in (("C016", "DE"), ("C017", "US")):
        customer = contactable_customer(acme, number)
        customer.country = country
        customer.save()
        f.invoice(acme, customer, f"INV-{number}", 1_234_56, date(2026, 10, 19),
                  due_on=date(2026, 11, 18))  # fmt: skip
    run_dunning(company=acme, on=thanksgiving, at=at)
    report = deliver_emails(at=at)
    assert (report.sent, report.waiting) == (1, 1)
    assert [r for r, _ in smtp.received] == [["ap@c016.example"]]
    assert deliver_emails(at=at + timedelta(days=1)).sent == 1  # Friday in New York too
    assert smtp.received[-1][0] == ["ap@c017.example"]


def test_a_server_that_hangs_up_mid_pass_gets_a_new_connection_for_the_next_message(acme, smtp):
    for number in ("C018", "C019", "C020"):
        overdue_customer(acme, number, 8)
    run_dunning(company=acme, on=MONDAY, at=AT)
    smtp.busy_once_at = 2
    report = deliver_emails(at=AT)
    assert (report.sent, report.retry) == (2, 1)
    assert smtp.greetings == 2
    assert deliver_emails(at=AT + timedelta(minutes=2)).sent == 1  # the retry, a minute later
    assert sorted(r[0] for r, _ in smtp.received) == [
        "ap@c018.example", "ap@c019.example", "ap@c020.example"
    ]  # fmt: skip
