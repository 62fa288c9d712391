"""Polling for a condition that another process or thread brings about."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], object], timeout: float = 5.0, interval: float = 0.01) -> bool:
    """True as soon as ``predicate()`` is; False if it is still false after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> None:
    """Wait for ``predicate()``, failing the test with ``what`` after ``timeout`` seconds."""
    assert wait_for(predicate, timeout, interval), f"timed out waiting for {what}"
