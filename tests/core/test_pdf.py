"""PDFs: the same HTML gives the same bytes, whatever the second it is rendered in."""

from __future__ import annotations

import time

import pytest

from dunwell.core.pdf import pdf_pages, write_pdf

HTML = "<html><body><h1>Statement</h1><p>Bauer KG · 1.234,56 €</p><pre>mono</pre></body></html>"


def test_the_same_html_renders_to_the_same_bytes_an_hour_later(monkeypatch: pytest.MonkeyPatch):
    first = write_pdf(HTML)
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)  # fontTools stamps font subsets with it
    assert write_pdf(HTML) == first
    data, pages = pdf_pages(HTML)
    assert (data, pages) == (first, 1)
    assert first.startswith(b"%PDF-")
