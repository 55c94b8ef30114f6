"""What every route of the API shares: problem+json errors, scopes, cursor pages, the filters'
vocabulary, the documented error answers and the Idempotency-Key decorator (see `routes`)."""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Annotated, Any, Self

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import register_converter
from ninja import Field, Schema
from ninja.params import functions as param
from pydantic import BeforeValidator, ConfigDict, ValidationInfo, model_validator

from dunwell.api.models import ApiToken, IdempotentAnswer
from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.ledger.models import Customer, ItemKind, OpenItem

MAX_LIMIT = 500
MAX_MINOR = 10**15  # an amount above 10^13 in major units is a slip, and it keeps to BIGINT
MAX_ID = 2**63 - 1
# Text a filter or a body may hold: no NUL (PostgreSQL stores none), no other control character
# in a key (an account or document number); a note may have line breaks and tabs.
KEY = r"^[^\x00-\x1f\x7f]*$"
TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
CURRENCY = r"^[A-Za-z]{3}$"
MAYBE_CURRENCY = r"^([A-Za-z]{3})?$"  # empty: the customer's, or no filter
# The days a write may name: the terms' and plans' arithmetic stays within the calendar.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
# A cursor is a record's key written in base-64 digits: at most 10 of them (2^60 records), so
# that every string of the pattern is a cursor the API may have given.
CURSOR = r"^[A-Za-z0-9_-]{0,10}$"
DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
IDEMPOTENCY_KEY_TEXT = r"[!-~]{1,200}"  # printable ASCII without spaces: a UUID, "erp-4711"


def _iso_day(value: Any) -> Any:
    """Only YYYY-MM-DD is a day here (pydantic would also read 0 as 1970-01-01)."""
    if isinstance(value, date) or (isinstance(value, str) and ISO_DAY.fullmatch(value)):
        return value
    raise ValueError("expected a date as YYYY-MM-DD")


Day = Annotated[date, BeforeValidator(_iso_day)]


def _json_integer(value: Any) -> Any:
    """An integer as JSON has it: 600 or 600.0, not "600" nor true (pydantic would take both)."""
    if isinstance(value, str | bool):
        raise ValueError("expected an integer")
    return value


# Amounts in minor units a body may give (the constraints before the validator, for pydantic to
# write them into the JSON schema as `exclusiveMinimum` and `maximum`).
Amount = Annotated[int, Field(gt=0, le=MAX_MINOR), BeforeValidator(_json_integer)]  # > 0
Minor = Annotated[int, Field(ge=0, le=MAX_MINOR), BeforeValidator(_json_integer)]  # >= 0


RecordId = Annotated[int, param.Path(ge=1, le=MAX_ID)]


