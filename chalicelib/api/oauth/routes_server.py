"""The authorization server's endpoints (the seed's list) and the consent page.

    GET  /api/v2/oauth2/authorize        validates the request, then the consent page (HTML)
    POST /api/v2/oauth2/authorize        the user's decision -> the client's redirect URI
    GET  /api/v2/oauth2/error            errors that cannot go to a trusted redirect (HTML or JSON)
    POST /api/v2/oauth2/token            RFC 6749 token endpoint (authorization_code, refresh_token)
    GET  /api/v2/oauth2/token            405: secrets never travel in a URL
    POST /api/v2/oauth2/refresh_token    the seed's refresh endpoint (grant_type implied)
    GET  /api/v2/oauth2/check_token      what the presented bearer token is good for
    POST /api/v2/oauth2/check_token      RFC 7662 introspection by an authenticated client
    GET  /api/v2/oauth2/page/request     the consent page's view of the request (JSON)
    POST /api/v2/oauth2/page/login       the consent page's login (JSON)
    GET  /api/v2/oauth2/assets/{name}    the page's script and style sheet

The page is the only HTML besides the error page; it refuses framing and loads only its
own script. Its login token travels in the `X-OAuth-Consent` header, never a cookie, so
another site cannot make the browser decide for the user.
"""
from __future__ import annotations

import html
import os
from urllib.parse import urlencode

from chalice import Response

from chalicelib.api import rendering
from chalicelib.api.oauth import errors
from chalicelib.api.oauth.http import (
    F, PAGE, PREFIX, bearer_token, http_request, oauth_api, operation, pairs_of, parse, query_pairs, register,
    single,
)
from chalicelib.api.operations import FORM, JSON, NONE, OAUTH2, OAUTH_CLIENT, OAUTH_CONSENT
from chalicelib.api.oauth.models import (
    AuthorizeDecision, AuthorizeQuery, BearerIntrospection, ConsentLogin, ErrorQuery, IntrospectionForm,
    RefreshForm, TokenForm,
)
from chalicelib.api.routing import ALL_CONTENT_TYPES, route
from chalicelib.domain.errors import BrokerError
from chalicelib.domain.oauth_errors import BY_RFC_NAME, OAuthInvalidRequest, OAuthMethodNotAllowed, OAuthProblem
from chalicelib.services import oauth_server

ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "assets")
_ASSET_TYPES = {"consent.js": ("oauth_consent.js", "application/javascript; charset=utf-8"),
                "consent.css": ("oauth_consent.css", "text/css; charset=utf-8")}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
GENERIC_ERROR = "The request could not be completed"
HTML = "text/html"

# The protocol endpoints take form bodies only (a client secret is never JSON-logged or in a
# URL); `authorize` and `error` answer HTML to a browser, redirects or JSON otherwise.
for _path, _methods, _model, _auth, _summary, _media, _produces in (
        ("authorize", ("GET",), AuthorizeQuery, NONE,
         "Authorization request (RFC 6749 4.1.1, PKCE): the consent page", (), HTML),
        ("authorize", ("POST",), AuthorizeDecision, OAUTH_CONSENT,
         "The user's decision: redirect to the client with code and state", (FORM, JSON), JSON),
        ("token", ("POST",), TokenForm, OAUTH_CLIENT,
         "Token endpoint: authorization_code (with code_verifier) or refresh_token", (FORM,), JSON),
        ("refresh_token", ("POST",), RefreshForm, OAUTH_CLIENT,
         "Refresh with rotation; a reused refresh token revokes the grant", (FORM,), JSON),
        ("check_token", ("GET",), BearerIntrospection, OAUTH2,
         "What the presented bearer token is good for", (), JSON),
        ("check_token", ("POST",), IntrospectionForm, OAUTH_CLIENT,
         "Token introspection (RFC 7662) by an authenticated client", (FORM,), JSON),
        ("error", ("GET",), ErrorQuery, NONE,
         "Errors that cannot be sent to a trusted redirect URI (HTML or JSON)", (), HTML)):
    register(_path, _methods, _model, auth=_auth, summary=_summary, body_media=_media, produces=_produces)


