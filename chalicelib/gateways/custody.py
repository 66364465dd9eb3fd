"""The custody (hosting) platform: what the broker asks of it, and how its callbacks are checked.

`Custody` is the one interface the services use:

* `deposit_address(AddressRequest) -> IssuedAddress`: the address (and tag) of a user for
  a token on a chain. Custody answers the same address for the same request.
* `broadcast(BroadcastRequest) -> BroadcastReceipt`: hand a withdrawal over. The request
  id is our withdrawal id and custody treats it as its idempotency key: a repeated request
  with the same id returns the first receipt and never sends twice.

Failures: `errors.CustodyUnavailable` (retryable; timeouts, connection errors, 5xx, 408, 429: the request
may or may not have arrived; ask again with the same id) and `CustodyRefused` (a 4xx
answer: custody will not carry it out, so the withdrawal may be refunded).

Implementations:

* `HttpCustody` (production): `POST {base}/v1/deposit-addresses` and
  `POST {base}/v1/withdrawals`, JSON bodies, each request signed with the headers
  `X-Custody-Key`, `X-Custody-Timestamp` (ms), `X-Custody-Nonce` and
  `X-Custody-Signature` = hex HMAC-SHA256(secret, "timestamp\\nnonce\\nMETHOD\\npath\\n" + body)
  (`domain.custody.signature`); a timeout per attempt and a few attempts with backoff.
* `Simulator` (local stack and tests): deterministic addresses, broadcasts kept by request
  id (`broadcast_count` counts distinct ones), injectable timeouts and refusals, and
  signed deposit and withdrawal reports produced on command.

Callbacks from custody carry the same three headers over the same message, with the path
of the callback route; `verify_callback` checks the signature and a ±5 minute timestamp
window, and the nonce is then claimed once (`store.custody.claimed_nonce`). Custody signs
every delivery afresh (new timestamp and nonce); an exact copy of a delivery is a replay.

Configuration (environment): `CUSTODY_BASE_URL`, `CUSTODY_API_KEY`, `CUSTODY_API_SECRET`,
`CUSTODY_CALLBACK_SECRET` (default: the API secret), `CUSTODY_TIMEOUT_SECONDS` (5),
`CUSTODY_ATTEMPTS` (3). Without a base URL the local and test stages use the simulator
(secret `local-custody-secret` unless set); other stages refuse to start custody calls.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Mapping, Optional, Protocol
from urllib.parse import urlsplit

from chalicelib import settings
from chalicelib.domain import custody as rules
from chalicelib.domain import money
from chalicelib.domain.errors import CallbackRejected, CustodyUnavailable

LOCAL_SECRET = "local-custody-secret"
DEPOSIT_CALLBACK_PATH = "/custody/callbacks/deposit"
WITHDRAWAL_CALLBACK_PATH = "/custody/callbacks/withdrawal"


class CustodyRefused(Exception):
    """Custody answered that it will not carry the request out."""


@dataclass(frozen=True)
class AddressRequest:
    org_id: str
    uid: str
    account_id: str
    token: str
    chain: str
    needs_tag: bool


@dataclass(frozen=True)
class IssuedAddress:
    address: str
    address_tag: Optional[str] = None


@dataclass(frozen=True)
class BroadcastRequest:
    request_id: str
    org_id: str
    uid: str
    token: str
    chain: str
    address: str
    address_tag: Optional[str]
    amount: Decimal

    def body(self) -> dict:
        return {"request_id": self.request_id, "org_id": self.org_id, "uid": self.uid, "token": self.token,
                "chain": self.chain, "address": self.address, "address_tag": self.address_tag,
                "amount": money.text(self.amount)}


@dataclass(frozen=True)
class BroadcastReceipt:
    request_id: str
    status: str = "accepted"


class Custody(Protocol):
    def deposit_address(self, request: AddressRequest) -> IssuedAddress: ...

    def broadcast(self, request: BroadcastRequest) -> BroadcastReceipt: ...


@dataclass(frozen=True)
class SignedCallback:
    """A callback as custody would send it: the route path, headers and raw body."""

    path: str
    headers: dict
    body: bytes


def signed_headers(secret: str, method: str, path: str, body: bytes, *, timestamp_ms: Optional[int] = None,
                   nonce: Optional[str] = None) -> dict:
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    nonce = nonce or secrets.token_hex(16)
    return {rules.TIMESTAMP_HEADER: timestamp, rules.NONCE_HEADER: nonce,
            rules.SIGNATURE_HEADER: rules.signature(secret, timestamp, nonce, method, path, body)}


# --- configuration --------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    base_url: Optional[str]
    api_key: str
    api_secret: str
    callback_secret: str
    timeout_seconds: int
    attempts: int


def config() -> Config:
    env = os.environ
    local = settings.is_local()
    api_secret = env.get("CUSTODY_API_SECRET") or (LOCAL_SECRET if local else "")
    return Config(
        base_url=(env.get("CUSTODY_BASE_URL") or "").rstrip("/") or None,
        api_key=env.get("CUSTODY_API_KEY") or ("local" if local else ""),
        api_secret=api_secret,
        callback_secret=env.get("CUSTODY_CALLBACK_SECRET") or api_secret,
        timeout_seconds=int(env.get("CUSTODY_TIMEOUT_SECONDS") or 5),
        attempts=max(1, int(env.get("CUSTODY_ATTEMPTS") or 3)),
    )


@dataclass(frozen=True)
class VerifiedCallback:
    payload: dict
    nonce: str


def verify_callback(method: str, path: str, headers: Mapping[str, str], body: bytes,
                    now_ms: Optional[int] = None) -> VerifiedCallback:
    """The JSON payload of a callback whose signature and timestamp are good."""
    secret = config().callback_secret
    if not secret:
        raise CallbackRejected("Custody callbacks are not configured")
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    signed = rules.SignedMessage(lowered.get(rules.TIMESTAMP_HEADER.lower(), ""),
                                 lowered.get(rules.NONCE_HEADER.lower(), ""),
                                 lowered.get(rules.SIGNATURE_HEADER.lower(), ""))
    rules.check_signed(secret, method, path, body or b"", signed,
                       now_ms if now_ms is not None else int(time.time() * 1000))
    try:
        payload = json.loads(body or b"")
    except ValueError:
        raise CallbackRejected("Callback body is not JSON") from None
    if not isinstance(payload, dict):
        raise CallbackRejected("Callback body must be a JSON object")
    return VerifiedCallback(payload, signed.nonce)


# --- production: HTTP ----------------------------------------------------------------------------

Transport = Callable[[urllib.request.Request, int], tuple[int, bytes]]


def _urllib_transport(request: urllib.request.Request, timeout: int) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured https URL)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read() or b""


class HttpCustody:
    RETRY_STATUSES = frozenset({408, 429})

    def __init__(self, base_url: str, api_key: str, secret: str, *, timeout_seconds: int = 5,
                 attempts: int = 3, transport: Transport = _urllib_transport,
                 sleep: Callable[[float], None] = time.sleep):
        if not (base_url and api_key and secret):
            raise RuntimeError("custody base URL, key and secret must all be configured")
        self.base_url, self.api_key, self.secret = base_url.rstrip("/"), api_key, secret
        self.timeout, self.attempts, self.transport, self.sleep = timeout_seconds, attempts, transport, sleep

    def deposit_address(self, request: AddressRequest) -> IssuedAddress:
        answer = self._post("/v1/deposit-addresses", {
            "org_id": request.org_id, "uid": request.uid, "account_id": request.account_id,
            "token": request.token, "chain": request.chain})
        address = answer.get("address")
        if not isinstance(address, str) or not address:
            raise CustodyUnavailable("custody answered without an address")
        return IssuedAddress(address, answer.get("address_tag") or None)

    def broadcast(self, request: BroadcastRequest) -> BroadcastReceipt:
        answer = self._post("/v1/withdrawals", request.body(), duplicate_ok=True)
        return BroadcastReceipt(str(answer.get("request_id") or request.request_id),
                                str(answer.get("status") or "accepted"))

    def _post(self, path: str, payload: dict, *, duplicate_ok: bool = False) -> dict:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        full_path = urlsplit(self.base_url).path + path
        last: Optional[BaseException] = None
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(min(0.25 * 2 ** (attempt - 1), 2.0))
            headers = {"Content-Type": "application/json", rules.KEY_HEADER: self.api_key,
                       **signed_headers(self.secret, "POST", full_path, body)}
            request = urllib.request.Request(self.base_url + path, data=body, headers=headers, method="POST")
            try:
                status, raw = self.transport(request, self.timeout)
            except (OSError, http.client.HTTPException) as error:  # URLError, timeouts, resets, short reads
                last = error
                continue
            if 200 <= status < 300 or (duplicate_ok and status == 409):
                return _json_object(raw)
            if status >= 500 or status in self.RETRY_STATUSES:
                last = CustodyUnavailable(f"custody answered {status}")
                continue
            raise CustodyRefused(_reason(raw) or f"custody answered {status}")
        raise CustodyUnavailable(f"custody did not answer after {self.attempts} attempts: {last}")


def _json_object(raw: bytes) -> dict:
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _reason(raw: bytes) -> str:
    parsed = _json_object(raw)
    return str(parsed.get("msg") or parsed.get("message") or "")[:500]


# --- local: the simulator --------------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("|".join(parts).encode()).digest()


def _spell(alphabet: str, seed: bytes, length: int) -> str:
    out, counter = [], 0
    while len(out) < length:
        block = hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        out.extend(alphabet[b % len(alphabet)] for b in block)
        counter += 1
    return "".join(out[:length])


def simulated_address(org_id: str, uid: str, token: str, chain: str, needs_tag: bool = False) -> IssuedAddress:
    """Deterministic and valid-looking per chain. Untagged chains give a user one address
    per chain (shared by the chain's tokens); tagged chains share one hub address per org
    and tell users and tokens apart by tag."""
    family = rules.CHAIN_FAMILIES.get(chain)
    if needs_tag or (family is not None and family.tag is not None):
        hub = _digest("hub", org_id, chain)
        address = {"XRP": "r" + _spell(_B58, hub, 33), "EOS": "hub" + _spell("abcdefghijklmnopqrstuvwxyz12345", hub, 9),
                   "XLM": "G" + _spell("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", hub, 55),
                   "ATOM": "cosmos1" + _spell(_BECH32.replace("b", ""), hub, 38)}.get(chain, "hub" + hub.hex()[:20])
        tag = int.from_bytes(_digest(org_id, uid, token, chain)[:8], "big") % 4_000_000_000 + 1
        return IssuedAddress(address, str(tag))
    seed = _digest(org_id, uid, chain)
    if family is rules.CHAIN_FAMILIES["BTC"]:
        return IssuedAddress("bc1q" + _spell(_BECH32, seed, 38))
    if family is rules.CHAIN_FAMILIES["TRC20"]:
        return IssuedAddress("T" + _spell(_B58, seed, 33))
    if family is not None and family.address.pattern.startswith("^0x"):
        return IssuedAddress("0x" + seed.hex()[:40])
    return IssuedAddress("sim" + seed.hex()[:37])


@dataclass
class Simulator:
    """An in-memory custody platform: addresses, broadcasts by request id, reports on command."""

    secret: str = LOCAL_SECRET
    broadcasts: dict[str, BroadcastRequest] = field(default_factory=dict)
    broadcast_calls: int = 0
    _faults: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # the Custody interface
    def deposit_address(self, request: AddressRequest) -> IssuedAddress:
        return simulated_address(request.org_id, request.uid, request.token, request.chain, request.needs_tag)

    def broadcast(self, request: BroadcastRequest) -> BroadcastReceipt:
        with self._lock:
            self.broadcast_calls += 1
            fault = self._faults.pop(0) if self._faults else None
            if fault == "lost_request":
                raise CustodyUnavailable("simulated timeout before custody received the request")
            if fault == "refuse" and request.request_id not in self.broadcasts:
                raise CustodyRefused("simulated refusal")
            self.broadcasts.setdefault(request.request_id, request)
            if fault == "lost_answer":
                raise CustodyUnavailable("simulated timeout after custody accepted the request")
            return BroadcastReceipt(request.request_id)

    # controls for tests and the local stack
    @property
    def broadcast_count(self) -> int:
        return len(self.broadcasts)

    def fail_next_broadcast(self, how: str = "lost_answer", times: int = 1) -> None:
        """`lost_answer` (accepted, answer lost), `lost_request` (never arrived) or `refuse`."""
        if how not in ("lost_answer", "lost_request", "refuse"):
            raise ValueError(how)
        with self._lock:
            self._faults.extend([how] * times)

    def deposit_report(self, *, chain: str, token: str, address: str, amount: Any, confirmations: int,
                       address_tag: Optional[str] = None, tx_hash: Optional[str] = None, output_index: int = 0,
                       from_address: Optional[str] = None, timestamp_ms: Optional[int] = None) -> SignedCallback:
        tx_hash = tx_hash or "0x" + _digest(chain, address, str(amount), str(time.time_ns())).hex()
        return self._signed(DEPOSIT_CALLBACK_PATH, {
            "chain": chain, "tx_hash": tx_hash, "output_index": output_index, "token": token, "address": address,
            "address_tag": address_tag, "amount": str(amount), "confirmations": confirmations,
            "from_address": from_address}, timestamp_ms)

    def withdrawal_report(self, request_id: Any, status: str, *, tx_id: Optional[str] = None,
                          confirmations: int = 0, reason: Optional[str] = None,
                          timestamp_ms: Optional[int] = None) -> SignedCallback:
        if status in ("broadcast", "confirmed") and tx_id is None:
            tx_id = "0x" + _digest("tx", str(request_id)).hex()
        return self._signed(WITHDRAWAL_CALLBACK_PATH, {
            "request_id": str(request_id), "status": status, "tx_id": tx_id, "confirmations": confirmations,
            "reason": reason}, timestamp_ms)

    def _signed(self, path: str, payload: dict, timestamp_ms: Optional[int]) -> SignedCallback:
        body = json.dumps({k: v for k, v in payload.items() if v is not None}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   **signed_headers(self.secret, "POST", path, body, timestamp_ms=timestamp_ms)}
        return SignedCallback(path, headers, body)


# --- wiring ------------------------------------------------------------------------------------------

_lock = threading.Lock()
_client: Optional[Custody] = None
_simulator: Optional[Simulator] = None


def simulator() -> Simulator:
    """The process's simulator (local stack, tests), signing with the callback secret."""
    global _simulator
    with _lock:
        if _simulator is None:
            _simulator = Simulator(secret=config().callback_secret or LOCAL_SECRET)
        return _simulator


def client() -> Custody:
    global _client
    if _client is not None:
        return _client
    cfg = config()
    if cfg.base_url:
        chosen: Custody = HttpCustody(cfg.base_url, cfg.api_key, cfg.api_secret, timeout_seconds=cfg.timeout_seconds,
                                      attempts=cfg.attempts)
    elif settings.is_local():
        chosen = simulator()
    else:
        raise RuntimeError("CUSTODY_BASE_URL is not configured")
    with _lock:
        _client = _client or chosen
        return _client


def use(custody: Optional[Custody]) -> None:
    """Tests swap the implementation here (None: choose from configuration again)."""
    global _client
    with _lock:
        _client = custody


def reset() -> None:
    global _client, _simulator
    with _lock:
        _client = None
        _simulator = None
