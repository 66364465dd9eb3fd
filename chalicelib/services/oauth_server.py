"""The authorization server: RFC 6749 code grant and refresh, RFC 7636 PKCE, built on
authlib's `AuthorizationServer` with this platform's storage behind its hooks.

authlib validates the protocol (parameters, client authentication, redirect URI, scope,
grant and PKCE rules, error names); this module supplies what it asks for:

* clients: `oauth_clients` apps of the org serving the request's Host (another org's app
  is unknown here); exact redirect URI match; confidential apps authenticate with
  `client_secret_basic` or `client_secret_post`, public apps with `none`;
* PKCE: `S256` only; required at the authorization request of a public app, optional for
  a confidential one, and once a challenge was sent the verifier is always required;
* codes (10 minutes, single use): the exchange marks the code used and creates the grant
  family and its tokens in one transaction; a second use of a code (even concurrent)
  revokes the family the first use created;
* refresh (rotation): every refresh uses up the refresh token and issues a new pair in
  one transaction; presenting a used refresh token revokes the whole family.

The HTTP side is a neutral `HttpRequest` built by the API layer; answers are plain
values, failures the `OAuthProblem`s of `domain.oauth_errors` (with `redirect_to` when
the client may be told through its redirect URI).
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc7636 import CodeChallenge

from chalicelib.domain import oauth
from chalicelib.domain.errors import InvalidParameter, NotFound, Unauthenticated, UnknownHost
from chalicelib.domain.ids import new_id
from chalicelib.domain.oauth_errors import (
    BY_RFC_NAME,
    OAuthAccessDenied,
    OAuthConsentExpired,
    OAuthInvalidClient,
    OAuthInvalidRequest,
    OAuthProblem,
)
from chalicelib.services import catalog, oauth_clients, oauth_tokens, sessions, users
from chalicelib.store import oauth_grants as store
from chalicelib.store.oauth import OAuthApp
from chalicelib.store.oauth_grants import Code, Consent, CredentialAlreadyUsed, Family, Token

# authlib logs issued tokens at DEBUG; never let those lines out.
logging.getLogger("authlib").setLevel(logging.INFO)

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
GRANT_TYPES = ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class HttpRequest:
    """What the API layer hands over: every parameter pair in order (repeats kept, so a
    repeated parameter is refused as RFC 6749 §3.1 asks) and the headers."""

    method: str
    host: str
    path: str
    pairs: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    ip: str = ""
    user_agent: str = ""


class _Headers(dict):
    def __init__(self, headers: Mapping[str, str]):
        super().__init__((str(k).lower(), v) for k, v in (headers or {}).items())

    def get(self, key, default=None):
        return super().get(str(key).lower(), default)

    def __getitem__(self, key):
        return super().__getitem__(str(key).lower())

    def __contains__(self, key):
        return super().__contains__(str(key).lower())


class _Payload(OAuth2Payload):
    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self._datalist: defaultdict[str, list] = defaultdict(list)
        for name, value in pairs:
            self._datalist[name].append(value)
        self._data = {name: values[0] for name, values in self._datalist.items()}

    @property
    def data(self):
        return self._data

    @property
    def datalist(self):
        return self._datalist


class _Request(OAuth2Request):
    def __init__(self, http: HttpRequest):
        # authlib refuses non-https URIs; API Gateway serves https only, and the local
        # stack's plain http is the one exception, so the check is answered here.
        super().__init__(http.method.upper(), f"https://{http.host}{http.path}", headers=_Headers(http.headers))
        self.payload = _Payload(http.pairs)
        self.granted_scope: Optional[list[str]] = None

    @property
    def form(self):
        return self.payload.data

    @property
    def args(self):
        return self.payload.data


class _Client(ClientMixin):
    def __init__(self, app: OAuthApp):
        self.app = app
        self.client_id = app.client_id

    def get_client_id(self):
        return self.app.client_id

    def get_default_redirect_uri(self):
        return self.app.redirect_uris[0] if len(self.app.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope):
        if not scope:
            return oauth.scope_text(self.app.scopes)
        names = oauth.parse_scope(scope)
        if any(name not in self.app.scopes for name in names):
            return None
        return oauth.scope_text(names)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.app.redirect_uris

    def check_client_secret(self, client_secret):
        return oauth_clients.check_secret(self.app, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        if self.app.client_type == oauth.PUBLIC:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in GRANT_TYPES


class _IssuedCode:
    """authlib's view of a stored code (AuthorizationCodeMixin + the PKCE attributes)."""

    def __init__(self, code: Code, user: users.User):
        self.stored, self.user = code, user
        self.code_challenge = code.code_challenge
        self.code_challenge_method = code.code_challenge_method

    def get_redirect_uri(self):
        return self.stored.redirect_uri

    def get_scope(self):
        return self.stored.scope


