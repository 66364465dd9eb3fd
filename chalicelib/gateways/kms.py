"""Secrets at rest: encrypted with the platform KMS key, bound to an encryption context.

The context (e.g. {"purpose": "api-secret", "key": <api key>}) ties a ciphertext to the
record it belongs to: a ciphertext copied onto another record does not decrypt.
Decrypted values are kept in process memory for a short while, because every signed
request needs its key's secret and a KMS call per request would dominate latency.
"""
from __future__ import annotations

import base64
import threading
import time
from typing import Mapping

from chalicelib import settings
from chalicelib.gateways import aws

CACHE_SECONDS = 60.0

_cache: dict[tuple, tuple[float, str]] = {}
_lock = threading.Lock()


def _context(context: Mapping[str, str]) -> dict[str, str]:
    return {str(name): str(value) for name, value in context.items()}


def encrypt(plaintext: str, context: Mapping[str, str]) -> str:
    response = aws.client("kms").encrypt(
        KeyId=settings.wallet_kms_key(), Plaintext=plaintext.encode("utf-8"),
        EncryptionContext=_context(context),
    )
    return base64.b64encode(response["CiphertextBlob"]).decode("ascii")


def decrypt(ciphertext: str, context: Mapping[str, str]) -> str:
    context = _context(context)
    key = (ciphertext, tuple(sorted(context.items())))
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    response = aws.client("kms").decrypt(
        KeyId=settings.wallet_kms_key(), CiphertextBlob=base64.b64decode(ciphertext),
        EncryptionContext=context,
    )
    plaintext = response["Plaintext"].decode("utf-8")
    with _lock:
        for stale in [k for k, (at, _) in _cache.items() if now - at >= CACHE_SECONDS]:
            del _cache[stale]
        _cache[key] = (now, plaintext)
    return plaintext


def forget_cached() -> None:
    with _lock:
        _cache.clear()
