"""The default texts of the five steps of the standard ladder, in English and German.

Tone from friendly to formal: ``courtesy`` (before the due date), ``friendly``, ``firm``,
``final`` (a final demand with interest and compensation) and ``before_action`` (a letter before
action). A company changes a text, or adds a language, by storing a `dunning.Template` with the
same code and its language code (`dunwell dunning template set`); a language without a text of
its own falls back to English. The variables are listed in `dunning.rendering`.
"""

from __future__ import annotations

_TABLE_EN = """{% for item in items %}  {{ item.number }}   due {{ item.due_on }}{% if item.days_overdue %}   {{ item.days_overdue }} days overdue{% endif %}   {{ item.open }}   ref. {{ item.payment_reference }}{% if item.national_reference %}   {{ item.national_label }} {{ item.national_reference }}{% endif %}{% if item.discount %}
      paid by {{ item.discount_until }}, you may deduct an early-payment discount of {{ item.discount }}{% endif %}
{% endfor %}{% if discount_total %}Paid within the discount periods, {{ discounted_total }} settles these invoices in full.
{% endif %}"""
_TABLE_DE = """{% for item in items %}  {{ item.number }}   fällig {{ item.due_on }}{% if item.days_overdue %}   {{ item.days_overdue }} Tage überfällig{% endif %}   {{ item.open }}   Verw.-Zweck {{ item.payment_reference }}{% if item.national_reference %}   {{ item.national_label }} {{ item.national_reference }}{% endif %}{% if item.discount %}
      bei Zahlung bis {{ item.discount_until }} dürfen Sie {{ item.discount }} Skonto abziehen{% endif %}
{% endfor %}{% if discount_total %}Innerhalb der Skontofristen gezahlt, begleichen {{ discounted_total }} diese Rechnungen vollständig.
{% endif %}"""
_PAY_EN = """Please transfer the amount to {{ company.name }}, IBAN {{ company.iban }}{% if company.bic %}, BIC {{ company.bic }}{% endif %}, quoting each invoice's reference.{% if portal_link %}
Your account and every invoice: {{ portal_link }}{% endif %}"""
_PAY_DE = """Bitte überweisen Sie den Betrag an {{ company.name }}, IBAN {{ company.iban }}{% if company.bic %}, BIC {{ company.bic }}{% endif %}, mit dem Verwendungszweck der jeweiligen Rechnung.{% if portal_link %}
Ihr Konto und alle Rechnungen: {{ portal_link }}{% endif %}"""
_LAW_EN = """{% if interest %}
Under {{ law }}, interest of {{ interest_rate }} a year runs on late payments; up to {{ business_date }} it comes to {{ interest }}{% if compensation %}, and a fixed compensation of {{ compensation }} is due{% endif %}.
{% endif %}"""
_LAW_DE = """{% if interest %}
Nach {{ law }} sind Verzugszinsen von {{ interest_rate }} jährlich geschuldet; bis zum {{ business_date }} betragen sie {{ interest }}{% if compensation %}, zudem ist eine Pauschale von {{ compensation }} fällig{% endif %}.
{% endif %}"""

