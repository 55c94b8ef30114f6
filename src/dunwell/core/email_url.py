"""`EMAIL_URL` as Django's email settings (pure: raises ValueError naming what was expected).

- ``smtp://user:password@host:port`` plain SMTP (port 25 by default), STARTTLS with ``?tls=1``;
- ``submission://user:password@host`` port 587 with STARTTLS; ``smtps://...`` port 465, TLS;
- ``console://`` print messages (the development default); ``locmem://`` keep them in memory
  (tests); ``file:///path/to/folder`` one file per message.

User and password are percent-decoded ("p%40ss" is "p@ss"); ``?timeout=20`` sets the socket
timeout in seconds (default 30).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "submission": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
}
_PORTS = {"smtp": 25, "submission": 587, "smtps": 465}
EXPECTED = "smtp://user:password@host:port, submission://…, smtps://…, console://, locmem:// or file:///folder"


def email_settings(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    backend = _BACKENDS.get(parts.scheme)
    if backend is None:
        raise ValueError(f"EMAIL_URL={url!r}: expected {EXPECTED}")
    found: dict[str, Any] = {"EMAIL_BACKEND": backend}
    if parts.scheme == "file":
        if not parts.path:
            raise ValueError(f"EMAIL_URL={url!r}: expected file:///path/to/folder")
        found["EMAIL_FILE_PATH"] = parts.path
    if parts.scheme not in _PORTS:
        return found
    if not parts.hostname:
        raise ValueError(f"EMAIL_URL={url!r}: expected a host, as in {EXPECTED}")
    query = parse_qs(parts.query)
    try:
        port = parts.port or _PORTS[parts.scheme]
        timeout = int(query.get("timeout", ["30"])[0])
    except ValueError:
        raise ValueError(f"EMAIL_URL={url!r}: the port and timeout must be numbers") from None
    found |= {
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "submission"
        or query.get("tls", ["0"])[0] in ("1", "true"),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_TIMEOUT": timeout,
    }
    return found
