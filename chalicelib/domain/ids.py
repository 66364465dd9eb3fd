"""Time-ordered 63-bit ids (snowflake layout): milliseconds, a node number, a sequence.

Ids increase within a process and are roughly time-ordered across processes, so
"newest first" listings and `fromId` paging work on them directly.
"""
from __future__ import annotations

import os
import random
import threading
import time

_EPOCH_MS = 1_600_000_000_000
_NODE_BITS = 10
_SEQUENCE_BITS = 12


class IdGenerator:
    def __init__(self, node: int | None = None) -> None:
        self._node = (node if node is not None else (os.getpid() ^ random.getrandbits(_NODE_BITS))) % (1 << _NODE_BITS)
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0

    def next(self) -> int:
        with self._lock:
            now = max(int(time.time() * 1000) - _EPOCH_MS, self._last_ms)
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) % (1 << _SEQUENCE_BITS)
                if self._sequence == 0:
                    now += 1
            else:
                self._sequence = 0
            self._last_ms = now
            return (now << (_NODE_BITS + _SEQUENCE_BITS)) | (self._node << _SEQUENCE_BITS) | self._sequence


_default = IdGenerator()


def new_id() -> int:
    return _default.next()


def id_time_ms(identifier: int) -> int:
    return (identifier >> (_NODE_BITS + _SEQUENCE_BITS)) + _EPOCH_MS


def first_id_at(time_ms: int) -> int:
    """The smallest id generated at or after `time_ms`."""
    return max(time_ms - _EPOCH_MS, 0) << (_NODE_BITS + _SEQUENCE_BITS)
