"""Template context shared by every staff page: the user's companies and the current one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {"current_company": getattr(request, "company", None)}
