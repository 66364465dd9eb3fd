"""Who is calling: the broker of a public request, the key and user of a signed one.

Signed requests go through BHEX's checks in BHEX's order, each with its code:
key present (-1002); parameters, `signature`, `timestamp` present (-1103, -1004);
timestamp within the receive window (-1021); key known and signature valid (-1022);
key enabled, user not disabled, caller's IP in the key's whitelist (-2015); IP whitelist
bound where the endpoint needs one (-1023); a trade key for writes (-1020); then the
key's rate limits (-1003, -1015, HTTP 429 with Retry-After).

The org always comes from the key. When the request's Host names a registered broker,
the key must belong to that broker; a key of another broker is unknown here (-1022).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from chalicelib.api.openapi.http import Params, parse_params, validated
from chalicelib.api.openapi.wire import BhexError, invalid, missing
from chalicelib.api.routing import source_ip
from chalicelib.auth import bhex_signature, rate_limits
from chalicelib.domain.errors import (
    AccountDisabled, InvalidSignature, InvalidTimestamp, IpNotAllowed, IpWhitelistRequired, ReadOnlyKey,
    Unauthenticated, UnknownApiKey,
)
from chalicelib.services import api_keys, catalog
from chalicelib.services.api_keys import ApiKeyView
from chalicelib.services.orders import Trader

API_KEY_HEADER = "x-bh-apikey"
MIN_KEY_LENGTH = 64


@dataclass(frozen=True)
class Endpoint:
    """How an endpoint is guarded: its weight, whether it places orders or writes."""

    weight: int = 1
    orders: int = 0
    write: bool = False
    needs_ip_whitelist: bool = False


@dataclass(frozen=True)
class Caller:
    key: ApiKeyView
    params: Params

    @property
    def org_id(self) -> str:
        return self.key.org_id

    @property
    def uid(self) -> str:
        return self.key.uid

    @property
    def account_id(self) -> str:
        return self.key.account_id

    @property
    def trader(self) -> Trader:
        return Trader(self.key.org_id, self.key.uid, self.key.account_id, may_trade=not self.key.trade_frozen)


def _host_org(request) -> Optional[str]:
    host = (request.headers.get("host") or "").strip()
    return catalog.org_for_host(host) if host else None


def public_org(request) -> str:
    """The broker a public request is for: its Host, else the (unsigned) key's broker."""
    org_id = _host_org(request)
    if org_id:
        return org_id
    api_key = request.headers.get(API_KEY_HEADER) or ""
    if api_key:
        key = api_keys.authenticate_user_key(api_key)
        if key is not None:
            return key.org_id
    raise BhexError(-1001, "Unknown broker host.")


def _timestamp(params: Params) -> tuple[int, Optional[int]]:
    try:
        timestamp = int(params.require("timestamp"))
    except ValueError:
        raise invalid("timestamp") from None
    window = params.get("recvWindow")
    try:
        return timestamp, int(window) if window is not None else None
    except ValueError:
        raise invalid("recvWindow") from None


def signed(request, guard: Endpoint, *, now_ms: Optional[int] = None) -> Caller:
    params = parse_params(request)
    api_key = request.headers.get(API_KEY_HEADER) or params.get("accessKey") or ""
    if len(api_key) < MIN_KEY_LENGTH:
        raise Unauthenticated()
    if not params.values:
        raise BhexError(-1103, "An unknown parameter was sent.")
    signature = params.get("signature")
    if signature is None:
        raise missing("signature")
    timestamp, recv_window = _timestamp(params)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    timing = bhex_signature.check_timing(timestamp, now_ms, recv_window)
    if not timing.ok:
        raise InvalidTimestamp(timing.reason)
    key = api_keys.authenticate_user_key(api_key)
    if key is None:
        raise UnknownApiKey()
    if not bhex_signature.verify(key.secret or "", signature, params.query, params.raw_body):
        raise InvalidSignature()
    host_org = _host_org(request)
    if host_org is not None and host_org != key.org_id:
        raise UnknownApiKey()
    if not key.enabled or key.login_frozen:
        raise AccountDisabled()
    if not key.allows_ip(source_ip(request)):
        raise IpNotAllowed()
    if guard.needs_ip_whitelist and not key.ip_whitelist:
        raise IpWhitelistRequired()
    if guard.write and key.read_only:
        raise ReadOnlyKey()
    level = rate_limits.level_of(catalog.org(key.org_id).settings)
    rate_limits.charge(api_key, level, weight=guard.weight, orders=guard.orders, now_seconds=now_ms / 1000)
    return Caller(key, validated(request, params))
