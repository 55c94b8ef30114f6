"""The customer portal: what a message's link opens for the debtor's AP staff, without an account.

`/portal/<token>/` shows the statement of account (every open item with its RF and national
reference, the aging, the bank details and the EPC QR code), each open invoice with its PDF, and
five things to do: dispute an invoice, promise a payment date, ask for a payment plan, report a
payment already sent, correct the AP contact (`workflows.portal`). Pages are in the customer's
language (`?lang=` switches between those Dunwell speaks) and are never cached or indexed. A
link that is changed, withdrawn or expired opens nothing; an expired one offers to send a fresh
link to the contact's address on record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dunwell.cases.models import DisputeReason, PortalLink
from dunwell.cases.services import portal
from dunwell.cases.services.disputes import MAX_ATTACHMENT
from dunwell.cash import providers
from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.formatting import format_money
from dunwell.core.money import Money, MoneyError, parse_amount
from dunwell.ledger.models import ItemKind, OpenItem
from dunwell.ledger.printing import document_language, invoice_context, render_document
from dunwell.ledger.statement import customer_statement
from dunwell.web.documents import pdf_response
from dunwell.workflows import cards
from dunwell.workflows import portal as actions

View = Callable[..., HttpResponse]
PAYABLE = (ItemKind.INVOICE, ItemKind.FEE, ItemKind.INTEREST)


def _item_label(item: OpenItem) -> str:
    """ "INV-1001 · €1,234.56 open", in the page's language."""
    open_ = format_money(item.open_minor, item.currency, translation.get_language() or "en")
    return f"{item.number} · {open_}"


class ItemChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: OpenItem) -> str:
        return _item_label(obj)


class ItemsChoice(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: OpenItem) -> str:
        return _item_label(obj)


class DisputeForm(forms.Form):
    item = ItemChoice(queryset=OpenItem.objects.none(), label=gettext_lazy("Invoice"))
    reason = forms.ChoiceField(choices=DisputeReason.choices, label=gettext_lazy("Reason"))
    amount = forms.CharField(required=False, max_length=30, label=gettext_lazy(
        "Amount disputed (empty: all of it)"))  # fmt: skip
    comment = forms.CharField(required=False, max_length=500, widget=forms.Textarea(
        attrs={"rows": 3}), label=gettext_lazy("What is wrong"))  # fmt: skip
    attachment = forms.FileField(required=False, label=gettext_lazy(
        "A document (PDF, image, up to 10 MB)"))  # fmt: skip


