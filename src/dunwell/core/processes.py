"""Forked worker processes for CPU-bound work (reading a large file, laying out PDFs).

Workers are forked: only where fork exists, with more than one CPU to run them, and from a process
with no other thread (the CLI, the worker; a web server's threads could hold a lock at the fork
that the copy would then wait for forever). A worker never uses the database: `detach_database`
runs first in each one.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from typing import Any, NoReturn

from django.db import connections


def usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def fork_workers(wanted: int = 4) -> int:
    """How many forked workers may run here (0: do the work in this process)."""
    if threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    cpus = usable_cpus()
    return min(cpus, wanted) if cpus > 1 else 0


def detach_database() -> None:
    """In a forked worker: the parent's connection must never be used (nor closed: closing a
    PostgreSQL connection sends the server a goodbye that would end the parent's session). Keep
    the handle, drop it from Django, and refuse every query."""
    for connection in connections.all(initialized_only=True):
        _kept.append(connection.connection)
        connection.connection = None
        connection.execute_wrappers.append(_refuse)


def reconnect_database() -> None:
    """In a forked worker that works with the database: connections of its own, opened on first
    use. The parent's are dropped, never closed (see above; closing SQLite's last connection in
    a process may also checkpoint and remove the write-ahead log under the parent)."""
    for connection in connections.all(initialized_only=True):
        _kept.append(connection.connection)
        connection.connection = None


_kept: list[Any] = []


def _refuse(*args: Any) -> NoReturn:
    raise RuntimeError("a worker process may not use the database")