def _asset(name: str) -> str:
    with open(os.path.join(ASSETS, name), encoding="utf-8") as handle:
        return handle.read()


def _wants_html(request) -> bool:
    return "text/html" in (request.headers.get("accept") or "")


def _wants_json(request) -> bool:
    accept = request.headers.get("accept") or ""
    return "application/json" in accept and "text/html" not in accept


def _redirect(location: str) -> Response:
    return Response(body=rendering.dumps({"redirect_uri": location}), status_code=302,
                    headers={**rendering.JSON_HEADERS, "Location": location, "Cache-Control": "no-store",
                             "Referrer-Policy": "no-referrer"})


def error_page_url(failure: BrokerError) -> str:
    return f"{PREFIX}/error?" + urlencode({"error": errors.rfc_name(failure), "error_description": failure.message})


def _page(name: str, status: int = 200) -> Response:
    return Response(body=_asset(name), status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS})


# --- authorize -------------------------------------------------------------------------------------------

@route(oauth_api, f"{PREFIX}/authorize", family=F, methods=("GET", "POST"), content_types=ALL_CONTENT_TYPES)
def authorize():
    request = oauth_api.current_request
    if request.method.upper() == "GET":
        return _consent_page(request)
    return _decision(request)


def _consent_page(request) -> Response:
    pairs = query_pairs(request)
    try:
        view = oauth_server.check_authorization_request(http_request(request, pairs))
    except OAuthProblem as problem:
        return _redirect(problem.redirect_to or error_page_url(problem))
    except BrokerError as failure:
        return _redirect(error_page_url(failure))
    try:
        parse(AuthorizeQuery, dict(pairs), protocol=True)
    except OAuthProblem as problem:
        query = {"error": problem.oauth_error, "error_description": problem.message}
        if view.get("state"):
            query["state"] = view["state"]
        separator = "&" if "?" in view["redirect_uri"] else "?"
        return _redirect(view["redirect_uri"] + separator + urlencode(query))
    return _page("oauth_consent.html")


def _decision(request) -> Response:
    as_json = _wants_json(request)
    try:
        pairs = pairs_of(request)
        params = dict(pairs)
        choice = parse(AuthorizeDecision, params, protocol=True)
        consent_token = request.headers.get("x-oauth-consent") or choice.consent_token
        location = oauth_server.decide(http_request(request, pairs), consent_token,
                                       approve=choice.decision == "approve", granted_scope=choice.granted_scope)
    except BrokerError as failure:
        redirect_to = getattr(failure, "redirect_to", None)
        if as_json:
            status, body, headers = errors.bhop(failure)
            if redirect_to:
                body["redirect_uri"] = redirect_to
            return Response(body=rendering.dumps(body), status_code=status,
                            headers={**rendering.JSON_HEADERS, **headers, "Cache-Control": "no-store"})
        return _redirect(redirect_to or error_page_url(failure))
    if as_json:
        return Response(body=rendering.dumps({"redirect_uri": location}), status_code=200,
                        headers={**rendering.JSON_HEADERS, "Cache-Control": "no-store"})
    return _redirect(location)


# --- error page -------------------------------------------------------------------------------------------

