"""HTML to PDF with WeasyPrint, fetching nothing but `data:` URLs.

WeasyPrint's URL fetcher admits `data:` URLs only, so a stray link in a template or in imported
text cannot make a request from the server. WeasyPrint is loaded on the first PDF (a second).

The same HTML gives the same bytes (a case file's SHA-256 says so): where HarfBuzz's subsetter
is missing (Debian 12 ships it as libharfbuzz-subset0, not installed by default) WeasyPrint
subsets fonts with fontTools, which stamps each subset's `head.modified` with the current
second unless SOURCE_DATE_EPOCH, the reproducible-builds convention fontTools reads, says
otherwise. We set it, unless the environment already does, to a fixed instant.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

ALLOWED_PROTOCOLS = ("data",)
FONT_TIMESTAMP = "1704067200"  # 2024-01-01T00:00:00Z: any fixed instant serves


def url_fetcher() -> URLFetcher:
    from weasyprint.urls import URLFetcher  # noqa: PLC0415 - loading WeasyPrint takes a second

    return URLFetcher(allowed_protocols=ALLOWED_PROTOCOLS)


def write_pdf(html: str) -> bytes:
    return bytes(_html(html).write_pdf())


def pdf_pages(html: str) -> tuple[bytes, int]:
    """The PDF and its number of pages."""
    document = _html(html).render()
    return bytes(document.write_pdf()), len(document.pages)


def _html(html: str) -> HTML:
    from weasyprint import HTML  # noqa: PLC0415 - only when a PDF is asked for

    os.environ.setdefault("SOURCE_DATE_EPOCH", FONT_TIMESTAMP)
    return HTML(string=html, url_fetcher=url_fetcher())
