"""Template context shared by every staff page: the user's companies and the current one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from dunwell.web.access import companies_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    # Querysets are lazy: pages that do not show the switcher run no query for it.
    return {
        "current_company": getattr(request, "company", None),
        "current_role": getattr(request, "role", None),
        "user_companies": companies_for(request.user) if hasattr(request, "user") else [],
    }
