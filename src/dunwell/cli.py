"""The `dunwell` console script: Django's management commands under one name."""

from __future__ import annotations

import os
import sys

# Command names that are Python keywords live in modules with a trailing underscore.
_ALIASES = {"import": "import_"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dunwell.settings")
    from django.core.management import execute_from_command_line  # noqa: PLC0415 - after the env is set

    argv = list(sys.argv)
    argv[0] = "dunwell"
    if len(argv) > 1 and argv[1] in _ALIASES:
        argv[1] = _ALIASES[argv[1]]
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
