"""The ledger in the admin: seen by superusers, changed only through the services.

- Open items, instalments, lines, payments, allocations, write-offs and the history are read-only:
  every change to money goes through a service, which records it in the history.
- Customers are changed through `update_customer`, so an edit here records its history entry like
  one from an import; the account number, currency, credit limit and links stay read-only, and
  customers are created by imports.
- Contacts carry no money and no history entry: editable, always in their customer's company.
- FX rates are added through `set_rate`; a stored rate is never changed or deleted here, because
  reports and conversions of past days read it (invariant 1: the rate used is stored and shown).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from dunwell.core import clock
from dunwell.core.admin_site import ReadOnlyAdmin, ReadOnlyInline, money_column
from dunwell.core.errors import DunwellError
from dunwell.core.models import FxRate
from dunwell.core.money import MoneyError, check_currency
from dunwell.ledger.models import (
    Activity,
    Allocation,
    Contact,
    Customer,
    Instalment,
    OpenItem,
    OpenItemLine,
    Payment,
    WriteOff,
)
from dunwell.ledger.services.customers import (
    UPDATABLE,
    CustomerInput,
    add_contact,
    customer_values,
    update_customer,
)
from dunwell.ledger.services.fx import set_rate

# The customer fields the admin may change: those an import may update, but money and JSON.
CUSTOMER_EDITABLE: tuple[str, ...] = tuple(
    f for f in UPDATABLE if f not in ("credit_limit_minor", "tags")
)


def _actor(request: HttpRequest) -> User | None:
    return request.user if request.user.is_authenticated else None


# -- customers and contacts ------------------------------------------------------------------------


class CustomerForm(forms.ModelForm):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    """Checks an edit as an import would (`customer_values`) and keeps the normalised values."""

    class Meta:
        model = Customer
        fields = CUSTOMER_EDITABLE

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        current = self.instance
        merged = {name: data.get(name, getattr(current, name)) for name in CUSTOMER_EDITABLE}
        spec = CustomerInput(
            account_number=current.account_number,
            currency=current.currency,
            credit_limit_minor=current.credit_limit_minor,
            tags=tuple(current.tags or ()),
            **merged,
        )
        try:
            self.service_values = customer_values(spec)
        except DunwellError as exc:
            field = exc.context.get("field")
            self.add_error(field if field in self.fields else None, exc.message)
        return data


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    form = CustomerForm
    list_display = (
        "account_number",
        "legal_name",
        "company",
        "country",
        "currency",
        "credit_limit",
        "status",
        "segment",
    )
    list_filter = ("company", "status", "kind", "currency")
    list_select_related = ("company",)
    search_fields = ("account_number", "legal_name", "vat_id", "registration_id")
    show_full_result_count = False
    fields = (
        "company",
        "account_number",
        "currency",
        *CUSTOMER_EDITABLE,
        "parent",
        "payment_term",
        "credit_limit",
        "tags",
        "owner",
        "status",
        "created_at",
        "updated_at",
    )
    readonly_fields = tuple(str(f) for f in fields if f not in CUSTOMER_EDITABLE)
    credit_limit = money_column("credit_limit_minor", "credit limit")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customers come from imports (`dunwell import customers`)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # their history and documents keep them

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        # `obj` already holds the form's values; the service compares against the stored row.
        stored = Customer.objects.select_related("company").get(pk=obj.pk)
        update_customer(
            customer=stored,
            changes={name: form.service_values[name] for name in CUSTOMER_EDITABLE},
            actor=_actor(request),
            at=clock.now(),
            on=clock.today(stored.company),
        )


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    list_display = ("name", "customer", "role", "email", "phone", "preferred_channel")
    list_filter = ("role", "preferred_channel", "receives_reminders")
    list_select_related = ("customer",)
    search_fields = ("name", "email", "customer__account_number", "customer__legal_name")
    autocomplete_fields = ("customer",)
    show_full_result_count = False
    readonly_fields = ("company",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("company",) if obj is None else ("company", "customer")

    def save_model(self, request: HttpRequest, obj: Contact, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=[f for f in form.changed_data if f in form.fields])
            return
        values = {f: form.cleaned_data[f] for f in form.fields if f != "customer"}
        made = add_contact(customer=obj.customer, actor=_actor(request), **values)
        obj.pk, obj.company_id = made.pk, made.company_id


# -- FX rates ---------------------------------------------------------------------------------------


class FxRateForm(forms.ModelForm):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    class Meta:
        model = FxRate
        fields = ("on", "base", "quote", "rate", "source")

    def _currency(self, field: str) -> str:
        try:
            return check_currency(self.cleaned_data[field])
        except MoneyError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_base(self) -> str:
        return self._currency("base")

    def clean_quote(self) -> str:
        return self._currency("quote")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("base") and data.get("base") == data.get("quote"):
            self.add_error("quote", "a rate converts between two different currencies")
        if data.get("rate") is not None and data["rate"] <= 0:
            self.add_error("rate", "an exchange rate must be positive")
        return data


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin):  # type: ignore[type-arg] # generic only in django-stubs, not at runtime
    form = FxRateForm
    list_display = ("on", "base", "quote", "rate", "source")
    list_filter = ("base", "quote")
    date_hierarchy = "on"
    ordering = ("-on", "base", "quote")
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: FxRate, form: Any, change: bool) -> None:
        saved = set_rate(
            base=obj.base, quote=obj.quote, on=obj.on, rate=obj.rate, source=obj.source
        )
        obj.pk = saved.pk


# -- open items -------------------------------------------------------------------------------------


class ItemStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open"), ("settled", "Settled"), ("void", "Void")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        live = queryset.filter(voided_on__isnull=True)
        match self.value():
            case "open":
                return live.filter(~Q(open_minor=0))
            case "settled":
                return live.filter(open_minor=0)
            case "void":
                return queryset.filter(voided_on__isnull=False)
        return queryset


class InstalmentInline(ReadOnlyInline):
    model = Instalment
    fields = ("sequence", "due_on", "amount")
    amount = money_column("amount_minor", "amount", "item.currency")


class OpenItemLineInline(ReadOnlyInline):
    model = OpenItemLine
    fields = ("sequence", "description", "quantity", "unit_price", "net", "tax_rate")
    net = money_column("net_minor", "net", "item.currency")


class AllocationInline(ReadOnlyInline):
    model = Allocation
    fk_name = "target"
    verbose_name_plural = "allocations (what reduced the open amount)"
    fields = ("effective_on", "kind", "amount", "payment", "counter_item", "recorded_at", "note")
    amount = money_column("amount_minor", "amount")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Allocation]:
        return super().get_queryset(request).select_related("payment", "counter_item")


@admin.register(OpenItem)
class OpenItemAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "kind",
        "customer",
        "issued_on",
        "due_on",
        "amount",
        "open",
        "settled_on",
        "company",
    )
    list_filter = (ItemStateFilter, "kind", "company", "currency", "due_on")
    list_select_related = ("customer", "company")
    search_fields = (
        "number",
        "customer__account_number",
        "customer__legal_name",
        "payment_reference",
        "po_number",
    )
    ordering = ("-pk",)  # the primary key's index: no sort of the whole table per page
    fields = (
        "company",
        "customer",
        "kind",
        "number",
        "related",
        "issued_on",
        "due_on",
        "currency",
        "amount",
        "net",
        "tax",
        "open",
        "settled_on",
        "voided_on",
        "payment_term",
        "discount_until",
        "discount",
        "has_instalments",
        "po_number",
        "payment_reference",
        "description",
        "source",
        "created_at",
        "updated_at",
        "created_by",
    )
    inlines = (InstalmentInline, OpenItemLineInline, AllocationInline)
    amount = money_column("amount_minor", "amount")
    open = money_column("open_minor", "open")
    net = money_column("net_minor", "net")
    tax = money_column("tax_minor", "tax")
    discount = money_column("discount_minor", "discount")


@admin.register(Instalment)
class InstalmentAdmin(ReadOnlyAdmin):
    list_display = ("item", "sequence", "due_on", "amount")
    list_select_related = ("item",)
    search_fields = ("item__number",)
    ordering = ("-pk",)
    fields = ("company", "item", "sequence", "due_on", "amount")
    amount = money_column("amount_minor", "amount", "item.currency")


@admin.register(OpenItemLine)
class OpenItemLineAdmin(ReadOnlyAdmin):
    list_display = ("item", "sequence", "description", "quantity", "unit_price", "net", "tax_rate")
    list_select_related = ("item",)
    search_fields = ("item__number", "description")
    ordering = ("-pk",)
    fields = (
        "company",
        "item",
        "sequence",
        "description",
        "quantity",
        "unit_price",
        "net",
        "tax_rate",
    )
    net = money_column("net_minor", "net", "item.currency")


# -- payments, allocations, write-offs ---------------------------------------------------------------


class PaymentAllocationInline(AllocationInline):
    fk_name = "payment"
    fields = ("effective_on", "kind", "target", "amount", "paid", "fx_rate", "recorded_at")
    paid = money_column("payment_amount_minor", "in the payment's currency", "payment.currency")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Allocation]:
        return super().get_queryset(request).select_related("target")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "external_id",
        "customer",
        "value_on",
        "amount",
        "unapplied",
        "method",
        "settled_on",
        "voided_on",
    )
    list_filter = ("company", "method", "currency", "value_on")
    list_select_related = ("customer",)
    search_fields = (
        "external_id",
        "reference",
        "payer_name",
        "customer__account_number",
        "customer__legal_name",
    )
    ordering = ("-pk",)
    fields = (
        "company",
        "customer",
        "external_id",
        "value_on",
        "currency",
        "amount",
        "unapplied",
        "method",
        "reference",
        "payer_name",
        "payer_iban",
        "source",
        "settled_on",
        "voided_on",
        "void_reason",
        "created_at",
    )
    inlines = (PaymentAllocationInline,)
    amount = money_column("amount_minor", "amount")
    unapplied = money_column("unapplied_minor", "unapplied")


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ("pk", "effective_on", "kind", "target", "amount", "payment", "recorded_at")
    list_filter = ("kind", "company", "currency", "effective_on")
    list_select_related = ("target", "payment")
    search_fields = ("target__number", "payment__external_id", "customer__account_number")
    ordering = ("-pk",)
    fields = (
        "company",
        "customer",
        "target",
        "kind",
        "currency",
        "amount",
        "payment",
        "paid",
        "fx_rate",
        "fx_on",
        "counter_item",
        "write_off",
        "reversal_of",
        "effective_on",
        "recorded_at",
        "recorded_by",
        "note",
        "target_due_on",
        "target_settled_on",
    )
    amount = money_column("amount_minor", "amount")
    paid = money_column("payment_amount_minor", "in the payment's currency", "payment.currency")


@admin.register(WriteOff)
class WriteOffAdmin(ReadOnlyAdmin):
    list_display = ("item", "on", "amount", "reason", "created_by")
    list_filter = ("company", "on")
    list_select_related = ("item", "created_by")
    search_fields = ("item__number", "reason")
    ordering = ("-pk",)
    fields = ("company", "item", "amount", "on", "reason", "created_at", "created_by")
    amount = money_column("amount_minor", "amount", "item.currency")


# -- the history ------------------------------------------------------------------------------------


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "on", "kind", "customer", "summary", "amount", "actor_label")
    list_filter = ("kind", "company")
    list_select_related = ("customer",)
    search_fields = ("summary", "customer__account_number", "customer__legal_name", "item__number")
    ordering = ("-pk",)
    fields = (
        "company",
        "customer",
        "item",
        "payment",
        "kind",
        "on",
        "recorded_at",
        "actor",
        "actor_label",
        "summary",
        "amount",
        "data",
        "key",
    )
    amount = money_column("amount_minor", "amount")
