"""Rows that are written once and never changed (invariant 5): the account history
(`ledger.Activity`) and the security log (`core.AuditEvent`).

A model keeps the rule in code by using `AppendOnlyQuerySet` as its manager and mixing in
`AppendOnlyModel`: `save()` of a stored row, `delete()` and the manager's `update()`, `delete()`,
`bulk_update()` and `update_or_create()` raise the model's `AppendOnlyError` before any SQL is
sent; inserts work. Its migration adds the database triggers for what goes around the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from django.db import models

from dunwell.core.errors import DunwellError, ErrorCode

M = TypeVar("M", bound=models.Model)


class AppendOnlyError(DunwellError):
    """An attempt to change or delete an append-only row through the ORM."""

    rule: ClassVar[str] = "these rows are append-only"

    def __init__(self, what: str) -> None:
        super().__init__(ErrorCode.APPEND_ONLY, f"{self.rule} ({what} refused)")


def _refuse(queryset: models.QuerySet[Any], what: str) -> AppendOnlyError:
    error: type[AppendOnlyError] = getattr(queryset.model, "append_only_error", AppendOnlyError)
    return error(what)


class AppendOnlyQuerySet(models.QuerySet[M]):
    """Reads and inserts; every bulk change is refused before it reaches the database."""

    def update(self, **kwargs: Any) -> int:
        raise _refuse(self, "QuerySet.update")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise _refuse(self, "QuerySet.delete")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise _refuse(self, "bulk_update")

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise _refuse(self, "update_or_create")


class AppendOnlyModel(models.Model):
    append_only_error: ClassVar[type[AppendOnlyError]] = AppendOnlyError

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise self.append_only_error("saving a stored entry")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise self.append_only_error("delete")


def trigger_statements(
    table: str, message: str, function: str
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The SQL, by database vendor, that makes `table` refuse UPDATE, DELETE (and TRUNCATE on
    PostgreSQL) unless a row exists in `dunwell_history_bypass` (the test database's), and the
    SQL that removes it again: (forward, reverse) for a migration's `RunPython(by_vendor(...))`.
    Migrations call this: its output must stay the same for the tables they made."""
    refuse = f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    bypass = "CREATE TABLE IF NOT EXISTS dunwell_history_bypass (reason TEXT NOT NULL)"
    unless = "WHEN NOT EXISTS (SELECT 1 FROM dunwell_history_bypass)"
    forward = {
        "sqlite": [
            bypass,
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}\n       {unless}\n"
            f"       {refuse}",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}\n       {unless}\n"
            f"       {refuse}",
        ],
        "postgresql": [
            bypass,
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM dunwell_history_bypass) THEN
           IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
           RETURN NEW;
         END IF;
         RAISE EXCEPTION '{message}';
       END $$ LANGUAGE plpgsql""",  # noqa: S608 - names from the migrations, no input
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}\n"
            f"       FOR EACH ROW EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}\n"
            f"       FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ],
    }
    reverse = {
        "sqlite": [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
        ],
        "postgresql": [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"DROP FUNCTION IF EXISTS {function}()",
        ],
    }
    return forward, reverse


def by_vendor(statements: dict[str, list[str]]) -> Callable[[Any, Any], None]:
    """A `RunPython` function running the statements of the migrating database's vendor."""

    def run(apps: Any, schema_editor: Any) -> None:
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run
