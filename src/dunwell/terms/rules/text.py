"""Payment terms written as free text: recognise the unambiguous phrasings, refuse the rest.

E-invoices and CSV exports often carry terms only as a note: "Payment within 30 days" (BT-20),
"Net 30", "Zahlbar innerhalb von 14 Tagen", "2/10 net 30". DOMAIN.md 2.1 requires that free-text
terms are never parsed silently, so this module only accepts a phrase when the *whole* text
matches one of a short list of patterns whose meaning is not in doubt, and returns None for
anything else. A None is a question for a person (or for the document's own due date), never a
default of 30 days. Matching ignores case, spacing and a final full stop; nothing else is
skipped, so "Net 30 from receipt of goods" is refused rather than read as "Net 30".

Recognised (all counted from the invoice date, the ERP convention of DOMAIN.md 2.4):

- Net N: "Net 30", "net 30 days", "30 days net", "n/30", "Payment within 30 days", "Payable
  within 30 days of invoice date", "Zahlbar innerhalb von 14 Tagen", "Zahlbar innerhalb 30 Tagen
  netto", "30 Tage netto", "Zahlungsziel 30 Tage". "Due on receipt", "Payable immediately",
  "Sofort zahlbar ohne Abzug" are Net 0 (due on the invoice date).
- A discount before the net period: "2/10 net 30", "2% 10 Net 30", "2 % 10 days, net 30", "2%
  discount if paid within 10 days, net 30 days", "2 % Skonto bei Zahlung innerhalb von 10
  Tagen, 30 Tage netto". Issued 31 Jan 2025: 2 % off until 10 Feb, due 2 Mar. A discount period
  that is not shorter than the net period is contradictory and refused.
- The explicit month-based rules that `describe` writes, so that a description reads back to the
  same terms: "30 days after end of month", "End of month", "End of the following month",
  "21st of the following month" (also "21 MFI", "Net 10th prox"), "45 days, then end of month",
  optionally followed by ", moved to the next business day" (or previous / next in the same
  month).

Refused on purpose: "30 days end of month" and "30 days EOM" (end of month + 30 days in ERPNext
and Odoo, but the end of the following month in UK usage: 31 Jan 2025 gives 2 Mar or 28 Feb),
"45 jours fin de mois" (two legal readings in France), bare "EOM", and anything with words left
over.

**A discount without a net period** - the Peppol example's "Payment within 10 days, 2%
discount" - is not terms: `terms_from_text` returns None, because the only number in the text is
the discount period, and taking it as the net period would make the invoice overdue on day 11.
That document carries its own due date (BT-9, 2017-12-01). `discount_from_text` returns the
discount (2 % for 10 days) for the caller to combine with that due date; it also returns the
discount of a full "2/10 net 30".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from dunwell.core.dates import Adjustment
from dunwell.terms.rules.due_dates import Basis, Discount, DueRule, TermLine, Terms, TermsError

_N = r"\d{1,3}"  # a number of days
_P = r"\d{1,2}(?:[.,]\d{1,3})?"  # a percentage, decimal point or comma
_DAYS = r"(?: days?)?"
_OF_INVOICE = r"(?: (?:of|from|after) (?:the )?(?:invoice date|date of invoice))?"
_WITHIN_DE = r"(?:innerhalb|binnen) (?:von )?"
_TAGEN = r"tag(?:en|e)?"
_NETTO_DE = r"(?: rein)?(?: netto)?(?: ohne abzug)?(?: (?:ab|nach) rechnungsdatum)?"
_ORDINAL = r"(?P<dom>\d{1,2})(?:st|nd|rd|th)"

# Patterns for one due-date rule; each builds the rule from its named groups.
_RuleBuilder = Callable[[re.Match[str]], DueRule]


def _net(match: re.Match[str]) -> DueRule:
    return DueRule(Basis.AFTER_INVOICE, days=int(match["net"]))


def _immediate(_: re.Match[str]) -> DueRule:
    return DueRule(Basis.AFTER_INVOICE, days=0)


def _after_end_of_month(match: re.Match[str]) -> DueRule:
    return DueRule(Basis.AFTER_END_OF_MONTH, days=int(match.groupdict().get("days") or 0))


def _end_of_later_month(match: re.Match[str]) -> DueRule:
    months = int(match.groupdict().get("months") or 1)
    return DueRule(Basis.END_OF_MONTH_AFTER_MONTHS, months=months)


def _day_of_month(match: re.Match[str]) -> DueRule:
    groups = match.groupdict()
    months = 0 if groups.get("invoice_month") else int(groups.get("months") or 1)
    return DueRule(Basis.DAY_OF_MONTH, months=months, day_of_month=int(match["dom"]))


def _then_end_of_month(match: re.Match[str]) -> DueRule:
    return DueRule(Basis.AFTER_INVOICE_THEN_END_OF_MONTH, days=int(match["days"]))


_RULES: tuple[tuple[re.Pattern[str], _RuleBuilder], ...] = tuple(
    (re.compile(pattern), builder)
    for pattern, builder in (
        (rf"(?:net|n/) ?(?P<net>{_N}){_DAYS}", _net),
        (rf"(?P<net>{_N}) days? net", _net),
        (rf"net within (?P<net>{_N}) days?", _net),
        (rf"(?:(?:payment|payable|due) )?(?:with)?in (?P<net>{_N}) days?(?: net)?{_OF_INVOICE}", _net),
        (rf"zahlbar {_WITHIN_DE}(?P<net>{_N}) {_TAGEN}{_NETTO_DE}", _net),
        (rf"{_WITHIN_DE}(?P<net>{_N}) {_TAGEN} netto(?: ohne abzug)?", _net),
        (rf"(?P<net>{_N}) tage netto(?: ohne abzug)?", _net),
        (rf"netto (?:{_WITHIN_DE})?(?P<net>{_N}) {_TAGEN}", _net),
        (rf"zahlungsziel:? (?P<net>{_N}) {_TAGEN}(?: netto)?", _net),
        (r"(?:due|payable) (?:(?:up)?on receipt(?: of invoice)?|immediately)", _immediate),
        (r"(?:sofort zahlbar|zahlbar sofort)(?: netto)?(?: ohne abzug)?", _immediate),
        (r"sofort (?:netto|ohne abzug)", _immediate),
        (r"end of (?:the )?(?:invoice )?month", _after_end_of_month),
        (rf"(?P<days>{_N}) days? after (?:the )?end of (?:the )?(?:invoice )?month", _after_end_of_month),
        (r"end of (?:the )?(?:following|next) month", _end_of_later_month),
        (rf"end of the month (?P<months>{_N}) months? after the invoice month", _end_of_later_month),
        (rf"{_ORDINAL} (?:day )?of the (?:following|next) month", _day_of_month),
        (rf"{_ORDINAL} (?:day )?of the (?P<invoice_month>invoice) month", _day_of_month),
        (rf"{_ORDINAL} of the month (?P<months>{_N}) months? after the invoice month", _day_of_month),
        (r"(?P<dom>\d{1,2}) mfi", _day_of_month),
        (rf"(?:net )?{_ORDINAL} prox(?:imo)?", _day_of_month),
        (rf"(?P<days>{_N}) days?,? then (?:the )?end of (?:that |the )?month", _then_end_of_month),
    )
)  # fmt: skip

# Discounts that are terms only before a due-date rule: "2/10" alone is no discount.
_SHORT_DISCOUNTS = (
    rf"(?P<pct>{_P})(?: %)?/(?P<dd>{_N})",  # 2/10
    rf"(?P<pct>{_P}) % (?P<dd>{_N}){_DAYS}",  # 2% 10, 2 % 10 days
)
# Discounts that read the same alone or before a rule.
_DISCOUNTS = tuple(
    re.compile(pattern)
    for pattern in (
        rf"(?P<pct>{_P}) % (?:cash )?(?:discount )?(?:if paid |for payment )?within (?P<dd>{_N}) days?",
        rf"(?:payment |payable |pay )?within (?P<dd>{_N}) days?,? (?:with )?(?P<pct>{_P}) % (?:cash )?discount",
        rf"(?P<pct>{_P}) % skonto (?:bei zahlung )?{_WITHIN_DE}(?P<dd>{_N}) {_TAGEN}",
        rf"(?:zahlbar )?{_WITHIN_DE}(?P<dd>{_N}) {_TAGEN},? (?:mit|abzüglich)? ?(?P<pct>{_P}) % skonto",
        rf"(?P<dd>{_N}) {_TAGEN} (?P<pct>{_P}) % skonto",
    )
)  # fmt: skip

_OR = r",? (?:otherwise |else |or |oder |sonst |ansonsten )?"
# A discount, then the due-date rule in `rest`.
_DISCOUNT_THEN_RULE = tuple(
    re.compile(pattern + _OR + r"(?P<rest>.+)")
    for pattern in (*_SHORT_DISCOUNTS, *(discount.pattern for discount in _DISCOUNTS))
)

_ADJUSTMENTS = {
    Adjustment.FOLLOWING: "moved to the next business day",
    Adjustment.PRECEDING: "moved to the previous business day",
    Adjustment.MODIFIED_FOLLOWING: "moved to the next business day in the same month",
}


def terms_from_text(text: str) -> Terms | None:
    """The terms a phrase states beyond doubt, or None (see the module docstring)."""
    reading = _read(text)
    if reading is None:
        return None
    rule, discount, adjustment = reading
    if rule is None:
        return None  # a discount alone: see discount_from_text
    try:
        return Terms((TermLine(rule),), discount=discount, adjustment=adjustment)
    except TermsError:
        return None


def discount_from_text(text: str) -> Discount | None:
    """The early-payment discount a phrase states, with or without a net period, or None."""
    reading = _read(text)
    return None if reading is None else reading[1]


def _read(text: str) -> tuple[DueRule | None, Discount | None, Adjustment] | None:
    """(rule, discount, adjustment) of a recognised phrase; rule None means a discount alone."""
    normal, adjustment = _split_adjustment(_normalise(text))
    for pattern in _DISCOUNTS:
        if match := pattern.fullmatch(normal):
            discount = _discount(match)
            return None if discount is None else (None, discount, adjustment)
    for pattern in _DISCOUNT_THEN_RULE:
        match = pattern.fullmatch(normal)
        if match and (rule := _rule(match["rest"])) is not None:
            discount = _discount(match)
            if discount is None or _contradicts(discount, rule):
                return None
            return rule, discount, adjustment
    rule = _rule(normal)
    return None if rule is None else (rule, None, adjustment)


def _contradicts(discount: Discount, rule: DueRule) -> bool:
    """A discount period as long as the net period: "2/30 net 30" says nothing sensible."""
    return rule.basis is Basis.AFTER_INVOICE and discount.days >= rule.days


def _normalise(text: str) -> str:
    normal = " ".join(text.replace(";", ",").split()).casefold().rstrip(". ")
    normal = re.sub(r"\s*%", " %", normal)  # 2% and 2 % read the same
    normal = re.sub(r"\s*/\s*", "/", normal)  # 2 / 10 and n / 30
    return re.sub(r"\s*,(?!\d)\s*", ", ", normal)  # a comma after a word, not 2,5 %


def _split_adjustment(normal: str) -> tuple[str, Adjustment]:
    for adjustment, words in _ADJUSTMENTS.items():
        if normal.endswith(", " + words):
            return normal[: -len(", " + words)], adjustment
    return normal, Adjustment.NONE


def _rule(normal: str) -> DueRule | None:
    for pattern, builder in _RULES:
        if match := pattern.fullmatch(normal):
            try:
                return builder(match)
            except TermsError:
                return None
    return None


def _discount(match: re.Match[str]) -> Discount | None:
    try:
        return Discount(Decimal(match["pct"].replace(",", ".")), int(match["dd"]))
    except TermsError:
        return None


# -- describing -------------------------------------------------------------------------------


def describe(terms: Terms) -> str:
    """Plain English for a person: "Net 30", "2 % 10 days, net 30", "3 instalments"."""
    if len(terms.lines) > 1:
        text = f"{len(terms.lines)} instalments"
    else:
        text = _describe_rule(terms.lines[0].rule)
    if terms.discount is not None:
        percent = _number(terms.discount.percent)
        text = f"{percent} % {_days(terms.discount.days)}, {text[0].lower()}{text[1:]}"
    if terms.adjustment is not Adjustment.NONE:
        text += ", " + _ADJUSTMENTS[terms.adjustment]
    return text


def _describe_rule(rule: DueRule) -> str:
    match rule.basis:
        case Basis.AFTER_INVOICE:
            return f"Net {rule.days}" if rule.days else "Due on receipt"
        case Basis.AFTER_END_OF_MONTH:
            return f"{_days(rule.days)} after end of month" if rule.days else "End of month"
        case Basis.END_OF_MONTH_AFTER_MONTHS:
            return f"End of {_month_after(rule.months)}"
        case Basis.DAY_OF_MONTH:
            return f"{_ordinal(rule.day_of_month or 1)} of {_month_after(rule.months)}"
        case Basis.AFTER_INVOICE_THEN_END_OF_MONTH:
            return f"{_days(rule.days)}, then end of month"


def _month_after(months: int) -> str:
    if months == 0:
        return "the invoice month"
    if months == 1:
        return "the following month"
    return f"the month {months} months after the invoice month"


def _days(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")
