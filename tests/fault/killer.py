"""Kills the in-process "Lambda" at a chosen point between writes, like SIGKILL would.

A kill raises `ProcessDeath`, a BaseException, so the `except Exception` handlers of the
workers (which turn errors into partial-batch failures) do not see it: the whole batch
stays on the queue, as when a Lambda container dies. From the kill until `restart()`
every AWS request and every armed `faults.reach` point raises again, so clean-up code
(`finally`, `except BaseException`) cannot write anything either: a dead process writes
nothing. `restart()` is the next container: in-memory caches are gone.

Kill points:
- `before_write` / `after_write`: the k-th DynamoDB write request (Put, Update, Delete,
  TransactWriteItems, BatchWrite) or SQS send from now, before it is sent or after its
  answer arrived;
- a named `faults.reach` point (matcher.before_commit, transaction.after_commit, ...), at
  its k-th reach from now;
- `error`: an ordinary `faults.InjectedCrash` at a named point (a transient failure the
  worker reports as a failed record, rather than a death).
"""
from __future__ import annotations

import random
from collections import Counter
from typing import Optional

from chalicelib.services import catalog, matching
from chalicelib.store import faults
from tests.fault import aws_hooks

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem", "SendMessage",
          "SendMessageBatch"}
POINTS = ("matcher.before_commit", "matcher.after_commit", "transaction.before_commit",
          "transaction.after_commit", "events.after_append")


class ProcessDeath(BaseException):
    """The process died; nothing after this point runs."""


class Killer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.dead = False
        self.mode: Optional[str] = None
        self.point: Optional[str] = None
        self.countdown = 0
        self.kills: Counter = Counter()

    def install(self) -> None:
        aws_hooks.install("killer", before=self._before, after=self._after)
        for point in POINTS:
            faults.arm(point, lambda point=point: self._at_point(point))

    # --- arming ---------------------------------------------------------------------------

    def arm_random(self, allow_error: bool = True) -> None:
        """One kill somewhere in the next request's first few writes (it may finish first)."""
        mode = self.rng.choice(["before_write", "after_write", "point", "point"] + (["error"] if allow_error else []))
        self.mode = mode
        self.point = self.rng.choice(POINTS) if mode in ("point", "error") else None
        self.countdown = self.rng.randint(1, 10 if mode.endswith("write") else 4)

    def disarm(self) -> None:
        self.mode = None
        self.point = None

    def restart(self) -> None:
        """A fresh container: alive, unarmed, with nothing cached in memory."""
        self.dead = False
        self.disarm()
        matching.drop_cache()
        catalog.invalidate()

    # --- hooks ------------------------------------------------------------------------------

    def _die(self, where: str) -> None:
        self.kills[where] += 1
        self.dead = True
        self.disarm()
        raise ProcessDeath(where)

    def _tick(self, mode: str) -> bool:
        if self.mode != mode:
            return False
        self.countdown -= 1
        return self.countdown <= 0

    def _before(self, service: str, operation: str, params: dict) -> None:
        if self.dead:
            raise ProcessDeath("after death")
        if operation in WRITES and self._tick("before_write"):
            self._die(f"before {service}.{operation}")

    def _after(self, service: str, operation: str, params: dict, parsed: dict) -> None:
        if self.dead:
            raise ProcessDeath("after death")
        if operation in WRITES and self._tick("after_write"):
            self._die(f"after {service}.{operation}")

    def _at_point(self, point: str) -> bool:
        if self.dead:
            raise ProcessDeath("after death")
        if self.point == point and self.mode in ("point", "error"):
            self.countdown -= 1
            if self.countdown <= 0:
                if self.mode == "error":
                    self.kills[f"error at {point}"] += 1
                    self.disarm()
                    return True  # faults.reach raises InjectedCrash: an ordinary exception
                self._die(point)
        return False
