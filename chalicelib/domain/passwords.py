"""Password hashing policy: scrypt (memory-hard, in the standard library), self-describing.

An encoded hash reads `scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`, so the cost can be
raised later without breaking stored hashes (`needs_rehash` tells when to upgrade one).
argon2 would be the first choice, but it is not a dependency of this project.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

from chalicelib.domain.errors import InvalidParameter, MissingParameter

SCHEME = "scrypt"
N, R, P = 2 ** 14, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32
MIN_LENGTH, MAX_LENGTH = 8, 128
# scrypt needs 128 * n * r bytes; allow the stored cost up to 4x today's before refusing.
_MAX_MEMORY = 4 * 128 * N * R + 1024 * 1024


def check_policy(password: str | None, param: str = "password") -> str:
    """The password if it is acceptable; long inputs are capped so hashing stays bounded."""
    if password is None or password == "":
        raise MissingParameter(param)
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidParameter(param, f"Password must be {MIN_LENGTH} to {MAX_LENGTH} characters")
    return password


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=_MAX_MEMORY)


def hash_password(password: str) -> str:
    salt = os.urandom(SALT_BYTES)
    digest = _derive(password, salt, N, R, P, HASH_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify(password: str, encoded: str | None) -> bool:
    """True when `password` matches; a malformed or missing hash never matches."""
    if not encoded or not isinstance(password, str):
        return False
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(digest)
        actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(encoded: str) -> bool:
    return not encoded.startswith(f"{SCHEME}${N}${R}${P}$")


# Verified against when a login names no known account, so that an unknown name takes
# as long as a wrong password (no account enumeration by timing).
# Built on first use, not at import, to keep cold starts short.
@functools.lru_cache(maxsize=1)
def _decoy() -> str:
    return hash_password(base64.b64encode(os.urandom(12)).decode())


def burn_time(password: str | None) -> bool:
    """Costs what a real check costs and always fails."""
    verify(password if isinstance(password, str) else "", _decoy())
    return False
