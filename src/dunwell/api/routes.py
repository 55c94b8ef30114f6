"""The REST API (django-ninja) under /api/: token-authenticated, one company per token.

- `Authorization: Bearer dw_…` (`dunwell api token-add`); "read" scope for GET, "write" for
  POST. Another company's records do not exist for a token (404).
- Read: customers and their contacts, invoices (with credit notes, fees, interest and refunds,
  `kind`), credit notes, payments, allocations (which payment or credit note settled which item,
  by how much, from when), the account history (activities), disputes, promises to pay, payment
  plans with their instalments, the aging, the sales orders reported, and each customer's
  credit standing (limit, exposure, hold, risk score), and the KPIs by month (`/api/kpis`).
- Write: invoices and credit notes from an ERP, payments received (applied to the invoices
  named, or oldest first), disputes and promises to pay, sales orders not yet invoiced (their
  open amount counts towards the exposure; the answer says whether the customer is now held).
- Amounts are integer minor units (`*_minor`: cents for EUR) with their `currency`; a document's
  amounts are signed from the creditor's view (a credit note is negative).
- Lists are paged by an opaque cursor: `?limit=50&cursor=…`, the answer's `next` is the cursor
  of the following page (null at the end); the order is the records' creation. Filters: the
  customer's account number (`customer`), states and kinds by name, and dates named after the
  date they filter, both ends included: `issued_from`/`issued_to` (issued_on), `due_from`/
  `due_to`, `value_from`/`value_to` (a payment's value date), `effective_from`/`effective_to`,
  `on_from`/`on_to` (an activity's date), `opened_from`/`opened_to`, `promised_from`/
  `promised_to`, `agreed_from`/`agreed_to`. A parameter the route does not have, or one given
  twice, is refused (400), as is a body field the schema does not have (422).
- Records are addressed by their keys: a customer by account number, a document by number (it
  may hold "/": `/api/invoices/RE-2026/0815`), a payment by its external id, the rest by id.
- Every POST needs an `Idempotency-Key` header: the same key with the same body answers what
  the first call answered (header `Idempotent-Replayed: true`), with another body 409.
- Errors are problem+json (RFC 9457): `type`, `title`, `status`, `detail`, and `field` when
  one field was wrong: 400 for a query parameter, a header or a rule of the ledger (a due date
  before the issue date), 401 without a valid token, 403 without the scope, 404 for a record
  that does not exist (or is another company's), 409 for a duplicate (an invoice number, a
  payment id, a reused Idempotency-Key), 422 for a body that does not fit its schema.
- OpenAPI at /api/openapi.json, its documentation at /api/docs.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation
from ninja.security import HttpBearer

from dunwell.api import (
    cases_routes,
    credit_routes,
    kpi_routes,
    ledger_routes,
    money_routes,
    tokens,
)
from dunwell.api.common import ApiError, problem
from dunwell.api.models import ApiToken
from dunwell.core import clock
from dunwell.core.errors import DunwellError, ErrorCode

STATUS = {ErrorCode.NOT_FOUND: 404, ErrorCode.CONFLICT: 409, ErrorCode.DUPLICATE: 409}
# Where ninja says an input came from, and the names of our grouped parameters: not fields.
NOT_FIELDS = ("body", "query", "path", "header", "data", "filters")


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = tokens.check(token, at=clock.now())
        if found is not None:
            request.api_token = found  # type: ignore[attr-defined]
        return found


class DunwellApi(NinjaAPI):
    """NinjaAPI whose OpenAPI document says what the API answers: errors as
    application/problem+json, operations named by their function (stable across modules)."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, answer in operation["responses"].items():
                    if int(status) >= 400 and "application/json" in answer.get("content", {}):
                        answer["content"] = {
                            "application/problem+json": answer["content"]["application/json"]
                        }
        return schema

    def get_openapi_operation_id(self, operation: Operation) -> str:
        return operation.view_func.__name__


api = DunwellApi(title="Dunwell", version="1", description=__doc__, auth=TokenAuth(),
                 urls_namespace="api", docs_url="/docs", openapi_url="/openapi.json")  # fmt: skip


@api.exception_handler(DunwellError)
def _dunwell_error(request: HttpRequest, error: DunwellError) -> HttpResponse:
    status = STATUS.get(error.code, 400)
    field = error.context.get("field")
    return problem(status, str(error.code), error.message, str(field) if field else None)


@api.exception_handler(ApiError)
def _api_problem(request: HttpRequest, error: ApiError) -> HttpResponse:
    return problem(error.status, error.title, error.detail, error.field)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: Exception) -> HttpResponse:
    response = problem(401, "unauthenticated", "a valid, unexpired API token is needed: "
                       "Authorization: Bearer dw_…")  # fmt: skip
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, error: ValidationError) -> HttpResponse:
    """A body that does not fit its schema is 422; a query, path or header parameter, 400."""
    first = error.errors[0] if error.errors else {}
    loc = tuple(first.get("loc", ()))
    where = ".".join(str(p) for p in loc if p not in NOT_FIELDS)
    status = 422 if loc[:1] == ("body",) else 400
    return problem(status, "invalid", f"{where}: {first.get('msg', 'not valid')}", where or None)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return problem(error.status_code, "error", str(error))


api.add_router("", ledger_routes.router)
api.add_router("", money_routes.router)
api.add_router("", cases_routes.router)
api.add_router("", credit_routes.router)
api.add_router("", kpi_routes.router)

# Last: a path under /api/ that no route has is a problem+json 404 too, not the site's page.
unknown = Router(auth=None)


EVERY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@unknown.api_operation(EVERY_METHOD, "/{rest:rest}", include_in_schema=False)
def no_such_path(request: HttpRequest, rest: str) -> HttpResponse:
    return problem(404, "not_found", f"no such path: {request.path}")


@unknown.api_operation(EVERY_METHOD, "/", include_in_schema=False)
def no_path(request: HttpRequest) -> HttpResponse:
    return problem(404, "not_found", "no such path: /api/ (the routes: /api/docs)")


api.add_router("", unknown)
