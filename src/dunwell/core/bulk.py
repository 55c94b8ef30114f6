"""Writing many rows at once, below the ORM: the path of million-row imports.

`insert_rows` takes plain tuples in the order of the columns it is given (attribute names such as
``customer_id``), holding what the model fields hold in Python (int, str, bool, date, aware
datetime, Decimal, dict for JSON, None). Nothing here checks the values: the caller has built
them through the same code as the ORM path (see `ledger.services.documents`).

- PostgreSQL: ``COPY ... FROM STDIN``; psycopg adapts each value, JSON goes through the field.
- SQLite: each batch of rows becomes one JSON array, inserted by one statement,
  ``INSERT ... SELECT value->>0, ... FROM json_each(?)``. SQLite then does the whole batch
  without calling back into Python, so Python's GIL is free the whole time and another thread
  (the one preparing the next rows) runs meanwhile; `executemany` needs the GIL for every row.
  Dates become ISO text and datetimes the text Django stores, exactly as the ORM writes them.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from queue import Queue
from threading import Condition, Thread
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

BATCH = 20_000


def _json_default(connection: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """How json.dumps writes the values JSON has no type for, as Django would store them."""
    stamps: dict[datetime, Any] = {}  # an import writes one timestamp a million times

    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            if value not in stamps:
                stamps[value] = connection.ops.adapt_datetimefield_value(value)
            return stamps[value]
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(f"cannot write {type(value).__name__} {value!r} in bulk")

    return default


def column_names(model: type[models.Model]) -> tuple[str, ...]:
    """Every stored attribute of `model` but its automatic primary key, in field order."""
    return tuple(
        f.attname for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)
    )


def insert_instances(instances: Sequence[models.Model]) -> int:
    """Insert unsaved instances of one model (their primary keys stay unset)."""
    if not instances:
        return 0
    columns = column_names(type(instances[0]))
    rows = ([getattr(i, name) for name in columns] for i in instances)
    return insert_rows(type(instances[0]), columns, rows)


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert `rows` (tuples in `columns` order) into `model`'s table; returns how many."""
    return _insert_with(connections[DEFAULT_DB_ALIAS], model, columns, rows)


def _insert_with(
    connection: BaseDatabaseWrapper,
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    meta = model._meta
    fields: list[models.Field[Any, Any]] = []
    for name in columns:
        field = meta.get_field(name)  # an attribute name such as customer_id finds its field
        if not isinstance(field, models.Field) or field.attname != name:
            raise ValueError(f"{meta.label} has no column attribute {name!r}")
        fields.append(field)
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    quoted = ", ".join(quote(str(field.column)) for field in fields)
    count = 0
    # Errors of the driver (a unique key, a foreign key) become Django's, as through the ORM.
    with connection.wrap_database_errors, connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            json_at = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    if json_at:
                        row = list(row)  # noqa: PLW2901 - the row as COPY takes it
                        for i in json_at:
                            row[i] = fields[i].get_db_prep_save(row[i], connection)
                    copy.write_row(row)
                    count += 1
            return count
        # JSON text of a JSON column (->), the SQL value of any other (->>)
        picks = ", ".join(
            f"value->{i}" if f.get_internal_type() == "JSONField" else f"value->>{i}"
            for i, f in enumerate(fields)
        )
        sql = f"INSERT INTO {table} ({quoted}) SELECT {picks} FROM json_each(%s)"  # noqa: S608 - names from the model
        default = _json_default(connection)
        for batch in _batches(rows, BATCH):
            cursor.execute(sql, [json.dumps(batch, default=default, separators=(",", ":"))])
            count += len(batch)
    return count


def _batches(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


class BackgroundInserter:
    """`insert_rows` on a second thread, so the database writes while Python prepares more rows.

    The database does most of an insert's work with Python's GIL released (SQLite's B-tree
    updates, PostgreSQL's COPY on the server), so on two cores preparing and writing overlap.
    The writer uses the caller's connection (and so its transaction); the caller must call
    `drain()` before using the connection itself, and `close()` at the end, which re-raises an
    error of the writer. At most two batches wait, which bounds the memory held.
    """

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        self.model, self.columns = model, tuple(columns)
        self.connection = connections[DEFAULT_DB_ALIAS]
        self.connection.inc_thread_sharing()
        self.queue: Queue[Sequence[Sequence[Any]] | None] = Queue(maxsize=2)
        self.pending = 0
        self.done = Condition()
        self.error: BaseException | None = None
        self.count = 0
        self.thread = Thread(target=self._run, name="bulk-insert", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (rows := self.queue.get()) is not None:
            try:
                if self.error is None:
                    self.count += _insert_with(self.connection, self.model, self.columns, rows)
            except BaseException as exc:  # handed to the caller's thread by drain()/close()
                self.error = exc
            finally:
                with self.done:
                    self.pending -= 1
                    self.done.notify_all()

    def put(self, rows: Sequence[Sequence[Any]]) -> None:
        self._raise()
        with self.done:
            self.pending += 1
        self.queue.put(rows)

    def drain(self) -> None:
        with self.done:
            self.done.wait_for(lambda: self.pending == 0)
        self._raise()

    def close(self) -> int:
        """Wait for the last rows; re-raises an error of the writer."""
        self.abandon()
        self._raise()
        return self.count

    def abandon(self) -> None:
        """Stop the writer after what it holds (the caller is failing: its error wins)."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
            self.connection.dec_thread_sharing()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: a million-row import allocates millions of tuples
    that live until it ends, and each full collection would walk all of them again. Nothing of
    it is lost: what became garbage is collected when the block ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