class Rest:
    """A path converter for the rest of a path, line breaks too (Django's `path` converter stops
    at one, and the site's HTML 404 would answer): `/invoices/{rest:number}`."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(Rest, "rest")


class ApiError(Exception):
    """A refusal the API answers itself (not a domain rule): status, title, detail, field."""

    def __init__(self, status: int, title: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.field = status, title, detail, field


def problem(status: int, title: str, detail: str, field: str | None = None) -> JsonResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status,
                            "detail": detail}  # fmt: skip
    if field:
        body["field"] = field
    return JsonResponse(body, status=status, content_type="application/problem+json")


class Problem(Schema):
    """An error (RFC 9457 problem details); `field` names the input that was wrong."""

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None


# What each operation may answer besides its success, declared in the OpenAPI document (as
# application/problem+json: `routes.DunwellApi`).
READ_ERRORS: dict[int, type[Schema]] = {400: Problem, 401: Problem, 403: Problem}
DETAIL_ERRORS: dict[int, type[Schema]] = {**READ_ERRORS, 404: Problem}
WRITE_ERRORS: dict[int, type[Schema]] = {**DETAIL_ERRORS, 409: Problem, 422: Problem}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": True,
    "description": "the caller's key for this write (e.g. a UUID): the same key again answers "
    "what the first call answered",
    "schema": {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY_TEXT}$"},
}
KEYED: dict[str, Any] = {"parameters": [IDEMPOTENCY_KEY]}


def token_of(request: HttpRequest) -> ApiToken:
    token: ApiToken = request.api_token  # type: ignore[attr-defined]
    return token


def need(request: HttpRequest, scope: str) -> ApiToken:
    token = token_of(request)
    if scope not in token.scopes:
        raise ApiError(403, "forbidden", f"this token has no {scope!r} scope")
    return token


def read(request: HttpRequest) -> Company:
    """The company of a token that may read."""
    return need(request, "read").company


# -- pages -------------------------------------------------------------------------------------


def cursor_of(pk: int) -> str:
    text = ""
    while pk:
        pk, digit = divmod(pk, 64)
        text = DIGITS[digit] + text
    return text or DIGITS[0]


def after(cursor: str) -> int:
    pk = 0
    for char in cursor:
        pk = pk * 64 + DIGITS.index(char)  # the pattern has let only these through
    return pk


class QueryParameters(Schema):
    """A route's query parameters: one the route does not have, or one given twice, is refused
    (a misspelt filter would otherwise filter nothing)."""

    @model_validator(mode="after")
    def _only_known_once(self, info: ValidationInfo) -> Self:
        request = (info.context or {}).get("request")
        if request is None:
            return self
        known = {field.alias or name for name, field in type(self).model_fields.items()}
        for name in request.GET:
            if name not in known:
                raise ApiError(400, "invalid", f"{name}: not a parameter of this route (it "
                               f"has {', '.join(sorted(known))})", name)  # fmt: skip
            if len(request.GET.getlist(name)) > 1:
                raise ApiError(400, "invalid", f"{name}: given more than once", name)
        return self


class Body(Schema):
    """A request's body: a field it does not have is refused (a misspelt `amount_minor` would
    otherwise be left out silently)."""

    model_config = ConfigDict(extra="forbid")


class Paging(QueryParameters):
    cursor: str = Field(
        "", pattern=CURSOR, description="`next` of the page before; empty: the first"
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"records a page, 1 to {MAX_LIMIT}")


def page(rows: QuerySet[Any], paging: Paging, row: Callable[[Any], Any]) -> dict[str, Any]:
    """One page of `rows` in the order they were created, and the cursor of the next."""
    found = list(rows.filter(pk__gt=after(paging.cursor)).order_by("pk")[: paging.limit + 1])
    more = len(found) > paging.limit
    found = found[: paging.limit]
    return {"items": [row(r) for r in found],
            "next": cursor_of(found[-1].pk) if more and found else None}  # fmt: skip


# -- filters -----------------------------------------------------------------------------------


def key_field(description: str, max_length: int = 60) -> Any:
    """An optional filter on a key (an account or document number): "" is no filter."""
    return Field("", max_length=max_length, pattern=KEY, description=description)


def choice_field(values: list[str], description: str) -> Any:
    """An optional filter on one of `values`, "" for any (checked by `check_choice`, to name
    the field)."""
    return Field("", description=f"{description}; empty: any",
                 json_schema_extra={"enum": ["", *values]})  # fmt: skip


def check_choice(value: str, values: list[str], field: str) -> str:
    if value and value not in values:
        raise ApiError(400, "invalid", f"{field} {value!r}: expected one of "
                       f"{', '.join(values)}", field)  # fmt: skip
    return value


def in_range(
    rows: QuerySet[Any], column: str, first: date | None, last: date | None
) -> QuerySet[Any]:
    """`rows` whose date `column` is from `first` to `last`, both included (either may be open)."""
    if first is not None:
        rows = rows.filter(**{f"{column}__gte": first})
    if last is not None:
        rows = rows.filter(**{f"{column}__lte": last})
    return rows


def check_day(value: date | None, field: str) -> None:
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise DunwellError(ErrorCode.INVALID, f"{field} {value.isoformat()}: expected a day "
                           f"from {FIRST_DAY} to {LAST_DAY}", field=field)  # fmt: skip


def customer_named(company: Company, account_number: str, field: str = "customer") -> Customer:
    found = Customer.objects.filter(company=company, account_number=account_number).first()
    if found is None:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no customer {account_number!r}", field=field)
    return found


def items_named(company: Company, customer: Customer, numbers: list[str]) -> list[OpenItem]:
    """The customer's documents (not credit notes) of these numbers, in their order, or 404."""
    rows = OpenItem.objects.filter(company=company, customer=customer, number__in=numbers)
    found = {i.number: i for i in rows.exclude(kind=ItemKind.CREDIT_NOTE)}
    missing = sorted(set(numbers) - set(found))
    if missing:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no invoice {', '.join(missing)} of "
                           f"{customer.account_number}", field="invoices")  # fmt: skip
    return [found[n] for n in numbers]


def found_or_404(row: Any, what: str) -> Any:
    if row is None:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no {what}")
    return row


def jsonable(body: dict[str, Any]) -> dict[str, Any]:
    """`body` as JSON has it, written as ninja writes a GET's answer (ISO dates and times):
    what is kept for a replay is what was sent."""
    kept: dict[str, Any] = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
    return kept


# -- writes ------------------------------------------------------------------------------------


def idempotent(view: Callable[..., tuple[int, dict[str, Any]]]) -> Callable[..., HttpResponse]:
    """A POST handler run once per Idempotency-Key (see the `routes` docstring)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = need(request, "write")
        key = request.headers.get("Idempotency-Key", "").strip()
        if not re.fullmatch(IDEMPOTENCY_KEY_TEXT, key):
            return problem(400, "idempotency_key", "every POST needs an Idempotency-Key header "
                           "(1 to 200 printable ASCII characters without spaces, e.g. a UUID)",
                           "Idempotency-Key")  # fmt: skip
        digest = hashlib.sha256(request.body).hexdigest()
        kept = IdempotentAnswer.objects.filter(token=token, key=key).first()
        if kept is not None:
            if kept.request_hash != digest:
                return problem(409, "idempotency_key", f"the key {key!r} was used for another "
                               "request", "Idempotency-Key")  # fmt: skip
            response = JsonResponse(kept.body, status=kept.status, safe=False)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            with transaction.atomic():
                status, body = view(request, *args, **kwargs)
                body = jsonable(body)
                IdempotentAnswer.objects.create(token=token, key=key, request_hash=digest,
                                                status=status, body=body, created_at=clock.now())  # fmt: skip
        except IntegrityError:  # another call wrote the same key or record at the same moment
            return problem(409, "conflict", f"another request with the key {key!r}, or for the "
                           "same record, was being written at the same moment: send it again")  # fmt: skip
        return JsonResponse(body, status=status, safe=False)

    # the view's annotations resolved where it was written, for ninja to read its body's schema
    wrapper.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]
    return wrapper