class PromiseForm(forms.Form):
    items = ItemsChoice(queryset=OpenItem.objects.none(), label=gettext_lazy("Invoices"))
    promised_on = forms.DateField(label=gettext_lazy("We will pay by"),
                                  widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip


class PlanForm(forms.Form):
    instalments = forms.IntegerField(min_value=2, max_value=24, initial=3,
                                     label=gettext_lazy("Instalments"))  # fmt: skip
    first_on = forms.DateField(label=gettext_lazy("First instalment on"),
                               widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea(
        attrs={"rows": 2}), label=gettext_lazy("Anything we should know"))  # fmt: skip


class PaidForm(forms.Form):
    items = ItemsChoice(queryset=OpenItem.objects.none(), label=gettext_lazy("Invoices"))
    paid_on = forms.DateField(label=gettext_lazy("Paid on"),
                              widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    reference = forms.CharField(required=False, max_length=140,
                                label=gettext_lazy("Payment reference"))  # fmt: skip


class CardForm(forms.Form):
    items = ItemsChoice(queryset=OpenItem.objects.none(), label=gettext_lazy("Invoices"))


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200, label=gettext_lazy("Name"))
    email = forms.EmailField(required=False, label=gettext_lazy("Email"))
    phone = forms.CharField(required=False, max_length=40, label=gettext_lazy("Phone"))


FORMS: dict[str, type[forms.Form]] = {
    "dispute": DisputeForm, "promise": PromiseForm, "plan": PlanForm, "paid": PaidForm,
    "contact": ContactForm, "card": CardForm,
}  # fmt: skip


def _language(request: HttpRequest, link: PortalLink) -> str:
    asked = request.GET.get("lang", "")
    if asked in dict(settings.LANGUAGES):
        return asked
    contact_language = link.contact.language if link.contact else ""
    if contact_language in dict(settings.LANGUAGES):
        return contact_language
    return document_language(link.customer, link.company)


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def portal_view(view: View) -> View:
    """Resolve the token (or show why not), then run `view` in the customer's language."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            link = portal.resolve(token, at=clock.now())
        except portal.PortalLinkError as refused:
            return _private(_refused(request, token, refused))
        with translation.override(_language(request, link)):
            return _private(view(request, link, token, *args, **kwargs))

    return wrapper


def _refused(request: HttpRequest, token: str, refused: portal.PortalLinkError) -> HttpResponse:
    link = refused.link
    language = _language(request, link) if link is not None else settings.LANGUAGE_CODE
    renewable = (
        refused.reason == "expired"
        and link is not None
        and bool(link.contact and link.contact.email)
    )
    with translation.override(language):
        return render(request, "portal/refused.html", {
            "reason": refused.reason, "renewable": renewable, "token": token,
            "company": link.company if link is not None else None,
        }, status=404 if refused.reason == "invalid" else 410)  # fmt: skip


def _open_items(link: PortalLink) -> list[OpenItem]:
    return list(
        OpenItem.objects.filter(company=link.company, customer=link.customer, kind__in=PAYABLE,
                                open_minor__gt=0, voided_on__isnull=True)
        .order_by("due_on", "pk")
    )  # fmt: skip


def _forms(link: PortalLink, items: list[OpenItem], data: Any = None, files: Any = None,
           only: str = "") -> dict[str, forms.Form]:  # fmt: skip
    """Every action's form; `only`'s bound to the posted `data`."""
    made: dict[str, forms.Form] = {}
    ids = [i.pk for i in items]
    for name, form_class in FORMS.items():
        bound = name == only
        form = form_class(data if bound else None, files if bound else None, prefix=name)
        for field in ("item", "items"):
            if field in form.fields:
                form.fields[field].queryset = OpenItem.objects.filter(pk__in=ids).order_by(  # type: ignore[attr-defined]
                    "due_on", "pk")  # fmt: skip
        if name == "contact" and not bound and link.contact is not None:
            form.initial = {"name": link.contact.name, "email": link.contact.email,
                            "phone": link.contact.phone}  # fmt: skip
        made[name] = form
    return made


def _page(request: HttpRequest, link: PortalLink, token: str,
          forms_: dict[str, forms.Form] | None = None, status: int = 200) -> HttpResponse:  # fmt: skip
    today = clock.today(link.company)
    items = _open_items(link)
    context = {
        "link": link, "token": token, "company": link.company, "customer": link.customer,
        "statement": customer_statement(link.customer, today), "items": items,
        "forms": forms_ or _forms(link, items), "today": today,
        "language": translation.get_language(), "languages": settings.LANGUAGES,
        "card_payments": providers.configured() is not None,
        "card_paid": request.GET.get("card") == "paid",
    }  # fmt: skip
    return render(request, "portal/home.html", context, status=status)


@portal_view
def home(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    return _page(request, link, token)


@require_POST
@portal_view
def act(request: HttpRequest, link: PortalLink, token: str, action: str) -> HttpResponse:
    items = _open_items(link)
    made = _forms(link, items, request.POST, request.FILES, only=action)
    form = made.get(action)
    if form is None or not form.is_valid():
        return _page(request, link, token, made, status=400)
    today, at = clock.today(link.company), clock.now()
    if action == "card":
        return _card(request, link, token, made, list(form.cleaned_data["items"]))
    try:
        said = _do(action, link, form.cleaned_data, today, at)
    except DunwellError as error:
        form.add_error(_field(form, error), error.message)
        return _page(request, link, token, made, status=400)
    flash.success(request, said)
    home_url = reverse("portal:home", args=[token])
    return redirect(f"{home_url}?lang={translation.get_language()}")


def _card(request: HttpRequest, link: PortalLink, token: str, made: dict[str, forms.Form],
          items: list[OpenItem]) -> HttpResponse:  # fmt: skip
    """To the provider's checkout page; back here after it (paid, or given up)."""
    provider = providers.configured()
    if provider is None:
        made["card"].add_error(None, _("Card payment is not offered."))
        return _page(request, link, token, made, status=400)
    home = request.build_absolute_uri(reverse("portal:home", args=[token]))
    try:
        checkout = cards.start_checkout(link=link, items=items, provider=provider,
                                        success_url=f"{home}?card=paid", cancel_url=home)  # fmt: skip
    except DunwellError as error:
        made["card"].add_error(None, error.message)
        return _page(request, link, token, made, status=400)
    return redirect(checkout.url)


def _field(form: forms.Form, error: DunwellError) -> str | None:
    field = str(error.context.get("field", ""))
    return {"file": "attachment"}.get(field, field) if field in (*form.fields, "file") else None


def _do(action: str, link: PortalLink, data: dict[str, Any], today: date, at: Any) -> str:
    if action == "dispute":
        amount = None
        if data["amount"]:
            try:
                amount = Money(parse_amount(data["amount"]), data["item"].currency).minor
            except MoneyError as error:
                raise DunwellError(ErrorCode.INVALID, str(error), field="amount") from None
        upload = data["attachment"]
        attachment = None
        if upload is not None:
            if upload.size > MAX_ATTACHMENT:
                raise DunwellError(ErrorCode.INVALID, _("The document is larger than 10 MB."),
                                   field="file")  # fmt: skip
            attachment = actions.Attachment(upload.name, upload.read())
        actions.dispute(link=link, item=data["item"], reason=data["reason"], amount_minor=amount,
                        comment=data["comment"], attachment=attachment, on=today, at=at)  # fmt: skip
        return _("Thank you: your dispute of %(number)s is with us, and we will come back to you.") % {
            "number": data["item"].number}  # fmt: skip
    if action == "promise":
        if data["promised_on"] < today:
            raise DunwellError(ErrorCode.INVALID, _("The date is in the past."),
                               field="promised_on")  # fmt: skip
        actions.promise(link=link, items=list(data["items"]), promised_on=data["promised_on"],
                        on=today, at=at)  # fmt: skip
        return _("Thank you: we have noted your payment by %(date)s and will not remind you of "
                 "these invoices until then.") % {"date": data["promised_on"].isoformat()}  # fmt: skip
    if action == "plan":
        actions.ask_for_plan(link=link, instalments=data["instalments"],
                             first_on=data["first_on"], note=data["note"], on=today, at=at)  # fmt: skip
        return _("Thank you: we will look at your request for a payment plan and come back to you.")
    if action == "paid":
        actions.report_payment(link=link, items=list(data["items"]), paid_on=data["paid_on"],
                               reference=data["reference"], on=today, at=at)  # fmt: skip
        return _("Thank you: we will look for your payment and stop reminding you of these "
                 "invoices meanwhile.")  # fmt: skip
    actions.correct(link=link, name=data["name"], email=data["email"], phone=data["phone"],
                    on=today, at=at)  # fmt: skip
    return _("Thank you: the contact is corrected.")


@portal_view
def invoice_pdf(request: HttpRequest, link: PortalLink, token: str, item_id: int) -> HttpResponse:
    item = (
        OpenItem.objects.filter(pk=item_id, company=link.company, customer=link.customer)
        .select_related("customer", "payment_term")
        .first()
    )
    if item is None:
        return render(request, "portal/refused.html", {"reason": "invalid"}, status=404)
    language = document_language(link.customer, link.company)
    html = render_document("documents/invoice.html", invoice_context(item, link.company), language)
    return pdf_response(html, f"{item.kind.replace('_', '-')}-{item.number}.pdf")


@require_POST
def renew(request: HttpRequest, token: str) -> HttpResponse:
    """Send a fresh link to the contact of an expired one (never to an address typed here)."""
    at = clock.now()
    try:
        portal.resolve(token, at=at)
        return redirect("portal:home", token=token)  # still open: nothing to renew
    except portal.PortalLinkError as refused:
        link = refused.link
        if refused.reason != "expired" or link is None:
            return _private(_refused(request, token, refused))
    renewal = portal.renew(link, on=clock.today(link.company), at=at)
    with translation.override(_language(request, link)):
        if renewal is not None:
            send_mail(
                _("Your account with %(company)s") % {"company": link.company.legal_name},
                _("Here is a fresh link to your account, your invoices and how to pay them:\n\n"
                  "%(link)s\n\nIt opens your account for %(days)s days.") % {
                    "link": portal.address(renewal.link), "days": settings.PORTAL_LINK_DAYS},
                settings.DEFAULT_FROM_EMAIL, [renewal.email],
            )  # fmt: skip
        context = {
            "reason": "renewed" if renewal is not None else "renew_wait",
            "email": _masked(link.contact.email if link.contact else ""),
        }
        return _private(render(request, "portal/refused.html", context, status=200))


def _masked(email: str) -> str:
    """p•••@bauer.example: enough to recognise one's own address, not to learn someone's."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}" if domain else ""


@csrf_exempt
@require_POST
def card_webhook(request: HttpRequest) -> HttpResponse:
    """The provider's call that money came (signed: anything else is refused, 400)."""
    provider = providers.configured()
    if provider is None:
        return HttpResponse("card payments are not configured", status=404,
                            content_type="text/plain")  # fmt: skip
    try:
        paid = provider.paid(request.body, request.headers.get("Stripe-Signature", ""))
        if paid is not None:
            cards.record_card_payment(paid=paid, provider=provider.name, at=clock.now())
    except DunwellError as error:
        return HttpResponse(error.message, status=400, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
