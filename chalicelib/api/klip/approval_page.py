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
(clickjacking) and loads only its own script.
"""
from __future__ import annotations

import os

from chalice import Blueprint, Response

from chalicelib.api.klip import errors as klip_errors
from chalicelib.api.rendering import Family
from chalicelib.api.routing import json_body, route, source_ip
from chalicelib.domain.errors import NotFound
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
as_page_json = klip_errors.rendered_with(klip_errors.page, {"Cache-Control": "no-store"})


def _asset(name: str) -> str:
    with open(os.path.join(ASSETS, name), encoding="utf-8") as handle:
        return handle.read()


@route(approval_page, "/a2a", family=A)
def page():
    return Response(body=_asset("approval.html"), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS})


@route(approval_page, "/a2a/assets/{name}", family=A)
def page_asset(name):
    if name not in _ASSET_TYPES:
        raise NotFound("no such asset")
    return Response(body=_asset(name), status_code=200,
                    headers={"Content-Type": _ASSET_TYPES[name], "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "public, max-age=300"})


@route(approval_page, "/a2a/api/request", family=A)
@as_page_json
def page_request():
    params = approval_page.current_request.query_params or {}
    return a2a.request_for_page(params.get("request_key"))


@route(approval_page, "/a2a/api/login", family=A, methods=["POST"])
@as_page_json
def page_login():
    request = approval_page.current_request
    body = json_body(request)
    org_id = catalog.org_for_host(request.headers.get("host") or "")
    return a2a.login(org_id, body.get("request_key"), body.get("login", body.get("email")), body.get("password"),
                     body.get("ga_code"), ip=source_ip(request), user_agent=request.headers.get("user-agent") or "")


@route(approval_page, "/a2a/api/approve", family=A, methods=["POST"])
@as_page_json
def page_approve():
    request = approval_page.current_request
    body = json_body(request)
    return a2a.approve(request.headers.get("x-approval-session"), body.get("request_key"))


@route(approval_page, "/a2a/api/cancel", family=A, methods=["POST"])
@as_page_json
def page_cancel():
    body = json_body(approval_page.current_request)
    return a2a.cancel(body.get("request_key"))
