"""The topics of `dunwell case`. A topic whose actions must span several parts in one
transaction lives in a higher layer (`dunwell.workflows`) and registers itself here when Django
starts (`register`), so that this package never imports upward."""

from __future__ import annotations

from types import ModuleType

REGISTERED: list[ModuleType] = []


def register(topic: ModuleType) -> None:
    if topic not in REGISTERED:
        REGISTERED.append(topic)
