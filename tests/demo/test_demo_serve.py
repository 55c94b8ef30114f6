"""`dunwell demo serve` prints the address it will really listen on; `demo build` claims none."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from dunwell.demo.management.commands import demo
from dunwell.demo.management.commands.demo import serve_url


@pytest.mark.parametrize(
    ("addr", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("127.0.0.1:9123", "http://127.0.0.1:9123"),
        ("0.0.0.0:8080", "http://127.0.0.1:8080"),
        ("[::]:8080", "http://127.0.0.1:8080"),
        ("[::1]:8081", "http://[::1]:8081"),
        ("8001", "http://127.0.0.1:8001"),
        ("demo.example:80", "http://demo.example:80"),
    ],
)
def test_serve_url_is_where_runserver_listens(addr: str, url: str) -> None:
    assert serve_url(addr) == url


def test_serve_prints_the_login_with_its_own_address(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[Any, ...]] = []
    monkeypatch.setattr(demo, "call_command", lambda *args, **kw: started.append(args))
    out = StringIO()

    call_command("demo", "serve", "--addr", "127.0.0.1:9123", stdout=out)

    text = out.getvalue()
    assert "http://127.0.0.1:9123" in text
    assert "collector / dunwell-demo" in text
    assert "8000" not in text
    assert started == [("runserver", "127.0.0.1:9123")]


@pytest.mark.django_db
def test_build_tells_how_to_log_in_but_claims_no_address() -> None:
    out = StringIO()
    call_command("demo", "build", "--customers", "2", "--months", "1", stdout=out)
    text = out.getvalue()
    assert "collector / dunwell-demo" in text
    assert "dunwell demo serve" in text
    assert "http://" not in text