@route(oauth_api, f"{PREFIX}/error", family=F)
def error_page():
    request = oauth_api.current_request
    try:
        query = parse(ErrorQuery, dict(query_pairs(request)), protocol=True)
        name, description = query.error or "invalid_request", query.error_description or GENERIC_ERROR
    except OAuthProblem:
        name, description = "invalid_request", GENERIC_ERROR
    problem = BY_RFC_NAME.get(name, OAuthProblem)(description)
    if _wants_html(request):
        page = _asset("oauth_error.html").replace("{{error}}", html.escape(name)).replace(
            "{{description}}", html.escape(description))
        return Response(body=page, status_code=400,
                        headers={"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS})
    status, body, headers = errors.protocol(problem)
    body["error"] = name
    return Response(body=rendering.dumps(body), status_code=400, headers={**rendering.JSON_HEADERS, **headers})


# --- token, refresh, introspection --------------------------------------------------------------------------

def _form_only(request) -> list[tuple[str, str]]:
    if request.method.upper() != "POST":
        raise OAuthMethodNotAllowed()  # the query (and any secret in it) is never read
    if request.query_params:
        raise OAuthInvalidRequest("Send the parameters in the form body, never in the URL")
    return pairs_of(request, query=False, allow_json=False)


def _token_response(body: dict, headers: list) -> Response:
    return Response(body=rendering.dumps(body), status_code=200,
                    headers={**rendering.JSON_HEADERS, **dict(headers), **errors.NO_STORE})


@route(oauth_api, f"{PREFIX}/token", family=F, methods=("GET", "POST"), content_types=ALL_CONTENT_TYPES)
@errors.protocol_errors
def token():
    request = oauth_api.current_request
    pairs = _form_only(request)
    parse(TokenForm, dict(pairs), protocol=True)
    return _token_response(*oauth_server.token(http_request(request, pairs)))


@route(oauth_api, f"{PREFIX}/refresh_token", family=F, methods=("GET", "POST"), content_types=ALL_CONTENT_TYPES)
@errors.protocol_errors
def refresh_token():
    request = oauth_api.current_request
    pairs = _form_only(request)
    parse(RefreshForm, dict(pairs), protocol=True)
    if not any(name == "grant_type" for name, _ in pairs):
        pairs = [("grant_type", "refresh_token"), *pairs]
    return _token_response(*oauth_server.token(http_request(request, pairs)))


@route(oauth_api, f"{PREFIX}/check_token", family=F, methods=("GET", "POST"), content_types=ALL_CONTENT_TYPES)
@errors.protocol_errors
def check_token():
    request = oauth_api.current_request
    host = request.headers.get("host") or ""
    if request.method.upper() == "GET":
        params = single(query_pairs(request))
        answer = oauth_server.introspect_bearer(host, bearer_token(request, params))
    else:
        pairs = pairs_of(request, query=False, allow_json=False)
        params = single(pairs)
        if "token" not in params and request.headers.get("authorization", "").lower().startswith("bearer "):
            answer = oauth_server.introspect_bearer(host, bearer_token(request, params))
        else:
            parse(IntrospectionForm, params, protocol=True)
            answer = oauth_server.introspect(http_request(request, pairs))
    return Response(body=rendering.dumps(answer), status_code=200,
                    headers={**rendering.JSON_HEADERS, **errors.NO_STORE})


# --- the consent page's own calls ----------------------------------------------------------------------------

@operation("page/request", methods=("GET",), model=AuthorizeQuery, kind=PAGE,
           summary="The consent page's view of an authorization request")
def page_request(request):
    return oauth_server.check_authorization_request(http_request(request, query_pairs(request)))


@operation("page/login", methods=("POST",), model=ConsentLogin, kind=PAGE,
           summary="Log in on the consent page (second factor when GA is bound)")
def page_login(request):
    pairs = pairs_of(request, query=False)
    form = parse(ConsentLogin, single(pairs))
    return oauth_server.login_for_consent(http_request(request, pairs), form.client_id, form.login, form.password,
                                          form.ga_code, form.request_id)


def _asset_view(name: str):
    def serve(request):
        file_name, content_type = _ASSET_TYPES[name]
        return Response(body=_asset(file_name), status_code=200,
                        headers={"Content-Type": content_type, "X-Content-Type-Options": "nosniff",
                                 "Cache-Control": "public, max-age=300"})
    return serve


for _name in _ASSET_TYPES:
    operation(f"assets/{_name}", methods=("GET",), kind=PAGE, summary=f"The consent page's {_name}",
              produces=_ASSET_TYPES[_name][1].split(";")[0])(_asset_view(_name))

