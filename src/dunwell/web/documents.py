"""PDF downloads: a document (`ledger.printing`) as an attachment the browser saves.

WeasyPrint fetches nothing over the network: its URL fetcher admits `data:` URLs only, so a
stray link in a template or in imported text cannot make a request from the server.
"""

from __future__ import annotations

from django.http import HttpResponse

from dunwell.core.pdf import ALLOWED_PROTOCOLS, url_fetcher, write_pdf

__all__ = ["ALLOWED_PROTOCOLS", "pdf_response", "url_fetcher", "write_pdf"]


def pdf_response(html: str, filename: str) -> HttpResponse:
    response = HttpResponse(write_pdf(html), content_type="application/pdf")
    # Callers build `filename` from `filename_part`: nothing in it needs quoting.
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
