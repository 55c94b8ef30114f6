"""Fault injection for the crash tests of runs that must happen exactly once (DESIGN invariant 4).

`point("dunning.after_batch")` does nothing unless the environment variable DUNWELL_FAULT names
that point: then the process kills itself with SIGKILL on the spot (no cleanup, no commit), as a
power cut would. DUNWELL_FAULT="name:N" kills at the N-th time the point is passed.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_passed: Counter[str] = Counter()


def point(name: str) -> None:
    wanted = os.environ.get("DUNWELL_FAULT")
    if not wanted:
        return
    target, _, count = wanted.partition(":")
    if target != name:
        return
    _passed[name] += 1
    if _passed[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
