"""Cells of exported tables that a spreadsheet opens safely."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (= + - @, tab, CR first) gets a leading
    apostrophe (OWASP's CSV injection advice); numbers and other values stay as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
