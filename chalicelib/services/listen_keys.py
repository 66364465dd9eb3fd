"""User data stream keys (BHEX `userDataStream`): create, keep alive, close, resolve.

A key lives 60 minutes from its creation or last keep-alive. Keep-alive and close of a
key the caller does not own (or that expired) change nothing and are not errors, as on
BHEX's server. A socket opened with a key streams its user's `user:<uid>` events.
"""
from __future__ import annotations

import secrets
import string
import time
from typing import Optional

from chalicelib.store import listen_keys as store
from chalicelib.store.listen_keys import ListenKey

LIFETIME_SECONDS = 60 * 60
KEY_LENGTH = 64
_LETTERS = string.ascii_letters


def _now() -> int:
    return int(time.time())


def create(*, org_id: str, uid: str, account_id: str, api_key: str) -> ListenKey:
    now = _now()
    key = ListenKey("".join(secrets.choice(_LETTERS) for _ in range(KEY_LENGTH)), org_id, uid, account_id,
                    api_key, now * 1000, now + LIFETIME_SECONDS)
    store.create(key)
    return key


def keep_alive(listen_key: str, uid: str) -> bool:
    now = _now()
    return bool(listen_key) and store.extend(listen_key, uid, now + LIFETIME_SECONDS, now)


def close(listen_key: str, uid: str) -> bool:
    return bool(listen_key) and store.delete(listen_key, uid)


def resolve(listen_key: str) -> Optional[ListenKey]:
    """The live key, or None (unknown, closed or expired)."""
    if not listen_key or len(listen_key) > 128:
        return None
    return store.get(listen_key, _now())
