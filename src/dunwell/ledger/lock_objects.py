"""Every row lock goes through here, always in primary-key order, so two transactions that lock
the same rows cannot deadlock. (A no-op on SQLite, which serialises writers anyway.)"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def lock(model: type[M], ids: Iterable[int]) -> dict[int, M]:
    wanted = sorted(set(ids))
    rows = model._default_manager.select_for_update().filter(pk__in=wanted).order_by("pk")
    return {row.pk: row for row in rows}
