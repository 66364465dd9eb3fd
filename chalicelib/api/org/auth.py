"""Who is calling the Org API: an org's API key, checked twice against the request's domain.

A request passes these checks in this order (each refusal has its own code and changes
nothing):

1. a key in `X-ACCESS-KEY` (alias `X-BH-APIKEY`; both present must agree)   1001 (401)
2. `signature` and `timestamp` present; timestamp within the receive window   1002 / 1003
3. the key is a known org key and the signature matches                       1004 / 1002
4. the Host names an org (1040) and it is the key's org (1041)                  (403)
5. the key is enabled (1014), the caller's IP is in its whitelist (1011)        (403)
6. the endpoint's level: `asset` endpoints need an asset key (1013) whose whitelist
   is not empty (1012)                                                          (403)
7. no org id or account id among the parameters (2001)

The caller's IP is API Gateway's `requestContext.identity.sourceIp`, never a header.
The signature scheme is `chalicelib.auth.org_signature`.
"""
from __future__ import annotations

import time
from typing import Optional

from chalicelib.api.org.http import ASSET, FORBIDDEN_PARAMS, OrgRequest, parse_params
from chalicelib.api.routing import source_ip
from chalicelib.auth import org_signature
from chalicelib.domain.errors import (
    AccountDisabled,
    InvalidParameter,
    InvalidSignature,
    InvalidTimestamp,
    IpNotAllowed,
    IpWhitelistRequired,
    OrgDomainMismatch,
    ReadOnlyKey,
    Unauthenticated,
    UnknownApiKey,
    UnknownOrgDomain,
)
from chalicelib.services import api_keys, catalog
from chalicelib.services.api_keys import ApiKeyView

KEY_HEADERS = ("x-access-key", "x-bh-apikey")


def _header(request, name: str) -> Optional[str]:
    value = request.headers.get(name)
    return value.strip() if value else None


def check_signed(params: dict[str, str], api_key: Optional[str], *, now_ms: Optional[int] = None) -> ApiKeyView:
    """Steps 2-3: the key, the receive window and the signature over `params`."""
    if not api_key:
        raise Unauthenticated("API key required in the X-ACCESS-KEY header")
    signature = params.get(org_signature.SIGNATURE)
    if not signature:
        raise InvalidSignature("Parameter 'signature' is required")
    try:
        timestamp = int(params.get(org_signature.TIMESTAMP) or "")
        window = params.get(org_signature.RECV_WINDOW)
        window = int(window) if window not in (None, "") else None
    except ValueError:
        raise InvalidTimestamp("Parameters 'timestamp' (ms) and 'recvWindow' must be integers") from None
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    timing = org_signature.check_timing(timestamp, now_ms, window)
    if not timing.ok:
        raise InvalidTimestamp(timing.reason)
    key = api_keys.authenticate_org_key(api_key)
    if key is None:
        raise UnknownApiKey()
    if not org_signature.verify(key.secret, signature, params):
        raise InvalidSignature()
    return key


def check_key_use(key: ApiKeyView, *, host_org: Optional[str], ip: str, level: str,
                  check_host: bool = True) -> None:
    """Steps 4-6: domain, key state, IP whitelist and level."""
    if check_host:
        if host_org is None:
            raise UnknownOrgDomain()
        if host_org != key.org_id:
            raise OrgDomainMismatch()
    if not key.enabled:
        raise AccountDisabled()
    if not key.allows_ip(ip):
        raise IpNotAllowed()
    if level == ASSET:
        if key.level != ASSET:
            raise ReadOnlyKey("This key is read-only: asset operations need an asset key")
        if not key.ip_whitelist:
            raise IpWhitelistRequired("Asset operations need a key bound to an IP whitelist")


def host_org(host: Optional[str]) -> Optional[str]:
    return catalog.org_for_host(host) if host else None


def authenticate(request, level: str, *, now_ms: Optional[int] = None) -> OrgRequest:
    params, files, signed = parse_params(request)
    keys = {value for value in (_header(request, name) for name in KEY_HEADERS) if value}
    if len(keys) > 1:
        raise Unauthenticated("X-ACCESS-KEY and X-BH-APIKEY name different keys")
    key = check_signed(signed, next(iter(keys), None), now_ms=now_ms)
    ip = source_ip(request)
    check_key_use(key, host_org=host_org(_header(request, "host")), ip=ip, level=level)
    for name in FORBIDDEN_PARAMS:
        if name in params:
            raise InvalidParameter(name, "The org comes from the key and users are named by uid; "
                                         f"'{name}' is not accepted")
    return OrgRequest(key, params, files, ip)
