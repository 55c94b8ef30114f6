"""The REST API (django-ninja) under /api/: token-authenticated, one company per token.

- `Authorization: Bearer dw_…` (`dunwell api token-add`); "read" scope for GET, "write" for
  POST. Another company's records do not exist for a token (404).
- Lists are paged by an opaque cursor: `?limit=50&cursor=…`, the answer's `next` is the cursor
  of the following page (null at the end); the order is the records' creation.
- Every POST needs an `Idempotency-Key` header: the same key with the same body answers what
  the first call answered (header `Idempotent-Replayed: true`), with another body 409.
- Errors are problem+json (RFC 9457): `type`, `title`, `status`, `detail`, and `field` when
  one field was wrong.
- OpenAPI at /api/openapi.json, its documentation at /api/docs.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from dunwell.api import tokens
from dunwell.api.models import ApiToken, IdempotentAnswer
from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.ledger.models import Customer, ItemKind, OpenItem
from dunwell.reports.aging import aging
from dunwell.workflows.promises import open_promise

MAX_LIMIT = 500
STATUS = {ErrorCode.NOT_FOUND: 404, ErrorCode.CONFLICT: 409, ErrorCode.DUPLICATE: 409}


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = tokens.check(token, at=clock.now())
        if found is not None:
            request.api_token = found  # type: ignore[attr-defined]
        return found


api = NinjaAPI(title="Dunwell", version="1", description=__doc__, auth=TokenAuth(),
               urls_namespace="api", docs_url="/docs", openapi_url="/openapi.json")  # fmt: skip


def problem(status: int, title: str, detail: str, field: str | None = None) -> JsonResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status,
                            "detail": detail}  # fmt: skip
    if field:
        body["field"] = field
    return JsonResponse(body, status=status, content_type="application/problem+json")


@api.exception_handler(DunwellError)
def _dunwell_error(request: HttpRequest, error: DunwellError) -> HttpResponse:
    status = STATUS.get(error.code, 400)
    field = error.context.get("field")
    return problem(status, str(error.code), error.message, str(field) if field else None)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: Exception) -> HttpResponse:
    response = problem(401, "unauthenticated", "a valid, unexpired API token is needed: "
                       "Authorization: Bearer dw_…")  # fmt: skip
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, error: ValidationError) -> HttpResponse:
    first = error.errors[0] if error.errors else {}
    skip = ("body", "query", "path", "data", "filters")  # where ninja puts it, not a field
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in skip)
    return problem(422, "invalid", f"{where}: {first.get('msg', 'not valid')}", where or None)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return problem(error.status_code, "error", str(error))


def _token(request: HttpRequest) -> ApiToken:
    token: ApiToken = request.api_token  # type: ignore[attr-defined]
    return token


def _need(request: HttpRequest, scope: str) -> ApiToken:
    token = _token(request)
    if scope not in token.scopes:
        raise HttpError(403, f"this token has no {scope!r} scope")
    return token


# -- pages -------------------------------------------------------------------------------------


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


def _after(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, f"cursor {cursor!r} is not one this API gave") from None


def _page(
    rows: QuerySet[Any], cursor: str, limit: int, row: Callable[[Any], Any]
) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise HttpError(400, f"limit {limit}: expected 1 to {MAX_LIMIT}")
    found = list(rows.filter(pk__gt=_after(cursor)).order_by("pk")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return {"items": [row(r) for r in found],
            "next": _cursor(found[-1].pk) if more and found else None}  # fmt: skip


class CustomerOut(Schema):
    account_number: str
    name: str
    currency: str
    country: str
    language: str
    segment: str


class CustomerPage(Schema):
    items: list[CustomerOut]
    next: str | None


class ItemOut(Schema):
    number: str
    kind: str
    customer: str
    currency: str
    amount_minor: int
    open_minor: int
    issued_on: date
    due_on: date
    settled_on: date | None
    payment_reference: str


class ItemPage(Schema):
    items: list[ItemOut]
    next: str | None


def _customer(c: Customer) -> dict[str, Any]:
    return {"account_number": c.account_number, "name": c.legal_name, "currency": c.currency,
            "country": c.country, "language": c.language, "segment": c.segment}  # fmt: skip


def _item(i: OpenItem) -> dict[str, Any]:
    return {"number": i.number, "kind": i.kind, "customer": i.customer.account_number,
            "currency": i.currency, "amount_minor": i.amount_minor, "open_minor": i.open_minor,
            "issued_on": i.issued_on, "due_on": i.due_on, "settled_on": i.settled_on,
            "payment_reference": i.payment_reference}  # fmt: skip


@api.get("/customers", response=CustomerPage, tags=["customers"])
def customers(request: HttpRequest, q: str = "", cursor: str = "", limit: int = 50) -> Any:
    """The company's customers; `q`: a part of the name or the account number."""
    company = _need(request, "read").company
    rows = Customer.objects.filter(company=company)
    if q:
        rows = rows.filter(legal_name__icontains=q) | rows.filter(account_number__icontains=q)
    return _page(rows, cursor, limit, _customer)