DEFAULTS: dict[tuple[str, str], tuple[str, str]] = {
    ("courtesy", "en"): (
        "Invoices falling due soon: {{ customer.name }}",
        """Dear {{ contact_name|default:"Sir or Madam" }},

a friendly note that these invoices fall due shortly:

"""
        + _TABLE_EN
        + """
Total: {{ total }}{% if fee %}
Late fee for this reminder: {{ fee }}{% endif %}

"""
        + _PAY_EN
        + """

Thank you, and kind regards
{{ company.name }}
""",
    ),
    ("courtesy", "de"): (
        "Demnächst fällige Rechnungen: {{ customer.name }}",
        """Sehr geehrte{% if contact_name %}(r) {{ contact_name }}{% else %} Damen und Herren{% endif %},

wir möchten Sie freundlich daran erinnern, dass diese Rechnungen in Kürze fällig werden:

"""
        + _TABLE_DE
        + """
Summe: {{ total }}

"""
        + _PAY_DE
        + """

Vielen Dank und freundliche Grüße
{{ company.name }}
""",
    ),
    ("friendly", "en"): (
        "Payment reminder: {{ customer.name }}, {{ total }} open",
        """Dear {{ contact_name|default:"Sir or Madam" }},

according to our records the following invoices are still open. Perhaps your payment has crossed
with this message: if so, thank you, and please disregard it.

"""
        + _TABLE_EN
        + """
Total due: {{ total }}{% if fee %}
Late fee for this reminder: {{ fee }}{% endif %}

"""
        + _PAY_EN
        + """

Kind regards
{{ company.name }}
""",
    ),
    ("friendly", "de"): (
        "Zahlungserinnerung: {{ customer.name }}, {{ total }} offen",
        """Sehr geehrte{% if contact_name %}(r) {{ contact_name }}{% else %} Damen und Herren{% endif %},

nach unseren Unterlagen sind die folgenden Rechnungen noch offen. Sollte sich Ihre Zahlung mit
diesem Schreiben überschnitten haben, danken wir Ihnen und bitten Sie, es als gegenstandslos zu
betrachten.

"""
        + _TABLE_DE
        + """
Offener Betrag: {{ total }}{% if fee %}
Mahngebühr für dieses Schreiben: {{ fee }}{% endif %}

"""
        + _PAY_DE
        + """

Mit freundlichen Grüßen
{{ company.name }}
""",
    ),
    ("firm", "en"): (
        "Second reminder: {{ total }} overdue, {{ customer.name }}",
        """Dear {{ contact_name|default:"Sir or Madam" }},

despite our reminder, the following invoices are still unpaid:

"""
        + _TABLE_EN
        + """
Total overdue: {{ total }}{% if fee %}
Late fee for this reminder: {{ fee }}{% endif %}

Please pay this amount by {{ deadline }}, or let us know at once if anything stands in the way
of payment, so that we can clear it up.

"""
        + _PAY_EN
        + """

Yours sincerely
{{ company.name }}
""",
    ),
    ("firm", "de"): (
        "Zweite Mahnung: {{ total }} überfällig, {{ customer.name }}",
        """Sehr geehrte{% if contact_name %}(r) {{ contact_name }}{% else %} Damen und Herren{% endif %},

trotz unserer Erinnerung sind die folgenden Rechnungen noch nicht bezahlt:

"""
        + _TABLE_DE
        + """
Überfälliger Betrag: {{ total }}{% if fee %}
Mahngebühr für dieses Schreiben: {{ fee }}{% endif %}

Bitte begleichen Sie diesen Betrag bis zum {{ deadline }}, oder teilen Sie uns umgehend mit, was
einer Zahlung entgegensteht, damit wir es klären können.

"""
        + _PAY_DE
        + """

Mit freundlichen Grüßen
{{ company.name }}
""",
    ),
    ("final", "en"): (
        "Final demand: {{ total }}, {{ customer.name }}",
        """Dear {{ contact_name|default:"Sir or Madam" }},

FINAL DEMAND

We have reminded you of the following invoices more than once; they remain unpaid:

"""
        + _TABLE_EN
        + """
Total overdue: {{ total }}{% if fee %}
Late fee for this reminder: {{ fee }}{% endif %}
"""
        + _LAW_EN
        + """
We ask you for the last time to pay the total by {{ deadline }}. If we have not received it by
then, we will take further steps to recover it without further notice.

"""
        + _PAY_EN
        + """

Yours faithfully
{{ company.name }}
""",
    ),
    ("final", "de"): (
        "Letzte Mahnung: {{ total }}, {{ customer.name }}",
        """Sehr geehrte{% if contact_name %}(r) {{ contact_name }}{% else %} Damen und Herren{% endif %},

LETZTE MAHNUNG

Trotz mehrfacher Erinnerung sind die folgenden Rechnungen weiterhin unbezahlt:

"""
        + _TABLE_DE
        + """
Überfälliger Betrag: {{ total }}{% if fee %}
Mahngebühr für dieses Schreiben: {{ fee }}{% endif %}
"""
        + _LAW_DE
        + """
Wir fordern Sie letztmalig auf, den Gesamtbetrag bis zum {{ deadline }} zu zahlen. Geht die
Zahlung bis dahin nicht ein, werden wir ohne weitere Ankündigung weitere Schritte einleiten.

"""
        + _PAY_DE
        + """

Mit freundlichen Grüßen
{{ company.name }}
""",
    ),
    ("before_action", "en"): (
        "Letter before action: {{ customer.name }}, {{ total }}",
        """{{ customer.name }}
Account {{ customer.account_number }}

LETTER BEFORE ACTION

Dear {{ contact_name|default:"Sir or Madam" }},

we write about the following debt, which remains unpaid despite our reminders and our final
demand:

"""
        + _TABLE_EN
        + """
Total: {{ total }}{% if fee %}
Late fee for this reminder: {{ fee }}{% endif %}
"""
        + _LAW_EN
        + """
Unless the total is paid by {{ deadline }}, or you have put a proposal for payment to us in writing
by then, we intend to pass the debt to a collection agency or to start legal proceedings without
further notice, which may add to the costs you will have to bear. Until the debt is settled we
supply you only against payment in advance.

"""
        + _PAY_EN
        + """

Yours faithfully
{{ company.name }}
""",
    ),
    ("before_action", "de"): (
        "Ankündigung gerichtlicher Schritte: {{ customer.name }}, {{ total }}",
        """{{ customer.name }}
Kundennummer {{ customer.account_number }}

ANKÜNDIGUNG GERICHTLICHER SCHRITTE

Sehr geehrte{% if contact_name %}(r) {{ contact_name }}{% else %} Damen und Herren{% endif %},

trotz unserer Mahnungen und unserer letzten Mahnung ist die folgende Forderung unbezahlt:

"""
        + _TABLE_DE
        + """
Gesamtbetrag: {{ total }}{% if fee %}
Mahngebühr für dieses Schreiben: {{ fee }}{% endif %}
"""
        + _LAW_DE
        + """
Sollte der Gesamtbetrag nicht bis zum {{ deadline }} bei uns eingegangen sein oder Sie uns bis
dahin keinen schriftlichen Zahlungsvorschlag unterbreitet haben, werden wir die Forderung ohne
weitere Ankündigung einem Inkassounternehmen übergeben oder gerichtlich geltend machen; die
dadurch entstehenden Kosten gehen zu Ihren Lasten. Bis zum Ausgleich liefern wir nur gegen
Vorkasse.

"""
        + _PAY_DE
        + """

Mit freundlichen Grüßen
{{ company.name }}
""",
    ),
    ("statement", "en"): (
        "Statement of account: {{ customer.name }}, {{ total }} open",
        """Dear {{ contact_name|default:"Sir or Madam" }},

as requested, please find attached your statement of account as of {{ business_date }}. These items are open:

"""
        + _TABLE_EN
        + """
Total: {{ total }}

"""
        + _PAY_EN
        + """

Kind regards
{{ company.name }}
""",
    ),
    ("statement", "de"): (
        "Kontoauszug: {{ customer.name }}, {{ total }} offen",
        """Sehr geehrte{% if contact_name %}(r) {{ contact_name }}{% else %} Damen und Herren{% endif %},

anbei erhalten Sie Ihren Kontoauszug zum {{ business_date }}. Offen sind diese Posten:

"""
        + _TABLE_DE
        + """
Summe: {{ total }}

"""
        + _PAY_DE
        + """

Mit freundlichen Grüßen
{{ company.name }}
""",
    ),
}

DEADLINE_DAYS = {
    "statement": 0,
    "courtesy": 0,
    "friendly": 7,
    "firm": 7,
    "final": 10,
    "before_action": 14,
}
