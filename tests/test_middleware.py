"""Static files: WhiteNoise serves the collected files once they exist, the apps' files before,
and says nothing about a STATIC_ROOT that `collectstatic` has not filled yet."""

from __future__ import annotations

import warnings
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings

from dunwell.middleware import StaticFilesMiddleware


def _nothing(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=404)


def test_an_uncollected_static_root_raises_no_warning_and_the_apps_files_are_served(
    tmp_path: Path,
) -> None:
    with override_settings(STATIC_ROOT=tmp_path / "staticfiles"), warnings.catch_warnings():
        warnings.simplefilter("error")  # WhiteNoise's "No directory at" would fail the test
        middleware = StaticFilesMiddleware(_nothing)
        response = Client().get("/static/web/app.css")

    assert "/static/web/app.css" in middleware.files
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")


def test_collected_files_are_served_from_static_root(tmp_path: Path) -> None:
    (tmp_path / "collected.txt").write_text("from collectstatic")
    with override_settings(STATIC_ROOT=tmp_path):
        middleware = StaticFilesMiddleware(_nothing)

    assert "/static/collected.txt" in middleware.files
