"""Failpoints for the fault-injection tests: where a crash would hurt most, a test can crash.

`JIEBANG_FAULT=<name>` (or `<name>@<n>` for the n-th time) makes `point(name)` SIGKILL the
process, as a power cut or the OOM killer would: no cleanup, no flush. Unset (always, outside
tests), a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_reached: Counter[str] = Counter()


def point(name: str) -> None:
    """Die here if the environment asks for this failpoint (and this is the asked-for time)."""
    wanted = os.environ.get("JIEBANG_FAULT")
    if not wanted:
        return
    target, _, nth = wanted.partition("@")
    if target != name:
        return
    _reached[name] += 1
    if _reached[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
