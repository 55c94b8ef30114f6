"""Test set-up shared by the whole suite.

- The append-only history trigger refuses deletes; the test database (and only it) gets a row in
  `dunwell_history_bypass` so that flushing between tests works (see ledger migration 0002).
- Pure rule tests (under a `rules/` folder, `tests/core/` and `tests/formats/`) are marked `pure`:
  CI runs them once, not again on PostgreSQL. A test there that asks for the database (core's
  commands) is not pure and runs on both.
- Passwords use the fast MD5 hasher; hypothesis is derandomized with no deadline in CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

PURE_FOLDERS = ("rules", "formats", "core")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings as django_settings

    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests_root = Path(__file__).parent
    for item in items:
        parts = Path(str(item.path)).relative_to(tests_root).parts[:-1]
        uses_database = item.get_closest_marker("django_db") is not None
        if any(part in PURE_FOLDERS for part in parts) and not uses_database:
            item.add_marker(pytest.mark.pure)
        if parts and parts[0] == "browser":
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def django_db_setup(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[None]:
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute("INSERT INTO dunwell_history_bypass (reason) VALUES ('test database')")
    yield


@pytest.fixture
def smtp(settings: Any) -> Iterator[Any]:
    """A real SMTP server on loopback; Django sends to it; yields what it received."""
    from aiosmtpd.controller import Controller

    from tests.smtp import Collector, free_port

    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "receivables@acme.example"
    yield collector
    controller.stop()


@pytest.fixture
def as_in_production() -> Iterator[None]:
    """Remove the test database's history bypass for the rest of this test's transaction: the
    append-only triggers refuse as they do in production."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dunwell_history_bypass")
    yield
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO dunwell_history_bypass (reason) VALUES ('test database')")


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared sample files are missing: expected them at {SHARED_DATA}")
    return SHARED_DATA
