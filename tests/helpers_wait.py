"""Waiting on real processes: poll a condition, with a bound for a loaded machine that is never waited out when all
works."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll predicate every 0.2 s until it holds; fail after timeout seconds, saying what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
