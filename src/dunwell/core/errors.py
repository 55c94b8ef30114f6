"""Errors the user sees: a code tests can assert, a message a person can act on, and context."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    UNKNOWN_CURRENCY = "unknown_currency"
    CURRENCY_MISMATCH = "currency_mismatch"
    NO_FX_RATE = "no_fx_rate"
    OVER_ALLOCATION = "over_allocation"
    DUE_BEFORE_ISSUE = "due_before_issue"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    UNKNOWN_CUSTOMER = "unknown_customer"
    UNKNOWN_DOCUMENT = "unknown_document"
    ALREADY_VOID = "already_void"
    HAS_ALLOCATIONS = "has_allocations"
    PERMISSION_DENIED = "permission_denied"
    APPEND_ONLY = "append_only"


class DunwellError(Exception):
    """A refusal with a stable code; `context` names the file, line, field or record involved."""

    def __init__(self, code: ErrorCode, message: str, **context: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return self.message
