"""Writing many rows at once, below the ORM: the path of million-row imports.

`insert_rows` takes plain tuples in the order of the columns it is given (attribute names such as
``customer_id``), holding what the model fields hold in Python (int, str, bool, date, aware
datetime, Decimal, dict for JSON, None). Nothing here checks the values: the caller has built
them through the same code as the ORM path (see `ledger.services.documents`).

- PostgreSQL: ``COPY ... FROM STDIN``; psycopg adapts each value, JSON goes through the field.
- SQLite: ``executemany`` of one INSERT per batch; dates go through the sqlite3 adapter Django
  registers, datetimes become the text Django stores, exactly as the ORM writes them. (An
  earlier version sent each batch as one JSON array read by ``json_each``: SQLite then spent
  more time parsing the JSON than inserting the rows.)

`deferred_indexes` is the other half of a large load on SQLite: indexes built once at the end.
`analyze` refreshes PostgreSQL's planner statistics after a load replaced much of a table.
`update_instances` writes changed fields of many rows (one executemany), and `company_rows`
reads rows by primary key, the company checked on the rows.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from itertools import islice
from queue import Queue
from threading import Condition, Thread
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet

BATCH = 20_000


def column_names(model: type[models.Model]) -> tuple[str, ...]:
    """Every stored attribute of `model` but its automatic primary key, in field order."""
    return tuple(
        f.attname for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)
    )


def analyze(model: type[models.Model]) -> None:
    """PostgreSQL: ANALYZE the model's table (a fixed sample: tens of ms), so that queries right
    after a load that replaced much of it are planned on its new size rather than on its old
    statistics, before autovacuum's next pass. SQLite: nothing (its planner keeps to the indexes
    without statistics, and ANALYZE can make it leave them; `reports.aging`)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


M = TypeVar("M", bound=models.Model)


def company_rows(
    model: type[M], company_id: int, ids: Iterable[int], queryset: QuerySet[M] | None = None
) -> dict[int, M]:
    """The company's rows of `model` with these primary keys, by key. Looked up by key alone and
    the company checked on each row: given the company too, SQLite's planner (it keeps no
    statistics here, `analyze`) prefers the company's index and reads every row the company
    has (a million open items: 250 ms for a thousand keys, against 20 ms by key)."""
    rows = (model._default_manager.all() if queryset is None else queryset).in_bulk(list(ids))
    return {pk: row for pk, row in rows.items() if getattr(row, "company_id", None) == company_id}


