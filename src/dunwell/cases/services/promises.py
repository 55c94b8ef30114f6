"""Promises (issue 4): being built; the entry points `tracking` calls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from django.contrib.auth.models import User

from dunwell.core.models import Company


def track_payments(
    *, company: Company, customer_ids: Sequence[int], on: date, at: datetime, actor: User | None
) -> None:
    """Allocations to these customers' items were written in this transaction."""


def decide_due(*, company: Company, on: date, at: datetime) -> None:
    """The business date `on` has come."""
