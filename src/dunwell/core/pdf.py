"""HTML to PDF with WeasyPrint, fetching nothing but `data:` URLs.

WeasyPrint's URL fetcher admits `data:` URLs only, so a stray link in a template or in imported
text cannot make a request from the server. WeasyPrint is loaded on the first PDF (a second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher

ALLOWED_PROTOCOLS = ("data",)


def url_fetcher() -> URLFetcher:
    from weasyprint.urls import URLFetcher  # noqa: PLC0415 - loading WeasyPrint takes a second

    return URLFetcher(allowed_protocols=ALLOWED_PROTOCOLS)


def write_pdf(html: str) -> bytes:
    from weasyprint import HTML  # noqa: PLC0415 - only when a PDF is asked for

    return bytes(HTML(string=html, url_fetcher=url_fetcher()).write_pdf())


def pdf_pages(html: str) -> tuple[bytes, int]:
    """The PDF and its number of pages."""
    from weasyprint import HTML  # noqa: PLC0415 - only when a PDF is asked for

    document = HTML(string=html, url_fetcher=url_fetcher()).render()
    return bytes(document.write_pdf()), len(document.pages)
