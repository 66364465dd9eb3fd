"""BHEX OpenAPI request signatures: HMAC-SHA256 over the request's parameters.

The client signs `totalParams` = its query string (without `signature`) followed, with
no separator, by its form body (without `signature`), and sends the lowercase hex
digest as `signature`. What the server can rebuild of that message differs by transport:

- a form body arrives byte for byte (`raw_body`): it is used as sent, minus its
  `signature` segment; the decoded re-join BHEX's own server uses (`name=value` with
  decoded values) is accepted too;
- a query string does not: API Gateway and Chalice hand over decoded parameters, and
  only locally in the client's order. The query part is re-encoded with
  `urllib.parse.urlencode` (quote_plus, what both the bhex SDK and ccxt use) in a few
  candidate orders: as received, with `timestamp` moved first (ccxt), with `timestamp`
  moved last (bhex SDK), and sorted by name.

A signature is accepted when it matches any candidate; there are at most
4 x 2 = 8 candidates, each one HMAC. Comparison is constant-time and exact on the
lowercase hex, as BHEX's server does (see docs/OPENAPI.md for the decision).

Pure functions: no I/O, no clock (callers pass `now_ms`).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence
from urllib.parse import unquote_plus, urlencode

SIGNATURE = "signature"
TIMESTAMP = "timestamp"
DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000
MAX_FUTURE_MS = 1000

Pairs = Sequence[tuple[str, str]]


def sign(secret: str, message: str) -> str:
    """Lowercase hex HMAC-SHA256 of `message` keyed with `secret` (both UTF-8)."""
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def _without_signature(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in pairs if name != SIGNATURE]


def query_orderings(pairs: Pairs) -> list[list[tuple[str, str]]]:
    """The candidate orders of the received query parameters, without duplicates."""
    received = _without_signature(pairs)
    stamps = [pair for pair in received if pair[0] == TIMESTAMP]
    others = [pair for pair in received if pair[0] != TIMESTAMP]
    candidates = [received, stamps + others, others + stamps, sorted(received, key=lambda pair: pair[0])]
    unique: list[list[tuple[str, str]]] = []
    for candidate in candidates:
        if candidate not in unique:
            unique.append(candidate)
    return unique


def body_parts(raw_body: bytes) -> list[str]:
    """The form body as sent (minus `signature`), then BHEX's decoded re-join."""
    if not raw_body:
        return [""]
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        return []
    segments = [segment for segment in text.split("&") if segment]
    kept = [segment for segment in segments if unquote_plus(segment.split("=", 1)[0]) != SIGNATURE]
    raw = "&".join(kept)
    decoded = "&".join(
        f"{unquote_plus(name)}={unquote_plus(value)}"
        for name, _, value in (segment.partition("=") for segment in kept))
    return [raw] if decoded == raw else [raw, decoded]


def candidate_messages(query_pairs: Pairs, raw_body: bytes = b"") -> list[str]:
    """Every message the client may have signed, given what reached the server."""
    queries = [urlencode(ordering) for ordering in query_orderings(query_pairs)]
    bodies = body_parts(raw_body)
    messages: list[str] = []
    for query in queries:
        for body in bodies:
            message = query + body
            if message not in messages:
                messages.append(message)
    return messages


def verify(secret: str, signature: str, query_pairs: Pairs, raw_body: bytes = b"") -> bool:
    """True when `signature` is the HMAC of one of the candidate messages."""
    if not signature or not secret:
        return False
    matched = False
    for message in candidate_messages(query_pairs, raw_body):
        # no early exit: every candidate costs the same, whichever matches
        matched |= hmac.compare_digest(sign(secret, message), signature)
    return matched


@dataclass(frozen=True)
class TimingVerdict:
    ok: bool
    reason: Optional[str] = None


def check_timing(timestamp_ms: int, now_ms: int, recv_window_ms: Optional[int] = None) -> TimingVerdict:
    """BHEX's rule: at most 1000 ms ahead of the server, at most `recvWindow` behind.

    recvWindow defaults to 5000 ms and is capped at 60000 ms, so a replayed request is
    refused within a minute whatever the client asked for.
    """
    window = DEFAULT_RECV_WINDOW_MS if recv_window_ms is None else recv_window_ms
    window = max(0, min(window, MAX_RECV_WINDOW_MS))
    if timestamp_ms > now_ms + MAX_FUTURE_MS:
        return TimingVerdict(False, "Timestamp for this request was 1000ms ahead of the server's time.")
    if now_ms - timestamp_ms > window:
        return TimingVerdict(False, "Timestamp for this request is outside of the recvWindow.")
    return TimingVerdict(True)
