"""The approval page: the deep-link / QR target of App2App requests.

    GET  /a2a?request_key=K            the page (HTML: the one non-JSON answer, by nature)
    GET  /a2a/assets/{name}            its script and style sheet (no CDN)
    GET  /a2a/api/request?request_key= what the BApp asks, for display (JSON)
    POST /a2a/api/login                {request_key, login, password, ga_code?} -> {session, address, ...}
    POST /a2a/api/approve              {request_key} + X-Approval-Session header -> the request's state
    POST /a2a/api/cancel               {request_key} -> the request's state

The user logs in as a user of the broker whose domain serves the page (the org comes
from the Host, as on the User API) through the User API's login (`services.sessions`:
failed-login guard, second factor when GA is bound, login history). The session token is
returned in the body and sent back in a header (no cookie, so a cross-site page cannot
ride on it), bound to this one request for 10 minutes at most, and ended after the
approval (docs/KLIP.md). The page refuses framing
(clickjacking) and loads only its own script. The JSON calls validate their parameters with
the models in klip/params.py (an unknown or malformed key is 6000, as from the service).
"""
from __future__ import annotations

import os

from chalice import Blueprint, Response

from chalicelib.api.klip import errors as klip_errors
from chalicelib.api.klip import http
from chalicelib.api.klip import params as p
from chalicelib.api.operations import SESSION
from chalicelib.api.rendering import Family
from chalicelib.api.routing import source_ip
from chalicelib.domain.errors import (
    A2ARequestKeyNotFound, InvalidCredentials, InvalidParameter, InvalidSecondFactor, NotFound,
)
from chalicelib.services import a2a, catalog

approval_page = Blueprint(__name__)
A = Family.A2A
ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "assets")
_ASSET_TYPES = {"approval.js": "application/javascript; charset=utf-8", "approval.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
PAGE_JSON = {"renderer": klip_errors.page, "headers": {"Cache-Control": "no-store"}}


def _asset(name: str) -> str:
    with open(os.path.join(ASSETS, name), encoding="utf-8") as handle:
        return handle.read()


def page_failure(problem: InvalidParameter):
    """What the service answers for the same field: a bad key is unknown, bad credentials
    are wrong ones."""
    if problem.param == "request_key":
        return A2ARequestKeyNotFound()
    if problem.param in ("login", "password"):
        return InvalidCredentials()
    if problem.param == "ga_code":
        return InvalidSecondFactor()
    return problem


def page_operation(path: str, summary: str, params, **options):
    return http.operation(approval_page, path, family=A, summary=summary, params=params, failure=page_failure,
                          **options)


@page_operation("/a2a", "The approval page (HTML): the deep link and QR target of a request", p.ApprovalPage,
                produces="text/html")
def page(params: p.ApprovalPage):
    return Response(body=_asset("approval.html"), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS})


@page_operation("/a2a/assets/{name}", "The approval page's script and style sheet", None,
                documented=())
def page_asset(params, name):
    if name not in _ASSET_TYPES:
        raise NotFound("no such asset")
    return Response(body=_asset(name), status_code=200,
                    headers={"Content-Type": _ASSET_TYPES[name], "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "public, max-age=300"})


# Described once per file (a static path each), as the OAuth consent page's assets are.
for _name, _type in _ASSET_TYPES.items():
    http.describe(A, f"/a2a/assets/{_name}", f"The approval page's {_name}", produces=_type.split(";")[0])


@page_operation("/a2a/api/request", "What the BApp asks, for display", p.RequestKey, **PAGE_JSON)
def page_request(params: p.RequestKey):
    return a2a.request_for_page(params.request_key)


@page_operation("/a2a/api/login", "Log in as a user of this broker for one request (a session for 10 minutes)",
                p.PageLogin, methods=("POST",), read=http.body, **PAGE_JSON)
def page_login(params: p.PageLogin):
    request = approval_page.current_request
    org_id = catalog.org_for_host(request.headers.get("host") or "")
    return a2a.login(org_id, params.request_key, params.login, params.password, params.ga_code,
                     ip=source_ip(request), user_agent=request.headers.get("user-agent") or "")


@page_operation("/a2a/api/approve", "Approve the request as the logged-in user (header `X-Approval-Session`)",
                p.PageRequestKey, methods=("POST",), read=http.body, auth=SESSION, **PAGE_JSON)
def page_approve(params: p.PageRequestKey):
    request = approval_page.current_request
    return a2a.approve(request.headers.get("x-approval-session"), params.request_key)


@page_operation("/a2a/api/cancel", "Cancel the request (anyone holding its key, before it is approved)",
                p.PageRequestKey, methods=("POST",), read=http.body, **PAGE_JSON)
def page_cancel(params: p.PageRequestKey):
    return a2a.cancel(params.request_key)
