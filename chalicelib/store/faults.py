"""A seam for crash tests: tests arm a point, the code under test calls `reach` there.

In production nothing is armed and `reach` costs one dictionary look-up.
"""
from __future__ import annotations

import threading
from typing import Callable


class InjectedCrash(Exception):
    """Stands for the process dying at an armed point."""


_armed: dict[str, Callable[[], bool]] = {}
_lock = threading.Lock()


def arm(point: str, should_crash: Callable[[], bool]) -> None:
    with _lock:
        _armed[point] = should_crash


def disarm_all() -> None:
    with _lock:
        _armed.clear()


def reach(point: str) -> None:
    decide = _armed.get(point)
    if decide is not None and decide():
        raise InjectedCrash(point)