@api.get("/customers/{account_number}", response=CustomerOut, tags=["customers"])
def customer(request: HttpRequest, account_number: str) -> Any:
    company = _need(request, "read").company
    found = Customer.objects.filter(company=company, account_number=account_number).first()
    if found is None:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no customer {account_number!r}")
    return _customer(found)


class ItemFilters(Schema):
    customer: str = ""
    currency: str = ""
    open: bool | None = None
    overdue: bool | None = None
    kind: str = ""


@api.get("/invoices", response=ItemPage, tags=["invoices"])
def invoices(request: HttpRequest, filters: Query[ItemFilters], cursor: str = "",
             limit: int = 50) -> Any:  # fmt: skip
    """Invoices and credit notes (`kind`), filtered; `overdue` as of the company's today."""
    company = _need(request, "read").company
    rows = OpenItem.objects.filter(company=company).select_related("customer")
    if filters.customer:
        rows = rows.filter(customer__account_number=filters.customer)
    if filters.currency:
        rows = rows.filter(currency=filters.currency.upper())
    if filters.kind:
        if filters.kind not in ItemKind.values:
            raise DunwellError(ErrorCode.INVALID, f"kind {filters.kind!r}: expected one of "
                               f"{', '.join(ItemKind.values)}", field="kind")  # fmt: skip
        rows = rows.filter(kind=filters.kind)
    if filters.open is not None:
        rows = rows.exclude(open_minor=0) if filters.open else rows.filter(open_minor=0)
    if filters.overdue:
        rows = rows.exclude(open_minor=0).filter(due_on__lt=clock.today(company))
    return _page(rows, cursor, limit, _item)


@api.get("/invoices/{number}", response=ItemOut, tags=["invoices"])
def invoice(request: HttpRequest, number: str) -> Any:
    company = _need(request, "read").company
    found = (OpenItem.objects.filter(company=company, number=number)
             .select_related("customer").first())  # fmt: skip
    if found is None:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no invoice {number!r}")
    return _item(found)


class AgingTotal(Schema):
    currency: str
    buckets: dict[str, int]
    total_minor: int
    unapplied_minor: int


@api.get("/aging", response=list[AgingTotal], tags=["reports"])
def aging_totals(request: HttpRequest, as_of: date | None = None) -> Any:
    """The aging per currency as of a date (default: the company's today)."""
    company = _need(request, "read").company
    report = aging(company, as_of or clock.today(company), with_names=False)
    return [{"currency": c, "buckets": dict(zip(report.labels, t.buckets, strict=True)),
             "total_minor": t.total_minor, "unapplied_minor": t.unapplied_minor}
            for c, t in report.totals.items()]  # fmt: skip


# -- writes ------------------------------------------------------------------------------------


def idempotent(view: Callable[..., tuple[int, dict[str, Any]]]) -> Callable[..., HttpResponse]:
    """A POST handler run once per Idempotency-Key (see the module docstring)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = _need(request, "write")
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 200:
            return problem(400, "idempotency_key", "every POST needs an Idempotency-Key header "
                           "(up to 200 characters, e.g. a UUID)", "Idempotency-Key")  # fmt: skip
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
                IdempotentAnswer.objects.create(token=token, key=key, request_hash=digest,
                                                status=status, body=body, created_at=clock.now())  # fmt: skip
        except IntegrityError:  # the same key at the same moment: the other call answers
            return problem(409, "idempotency_key", f"the key {key!r} is being used right now")
        return JsonResponse(body, status=status, safe=False)

    return wrapper


class PromiseIn(Schema):
    customer: str
    invoices: list[str] = []
    amount_minor: int
    currency: str
    promised_on: date
    promised_by: str
    note: str = ""


class PromiseOut(Schema):
    id: int
    customer: str
    amount_minor: int
    currency: str
    promised_on: date
    state: str


@api.post("/promises", response={201: PromiseOut}, tags=["cases"])
@idempotent
def promise(request: HttpRequest, data: PromiseIn) -> tuple[int, dict[str, Any]]:
    """A promise to pay (channel "api"); reminders not yet sent for its invoices are withdrawn."""
    company = _token(request).company
    found = Customer.objects.filter(company=company, account_number=data.customer).first()
    if found is None:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no customer {data.customer!r}", field="customer")
    items = list(OpenItem.objects.filter(company=company, customer=found, number__in=data.invoices))
    missing = sorted(set(data.invoices) - {i.number for i in items})
    if missing:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no invoice {', '.join(missing)} of "
                           f"{data.customer}", field="invoices")  # fmt: skip
    made = open_promise(company=company, customer=found, amount_minor=data.amount_minor,
                        currency=data.currency.upper(), promised_on=data.promised_on,
                        promised_by=data.promised_by, channel="api", items=items,
                        note=data.note, actor=None, on=clock.today(company), at=clock.now())  # fmt: skip
    return 201, json.loads(json.dumps({
        "id": made.pk, "customer": found.account_number, "amount_minor": made.amount_minor,
        "currency": made.currency, "promised_on": made.promised_on, "state": made.state,
    }, default=str))  # fmt: skip