def update_instances(instances: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Store `fields` (attribute names: ``customer_id`` or ``customer``) of saved instances of one
    model: one ``UPDATE ... WHERE id = %s`` run for all (``executemany``). Django's
    `bulk_update` builds one CASE per field over the batch, which SQLite evaluates row by row:
    a thousand lines took 0.8 s against 20 ms."""
    if not instances:
        return 0
    connection = connections[DEFAULT_DB_ALIAS]
    meta = type(instances[0])._meta
    chosen = [meta.get_field(name) for name in fields]
    concrete = [f for f in chosen if isinstance(f, models.Field) and f.concrete]
    if len(concrete) != len(chosen):
        raise ValueError(f"{meta.label}: not all of {list(fields)} are stored fields")
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in concrete)
    sql = (f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 - names from the model
           f"WHERE {quote(str(meta.pk.column))} = %s")  # fmt: skip
    rows = [
        [f.get_db_prep_save(getattr(i, f.attname), connection) for f in concrete] + [i.pk]
        for i in instances
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)


def insert_instances(instances: Sequence[models.Model], *, at: datetime | None = None) -> int:
    """Insert unsaved instances of one model (their primary keys stay unset). Fields the ORM
    stamps as it saves (`auto_now`, `auto_now_add`) get `at`, the caller's time, which a model
    with such fields must pass (the domain reads no clock)."""
    if not instances:
        return 0
    model = type(instances[0])
    stamped = [
        f.attname for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]  # fmt: skip
    if stamped and at is None:
        raise ValueError(f"{model.__name__} has {', '.join(stamped)}: pass at=")
    for instance in instances if stamped else ():
        for name in stamped:
            setattr(instance, name, at)
    columns = column_names(model)
    rows = ([getattr(i, name) for name in columns] for i in instances)
    return insert_rows(model, columns, rows)


def insert_keyed(instances: Sequence[M], mine: QuerySet[M]) -> None:
    """`insert_instances`, then each instance gets its primary key, as `bulk_create` gives them
    (its chunks of 999 parameters on SQLite cost a batch of allocations 0.1 s a thousand rows).

    `mine` must select, among rows with a key above every key before the insert, exactly the
    rows inserted: rows the caller's locks keep to its transaction (the allocations of payments
    it holds locked, say). Keys are handed out in insert order (SQLite's AUTOINCREMENT, a
    PostgreSQL sequence within one session), so the n keys found, in order, are the instances'.
    """
    if not instances:
        return
    model = type(instances[0])
    before = model._default_manager.aggregate(last=models.Max("pk"))["last"] or 0
    insert_instances(instances)
    keys = list(mine.filter(pk__gt=before).order_by("pk").values_list("pk", flat=True))
    if len(keys) != len(instances):
        raise RuntimeError(f"{model._meta.label}: {len(instances)} rows inserted, {len(keys)} "
                           "found by their scope: the scope does not select exactly them")  # fmt: skip
    for instance, key in zip(instances, keys, strict=True):
        instance.pk = key
        instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS


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
            # Foreign keys checked as each COPY ends, not all at the commit: the checks of a
            # batch then run on the server while the next rows are prepared, instead of
            # after the last one (a million rows: three million checks, 10 s at the commit).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    if json_at:
                        row = list(row)  # noqa: PLW2901 - the row as COPY takes it
                        for i in json_at:
                            row[i] = _json_value(fields[i], connection, row[i])
                    copy.write_row(row)
                    count += 1
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            return count
        sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608 - names from the model
        adapt = _sqlite_adapters(connection, fields)
        for batch in _batches(rows, BATCH):
            if adapt:
                batch = [_adapted(row, adapt) for row in batch]  # noqa: PLW2901
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _sqlite_adapters(
    connection: BaseDatabaseWrapper, fields: Sequence[models.Field[Any, Any]]
) -> list[tuple[int, Callable[[Any], Any]]]:
    """The columns whose values SQLite cannot take as they are, each with its adapter.

    Dates, numbers and text go as they are (Django registers the sqlite3 adapter for dates);
    an aware datetime becomes the naive UTC text Django stores (one timestamp is written a
    million times by an import: each distinct value is adapted once); JSON goes through its
    field, as the ORM writes it.
    """
    adapters: list[tuple[int, Callable[[Any], Any]]] = []
    for index, field in enumerate(fields):
        kind = field.get_internal_type()
        if kind == "DateTimeField":
            stamps: dict[Any, Any] = {}

            def stamp(value: Any, stamps: dict[Any, Any] = stamps) -> Any:
                if value not in stamps:
                    stamps[value] = connection.ops.adapt_datetimefield_value(value)
                return stamps[value]

            adapters.append((index, stamp))
        elif kind == "JSONField":
            adapters.append((index, partial(_json_value, field, connection)))
    return adapters


def _json_value(field: models.Field[Any, Any], connection: BaseDatabaseWrapper, value: Any) -> Any:
    if getattr(field, "encoder", None) is None and value is not None:
        # What the field stores, without its layers and spaces (a million calls: seconds).
        return "[]" if value == [] else json.dumps(value, separators=(",", ":"))
    return field.get_db_prep_save(value, connection)


def _adapted(row: Sequence[Any], adapters: list[tuple[int, Callable[[Any], Any]]]) -> list[Any]:
    values = list(row)
    for index, adapt in adapters:
        values[index] = adapt(values[index])
    return values


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
def deferred_indexes(model: type[models.Model], new_rows: int) -> Iterator[None]:
    """On SQLite, for a load at least as large as the table: its secondary indexes dropped
    inside the caller's transaction, and built again when the block ends.

    Keeping a wide index in order row by row costs more than building it once from sorted
    rows (a million invoices: 14 us a row with the indexes, 7 without, and 4 s to build them).
    Unique indexes stay (they check the rows as they come). SQLite's DDL is transactional:
    other connections go on reading the last committed state, indexes included, and a rollback
    restores them. Elsewhere (PostgreSQL, whose DROP INDEX would lock the table against
    readers until the commit) and for a small load into a large table, nothing changes.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "sqlite" or not connection.in_atomic_block:
        yield
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a model's table
        if cursor.fetchone()[0] > new_rows:
            yield
            return
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
            "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE %%'",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _, sql in indexes:
                cursor.execute(sql)


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
