"""Org API request signatures: HMAC-SHA256 over the request's parameters sorted by name.

The message a client signs is every request parameter except `signature` (query string
and form fields together, each name once), written `name=value` with the *decoded*
value, sorted by name in ASCII order, joined with `&`:

    params  {"uid": "42", "timestamp": "1700000000000", "amount": "1.5"}
    message "amount=1.5&timestamp=1700000000000&uid=42"
    signature = lowercase hex HMAC-SHA256(key = secret, message), sent as `signature`

Sorting makes the message independent of the order (and of the encoding) in which the
parameters travelled, which API Gateway does not preserve (it hands the handler a
decoded map). `timestamp` (epoch milliseconds) is required and must lie within the
receive window: at most 1000 ms ahead of the server, at most `recvWindow` (default 5000,
capped at 60000) behind; a signed request therefore expires within a minute, and
every uplink is in any case idempotent by its operation id.

Pure functions: no I/O, no clock (callers pass `now_ms`).
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Mapping, Optional

from chalicelib.auth.bhex_signature import MAX_RECV_WINDOW_MS, TimingVerdict, check_timing

SIGNATURE = "signature"
TIMESTAMP = "timestamp"
RECV_WINDOW = "recvWindow"

__all__ = ["SIGNATURE", "TIMESTAMP", "RECV_WINDOW", "MAX_RECV_WINDOW_MS", "message", "sign", "verify",
           "check_timing", "TimingVerdict"]


def message(params: Mapping[str, str]) -> str:
    """The text a client signs: `k=v` pairs (without `signature`) sorted by name, joined by `&`."""
    return "&".join(f"{name}={params[name]}" for name in sorted(params) if name != SIGNATURE)


def sign(secret: str, params: Mapping[str, str]) -> str:
    return hmac.new(secret.encode("utf-8"), message(params).encode("utf-8"), hashlib.sha256).hexdigest()


def verify(secret: Optional[str], signature: Optional[str], params: Mapping[str, str]) -> bool:
    """Constant-time comparison; the hex digest is compared case-insensitively."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(secret, params), signature.strip().lower())
