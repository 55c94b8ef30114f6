"""Databases that `dunwell` processes started by a test can open, and running those processes.

`own_database` makes a migrated database of its own for one test (a file on SQLite, a database on
the suite's PostgreSQL server), runs `setup` (Python source, after `django.setup()`) in a process
against it, yields its DATABASE_URL and drops it afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def own_database(tmp_path: Path, name: str, setup: str) -> Iterator[str]:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        url, drop = f"sqlite:///{tmp_path}/{name}.sqlite3", None
    else:
        database = f"{name}_{uuid.uuid4().hex[:10]}"
        server = (
            f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
            f"{settings['PORT'] or 5432}"
        )
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {database}")  # type: ignore[arg-type]
        url, drop = f"{server}/{database}", (server, database)
    dunwell("migrate", "-v0", url=url)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "dunwell.settings"}
    subprocess.run([sys.executable, "-c", setup], env=env, cwd=ROOT, check=True)  # noqa: S603
    yield url
    if drop is not None:
        with psycopg.connect(f"{drop[0]}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {drop[1]} WITH (FORCE)")  # type: ignore[arg-type]


def dunwell(
    *args: str, url: str, fault: str = "", check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "DUNWELL_FAULT": fault, **(env or {})}
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "dunwell.cli", *args], env=env, cwd=ROOT, capture_output=True,
        text=True, check=check,
    )  # fmt: skip