class _IssuedRefresh:
    """authlib's view of a live refresh token (TokenMixin)."""

    def __init__(self, token: Token, family: Family, user: users.User):
        self.stored, self.family, self.user = token, family, user

    def check_client(self, client):
        return client.get_client_id() == self.stored.client_id

    def get_scope(self):
        return self.stored.scope


_org: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("oauth_org", default=None)


@contextlib.contextmanager
def _serving(org_id: str):
    marker = _org.set(org_id)
    try:
        yield
    finally:
        _org.reset(marker)


def _user(org_id: str, uid: str) -> Optional[users.User]:
    try:
        return users.get_user(org_id, uid)
    except NotFound:
        return None


class _Pkce(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            if grant.request.client.app.client_type == oauth.PUBLIC:
                raise InvalidRequestError("A public client must send code_challenge (PKCE, method S256)")
        elif data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def save_authorization_code(self, code, request):
        now = oauth_tokens.now_ms()
        chosen = oauth.narrowed(oauth.parse_scope(request.scope), request.granted_scope)
        store.put_code(Code(
            oauth.credential_hash("code", code), request.client.get_client_id(), _org.get(), request.user.uid,
            request.payload.redirect_uri, oauth.scope_text(chosen), request.payload.data.get("code_challenge"),
            request.payload.data.get("code_challenge_method") if request.payload.data.get("code_challenge") else None,
            now, now + oauth.CODE_SECONDS * 1000), keep_seconds=oauth.REUSE_EVIDENCE_SECONDS)

    def query_authorization_code(self, code, client):
        stored = store.get_code(oauth.credential_hash("code", code))
        if stored is None or stored.client_id != client.get_client_id() or stored.org_id != _org.get():
            return None
        if stored.used_at is not None:
            # RFC 6749 §4.1.2: a code used twice revokes what its first use produced.
            oauth_tokens.revoke_family(stored.family_id, "code_reused")
            return None
        if oauth_tokens.now_ms() >= stored.valid_until:
            return None
        user = _user(stored.org_id, stored.uid)
        if user is None or user.login_frozen or (user.password_changed_at or 0) > stored.created_at:
            return None
        return _IssuedCode(stored, user)

    def delete_authorization_code(self, authorization_code):
        """Nothing to do: the exchange transaction already used the code up."""

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class _RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        stored = store.get_refresh(oauth.credential_hash("refresh", refresh_token))
        if stored is None or stored.org_id != _org.get():
            return None
        if stored.used_at is not None:
            # RFC 9700 §4.14.2: a rotated refresh token came back; someone holds a copy.
            oauth_tokens.revoke_family(stored.family_id, "refresh_reused")
            return None
        now = oauth_tokens.now_ms()
        if now >= stored.valid_until:
            return None
        try:
            family, _, user = oauth_tokens.live_grant(stored, now)
        except Unauthenticated:
            return None
        return _IssuedRefresh(stored, family, user)

    def authenticate_user(self, refresh_token):
        return refresh_token.user

    def revoke_old_credential(self, refresh_token):
        """Nothing to do: the rotation transaction already used the old token up."""


def _generate_token(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
    token = {"token_type": "Bearer", "access_token": secrets.token_urlsafe(32),
             "expires_in": oauth.ACCESS_TOKEN_SECONDS, "scope": scope or ""}
    if include_refresh_token:
        token["refresh_token"] = secrets.token_urlsafe(32)
    if user is not None:
        token["open_id"] = oauth.open_id(client.app.open_id_salt, user.uid)
    return token


def _issue(token: dict, family: Family, client_id: str, org_id: str, uid: str, now: int) -> tuple[Token, Token]:
    """The stored forms of a new token pair; lifetimes never pass the family's end."""
    access_until = min(now + oauth.ACCESS_TOKEN_SECONDS * 1000, family.ends_at)
    refresh_until = min(now + oauth.REFRESH_TOKEN_SECONDS * 1000, family.ends_at)
    token["expires_in"] = max(0, (access_until - now) // 1000)
    scope = token.get("scope") or family.scope
    access = Token(oauth.credential_hash("access", token["access_token"]), family.family_id, client_id, org_id, uid,
                   scope, now, access_until)
    refresh = Token(oauth.credential_hash("refresh", token["refresh_token"]), family.family_id, client_id, org_id,
                    uid, scope, now, refresh_until, access.token_hash)
    return access, refresh


class _Server(AuthorizationServer):
    def __init__(self):
        super().__init__(scopes_supported=list(oauth.SCOPE_ORDER))
        self.register_token_generator("default", _generate_token)
        self.register_grant(_CodeGrant, [_Pkce(required=True)])
        self.register_grant(_RefreshGrant)

    def query_client(self, client_id):
        app = oauth_clients.find_app(client_id)
        if app is None or app.org_id != _org.get() or not app.enabled:
            return None
        return _Client(app)

    def save_token(self, token, request):
        now, org_id = oauth_tokens.now_ms(), _org.get()
        client_id, uid = request.client.get_client_id(), request.user.uid
        if request.refresh_token is not None:
            previous: _IssuedRefresh = request.refresh_token
            access, refresh = _issue(token, previous.family, client_id, org_id, uid, now)
            try:
                store.rotate(previous.stored, access, refresh, now)
            except CredentialAlreadyUsed:
                oauth_tokens.revoke_family(previous.family.family_id, "refresh_reused")
                raise InvalidGrantError("The refresh token was already used") from None
            except OAuthProblem as failure:
                raise InvalidGrantError(failure.message) from None
            return
        issued: _IssuedCode = request.authorization_code
        code = issued.stored
        family = Family(str(new_id()), client_id, org_id, uid, code.scope, code.created_at, now,
                        code.created_at + oauth.GRANT_MAX_SECONDS * 1000)
        access, refresh = _issue(token, family, client_id, org_id, uid, now)
        try:
            store.exchange_code(code, family, access, refresh, now)
        except CredentialAlreadyUsed:
            winner = store.get_code(code.code_hash)
            oauth_tokens.revoke_family(winner.family_id if winner else None, "code_reused")
            raise InvalidGrantError("The authorization code was already used") from None

    def send_signal(self, name, *args, **kwargs):
        """No signals: nothing subscribes to them here."""

    def create_oauth2_request(self, request):
        return request if isinstance(request, _Request) else _Request(request)

    def handle_response(self, status, body, headers):
        return status, body, headers

    def handle_error_response(self, request, error):
        raise _problem(error)


_server = _Server()


def _problem(error: OAuth2Error) -> OAuthProblem:
    cls = BY_RFC_NAME.get(error.error, OAuthInvalidRequest)
    redirect_to = None
    if error.redirect_uri:
        _, _, headers = error()
        redirect_to = dict(headers).get("Location")
    return cls(error.get_error_description() or None, redirect_to=redirect_to)


def org_for(host: str) -> str:
    org_id = catalog.org_for_host(host)
    if not org_id:
        raise UnknownHost()
    return org_id


def _consent_grant(request: _Request):
    try:
        return _server.get_consent_grant(request)
    except OAuth2Error as error:
        raise _problem(error) from None


# --- authorization endpoint and its consent page ------------------------------------------------------------

def check_authorization_request(http: HttpRequest) -> dict:
    """What the consent page shows: the app, the broker and the scopes asked for. Raises
    the request's OAuthProblem (with `redirect_to` when the client may hear of it)."""
    org_id = org_for(http.host)
    with _serving(org_id):
        grant = _consent_grant(_Request(http))
    app: OAuthApp = grant.request.client.app
    requested = oauth.parse_scope(grant.request.scope)
    return {
        "broker": catalog.org(org_id).name,
        "app": {"client_id": app.client_id, "name": app.name, "client_type": app.client_type},
        "redirect_uri": grant.redirect_uri, "state": grant.request.payload.state,
        "scopes": [{"scope": name, "title": oauth.SCOPES[name].title,
                    "description": oauth.SCOPES[name].description, "writes": oauth.SCOPES[name].writes}
                   for name in requested],
    }


def login_for_consent(http: HttpRequest, client_id: Optional[str], login: Optional[str], password: Optional[str],
                      ga_code: Optional[str] = None, request_id: Optional[str] = None) -> dict:
    """The consent page's login: the User API's (failed-login guard, second factor when
    GA is bound, login history). A user with GA who sent no code gets a `request_id` to
    finish with. The session token returned is bound to this app for ten minutes, lives
    in the page's memory only, and ends with the decision."""
    org_id = org_for(http.host)
    app = oauth_clients.find_app(client_id)
    if app is None or app.org_id != org_id or not app.enabled:
        raise OAuthInvalidClient("The app does not exist on this site")
    client = sessions.ClientInfo(http.ip, (http.user_agent or "")[:512], "H5")
    if request_id:
        issued = sessions.complete_login(org_id, request_id, ga_code, client=client)
    else:
        outcome = sessions.login(org_id, (login or "").strip(), password or "", ga_code=ga_code or None,
                                 client=client)
        if isinstance(outcome, sessions.PendingSecondFactor):
            return {"second_factor": "ga", "request_id": outcome.request_id, "expires_in": outcome.expires_in}
        issued = outcome
    valid_until = oauth_tokens.now_ms() + oauth.CONSENT_LOGIN_SECONDS * 1000
    store.put_consent(Consent(oauth.credential_hash("consent", issued.token), issued.user.uid, org_id,
                              app.client_id, valid_until))
    user = issued.user
    return {"consent_token": issued.token, "expires_in": oauth.CONSENT_LOGIN_SECONDS,
            "login": user.email or user.phone or user.uid}


def decide(http: HttpRequest, consent_token: Optional[str], *, approve: bool,
           granted_scope: Optional[str] = None) -> str:
    """The user's decision on the authorization request in `http`: the URL to send the
    browser to (the client's redirect URI with `code` and `state`, or `error=access_denied`)."""
    org_id = org_for(http.host)
    token_hash = oauth.credential_hash("consent", consent_token or "")
    consent = store.get_consent(token_hash) if consent_token else None
    if consent is None or consent.org_id != org_id or oauth_tokens.now_ms() >= consent.valid_until:
        raise OAuthConsentExpired()
    try:
        principal = sessions.authenticate(org_id, consent_token)
    except Unauthenticated:
        raise OAuthConsentExpired() from None
    request = _Request(http)
    with _serving(org_id):
        grant = _consent_grant(request)
        if grant.request.client.get_client_id() != consent.client_id or principal.uid != consent.uid:
            raise OAuthConsentExpired()
        if granted_scope is not None:
            request.granted_scope = oauth.parse_scope(granted_scope)
            if approve and not oauth.narrowed(oauth.parse_scope(request.scope), request.granted_scope):
                raise InvalidParameter("granted_scope", "Choose at least one permission, or deny")
        try:
            _, _, headers = _server.create_authorization_response(
                request, grant_user=principal.user if approve else None, grant=grant)
            location = dict(headers)["Location"]
        except OAuthAccessDenied as denied:
            location = denied.redirect_to
    store.delete_consent(token_hash)
    sessions.logout(principal)
    return location


# --- token endpoint and introspection ------------------------------------------------------------------------

def token(http: HttpRequest) -> tuple[dict, list]:
    """RFC 6749 §4.1.3 / §6: (token response, headers) or an OAuthProblem."""
    org_id = org_for(http.host)
    with _serving(org_id):
        _, body, headers = _server.create_token_response(_Request(http))
    return body, list(headers)


def introspect(http: HttpRequest) -> dict:
    """RFC 7662 for a client: it authenticates as at the token endpoint and learns only
    about its own tokens."""
    org_id = org_for(http.host)
    request = _Request(http)
    with _serving(org_id):
        try:
            client = _server.authenticate_client(request, CLIENT_AUTH_METHODS, endpoint="introspection")
        except OAuth2Error as error:
            raise _problem(error) from None
    return oauth_tokens.introspect(org_id, request.form.get("token"), client=client.app)


def introspect_bearer(host: str, presented: Optional[str]) -> dict:
    """The seed's `GET check_token`: what the presented bearer token itself is good for."""
    return oauth_tokens.introspect(org_for(host), presented)

