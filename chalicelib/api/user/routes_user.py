"""User routes: sign-up, login and sessions, codes, passwords, GA, email and mobile,
settings, anti-phishing code, KYC, OpenAPI keys, favorites, invitations."""
from __future__ import annotations

import json
from typing import Optional

from chalice import Response

from chalicelib.api import rendering
from chalicelib.api.user import wire
from chalicelib.api.user.http import PUBLIC, READ, WRITE, Context, endpoint
from chalicelib.auth import sessions as cookies
from chalicelib.domain.errors import InvalidParameter, MissingParameter, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.services import account_security, api_keys, content, kyc, sessions, verification
from chalicelib.services.sessions import Issued, PendingSecondFactor
from chalicelib.services.verification import Target


# --- helpers ---------------------------------------------------------------------------------

def _target(ctx: Context, *, required: bool = True) -> Optional[Target]:
    """An email, or a national code and mobile number, from the parameters."""
    email = ctx.text("email")
    if email:
        return verification.email_target(email)
    mobile = ctx.text("mobile")
    if mobile:
        return verification.mobile_target(ctx.text("national_code"), mobile)
    if required:
        raise MissingParameter("email", "Either email or national_code and mobile is required")
    return None


def _session_answer(issued: Issued) -> Response:
    body = {"user": wire.user(issued.user), "csrfToken": issued.csrf_token, "sessionId": issued.session.session_id,
            "expiresIn": issued.max_age_seconds}
    return rendering.ok(body, headers={"Set-Cookie": cookies.set_cookies(issued.token, issued.csrf_token,
                                                                         issued.max_age_seconds)})


def _logged_out(body: dict) -> Response:
    return rendering.ok(body, headers={"Set-Cookie": cookies.clear_cookies()})


def _login_answer(outcome) -> Response:
    if isinstance(outcome, PendingSecondFactor):
        return rendering.ok({"need2FA": True, "authType": "GA", "requestId": outcome.request_id,
                             "expiresIn": outcome.expires_in, "userId": outcome.user.uid})
    return _session_answer(outcome)


# --- codes -----------------------------------------------------------------------------------

@endpoint("/api/common/send_verify_code", access=PUBLIC, post_only=True)
def send_public_verify_code(ctx: Context):
    """REGISTER or FIND_PASSWORD codes, to an email or a mobile number."""
    answer = account_security.send_public_code(ctx.org_id, ctx.require("type"), _target(ctx), ip=ctx.client.ip)
    return {"orderId": answer["order_id"], "expiresIn": answer["expires_in"], "channel": answer["channel"]}


@endpoint("/api/user/send_verify_code", access=WRITE)
def send_user_verify_code(ctx: Context):
    """Codes for a logged-in user: BIND_EMAIL / BIND_MOBILE to the new address, every other
    type to the user's own email or mobile (`auth_type`: email | mobile)."""
    answer = account_security.send_user_code(ctx.principal, ctx.require("type"), target=_target(ctx, required=False),
                                             channel=ctx.text("auth_type"), ip=ctx.client.ip)
    return {"orderId": answer["order_id"], "expiresIn": answer["expires_in"], "channel": answer["channel"]}


# --- sign-up, login, sessions ------------------------------------------------------------------

def _sign_up(ctx: Context, target: Target) -> Response:
    issued = account_security.sign_up(ctx.org_id, target, password=ctx.text("password"),
                                      verify_code=ctx.text("verify_code"), order_id=ctx.text("order_id"),
                                      invite_code=ctx.text("invite_code"), client=ctx.client)
    return _session_answer(issued)


@endpoint("/api/user/email_sign_up", access=PUBLIC, post_only=True)
def email_sign_up(ctx: Context):
    return _sign_up(ctx, verification.email_target(ctx.text("email")))


@endpoint("/api/user/mobile_sign_up", access=PUBLIC, post_only=True)
def mobile_sign_up(ctx: Context):
    return _sign_up(ctx, verification.mobile_target(ctx.text("national_code"), ctx.text("mobile")))


@endpoint(["/api/user/authorize", "/api/user/email_authorize", "/api/user/mobile_authorize"], access=PUBLIC,
          post_only=True)
def authorize(ctx: Context):
    """Password login; with GA bound either `ga_code` here or `authorize_advance` next."""
    login_name = ctx.first("username", "email", "mobile")
    outcome = sessions.login(ctx.org_id, login_name or "", ctx.text("password") or "",
                             national_code=ctx.text("national_code"), ga_code=ctx.text("ga_code"), client=ctx.client)
    return _login_answer(outcome)


@endpoint("/api/user/authorize_advance", access=PUBLIC, post_only=True)
def authorize_advance(ctx: Context):
    return _session_answer(sessions.complete_login(ctx.org_id, ctx.text("request_id") or "", ctx.text("ga_code"),
                                                   client=ctx.client))


@endpoint(["/api/user/authorize_cancel", "/api/user/logout"], access=WRITE)
def authorize_cancel(ctx: Context):
    sessions.logout(ctx.principal)
    return _logged_out({"success": True})


@endpoint("/api/user/authorize_log", access=READ)
def authorize_log(ctx: Context):
    return wire.camel(sessions.login_history(ctx.org_id, ctx.uid, before_id=ctx.integer("from_id", low=1),
                                             limit=ctx.limit(20, 100)))


@endpoint("/api/user/sessions", access=READ)
def list_sessions(ctx: Context):
    return wire.camel(sessions.list_sessions(ctx.org_id, ctx.uid, current_hash=ctx.principal.session.token_hash))


@endpoint("/api/user/session/revoke", access=WRITE)
def revoke_session(ctx: Context):
    sessions.revoke(ctx.org_id, ctx.uid, ctx.require("session_id"))
    return {"success": True}


@endpoint("/api/user/session/revoke_others", access=WRITE)
def revoke_other_sessions(ctx: Context):
    ended = sessions.revoke_all(ctx.org_id, ctx.uid, keep_hash=ctx.principal.session.token_hash)
    return {"success": True, "revoked": ended}


# --- passwords -----------------------------------------------------------------------------------

@endpoint(["/api/user/find_pwd", "/api/user/reset_pwd"], access=PUBLIC, post_only=True)
def find_password(ctx: Context):
    account_security.reset_password(ctx.org_id, _target(ctx), verify_code=ctx.text("verify_code"),
                                    order_id=ctx.text("order_id"), password=ctx.text("password"),
                                    ga_code=ctx.text("ga_code"))
    return {"success": True}


@endpoint("/api/user/update_pwd", access=WRITE)
def update_password(ctx: Context):
    """Ends every session, this one too: log in again with the new password."""
    account_security.change_password(ctx.principal, ctx.text("old_password"), ctx.text("password"),
                                      ga_code=ctx.text("ga_code"))
    return _logged_out({"success": True})


# --- profile, settings ------------------------------------------------------------------------------

@endpoint("/api/user/get_base_info", access=READ)
def get_base_info(ctx: Context):
    return wire.user(ctx.user)


@endpoint("/api/user/get_settings", access=READ)
def get_settings(ctx: Context):
    return {"settings": content.settings(ctx.uid)}


@endpoint("/api/user/set_settings", access=WRITE)
def set_settings(ctx: Context):
    """`settings`: a JSON object (in a JSON body, or as JSON text in a form field)."""
    changes = ctx.params.get("settings")
    if isinstance(changes, str):
        try:
            changes = json.loads(changes)
        except ValueError:
            raise InvalidParameter("settings", "Settings must be a JSON object") from None
    return {"settings": content.update_settings(ctx.uid, changes)}


@endpoint("/api/user/edit_anti_phishing_code", access=WRITE)
def edit_anti_phishing_code(ctx: Context):
    account_security.set_anti_phishing_code(ctx.principal, ctx.text("anti_phishing_code"), ga_code=ctx.text("ga_code"))
    return {"success": True}


# --- GA ----------------------------------------------------------------------------------------------

@endpoint("/api/user/before_bind_ga", access=WRITE)
def before_bind_ga(ctx: Context):
    return wire.camel(account_security.before_bind_ga(ctx.principal))


@endpoint("/api/user/bind_ga", access=WRITE)
def bind_ga(ctx: Context):
    account_security.bind_ga(ctx.principal, ctx.text("ga_code"))
    return {"success": True}


@endpoint("/api/user/before_alter_ga", access=WRITE)
def before_alter_ga(ctx: Context):
    return wire.camel(account_security.before_alter_ga(ctx.principal))


@endpoint("/api/user/alter_ga", access=WRITE)
def alter_ga(ctx: Context):
    account_security.alter_ga(ctx.principal, ctx.first("old_ga_code", "origin_ga_code"), ctx.text("ga_code"))
    return {"success": True}


@endpoint("/api/user/unbind_ga", access=WRITE)
def unbind_ga(ctx: Context):
    account_security.unbind_ga(ctx.principal, ctx.text("ga_code"), ctx.text("password"))
    return {"success": True}


# --- email and mobile --------------------------------------------------------------------------------

@endpoint("/api/user/bind_email", access=WRITE)
def bind_email(ctx: Context):
    user = account_security.bind_email(ctx.principal, verification.email_target(ctx.text("email")),
                                       verify_code=ctx.text("verify_code"), order_id=ctx.text("order_id"),
                                       ga_code=ctx.text("ga_code"))
    return wire.user(user)


@endpoint("/api/user/bind_mobile", access=WRITE)
def bind_mobile(ctx: Context):
    user = account_security.bind_mobile(
        ctx.principal, verification.mobile_target(ctx.text("national_code"), ctx.text("mobile")),
        verify_code=ctx.text("verify_code"), order_id=ctx.text("order_id"), ga_code=ctx.text("ga_code"))
    return wire.user(user)


# --- KYC -----------------------------------------------------------------------------------------------

@endpoint(["/api/user/verify_info", "/api/user/kyc/info"], access=READ)
def kyc_info(ctx: Context):
    return wire.camel(kyc.status(ctx.org_id, ctx.uid))


@endpoint("/api/user/kyclevel", access=READ)
def kyc_levels(ctx: Context):
    return wire.camel({"kyc_level": ctx.user.kyc_level, "levels": kyc.levels()})


@endpoint("/api/user/kyc/basicverify", access=WRITE)
def kyc_basic(ctx: Context):
    return wire.camel(kyc.submit_basic(ctx.org_id, ctx.uid, country_code=ctx.text("country_code"),
                                       first_name=ctx.text("first_name"), last_name=ctx.text("last_name"),
                                       card_type=ctx.text("card_type"), card_no=ctx.text("card_no")))


@endpoint("/api/user/verify/upload_image", access=WRITE)
def kyc_upload_form(ctx: Context):
    """A presigned S3 POST form: send the file with these fields to `url`, then name `key`
    in `kyc/photoverify`."""
    return wire.camel(kyc.upload_form(ctx.org_id, ctx.uid, ctx.text("type"), ctx.text("content_type")))


@endpoint("/api/user/kyc/photoverify", access=WRITE)
def kyc_documents(ctx: Context):
    level = ctx.integer("level", 2, low=2, high=3)
    names = kyc.DOCUMENTS[level]
    return wire.camel(kyc.submit_documents(ctx.org_id, ctx.uid, level, {name: ctx.text(name) for name in names}))


# --- OpenAPI keys ----------------------------------------------------------------------------------------

def _own_key(ctx: Context) -> str:
    """The key's name from `api_key`, or its numeric `api_key_id`, among the user's own keys."""
    name = ctx.text("api_key")
    if name:
        return name
    key_id = ctx.text("api_key_id")
    if not key_id:
        raise MissingParameter("api_key")
    for view in api_keys.list_user_keys(ctx.org_id, ctx.uid):
        if view.key_id == key_id:
            return view.api_key
    raise NotFound("API key not found")


@endpoint("/api/user/api_keys", access=READ)
def list_api_keys(ctx: Context):
    return [wire.api_key(view) for view in api_keys.list_user_keys(ctx.org_id, ctx.uid)]


@endpoint("/api/user/api_key/create", access=WRITE)
def create_api_key(ctx: Context):
    """`type` 0 read-only / 1 trade, `tag`, `ip_white_list` (comma-separated), the second
    factor (`ga_code`, or `verify_code` + `order_id` of type CREATE_API_KEY) and
    `client_order_id` (a retry answers the same key, without its secret)."""
    operation = ctx.text("client_order_id") or f"auto-{new_id()}"
    verification.require_second_factor(ctx.user, "CREATE_API_KEY", **ctx.second_factor(),
                                       operation=f"apikey:{operation}")
    view, secret = api_keys.create_user_key(ctx.org_id, ctx.uid, key_type=ctx.integer("type", 1, low=0, high=1),
                                            label=ctx.text("tag"), ip_whitelist=ctx.listed("ip_white_list"),
                                            operation_id=operation)
    account_security.notify(ctx.user, "CREATE_API_KEY_SUCCESS", "API key created",
                            f"An API key '{view.label}' was created for your account.")
    return wire.api_key(view, secret)


@endpoint("/api/user/api_key/update_ips", access=WRITE)
def update_api_key_ips(ctx: Context):
    api_key = _own_key(ctx)
    verification.require_second_factor(ctx.user, "MODIFY_API_KEY", **ctx.second_factor(),
                                       operation=f"apikey-ips:{api_key}:{new_id()}")
    return wire.api_key(api_keys.set_user_key_ips(ctx.org_id, ctx.uid, api_key, ctx.listed("ip_white_list")))


@endpoint("/api/user/api_key/change_status", access=WRITE)
def change_api_key_status(ctx: Context):
    """`status` 1 enables, 0 disables."""
    api_key = _own_key(ctx)
    enabled = ctx.integer("status", low=0, high=1)
    if enabled is None:
        raise MissingParameter("status")
    verification.require_second_factor(ctx.user, "MODIFY_API_KEY", **ctx.second_factor(),
                                       operation=f"apikey-status:{api_key}:{new_id()}")
    return wire.api_key(api_keys.set_user_key_enabled(ctx.org_id, ctx.uid, api_key, bool(enabled)))


@endpoint("/api/user/api_key/delete", access=WRITE)
def delete_api_key(ctx: Context):
    api_key = _own_key(ctx)
    verification.require_second_factor(ctx.user, "DELETE_API_KEY", **ctx.second_factor(),
                                       operation=f"apikey-delete:{api_key}:{new_id()}")
    api_keys.delete_user_key(ctx.org_id, ctx.uid, api_key)
    return {"success": True}


# --- favorites, invitations ----------------------------------------------------------------------------

def _symbols(ctx: Context) -> list[str]:
    return [symbol.upper() for symbol in ctx.listed("symbol_id") or ctx.listed("symbol")]


@endpoint(["/api/user/favorite/list", "/api/user/favorite"], access=READ)
def favorite_list(ctx: Context):
    return [{"symbolId": symbol} for symbol in content.favorites(ctx.org_id, ctx.uid)]


@endpoint("/api/user/favorite/create", access=WRITE)
def favorite_create(ctx: Context):
    return [{"symbolId": symbol} for symbol in content.add_favorites(ctx.org_id, ctx.uid, _symbols(ctx))]


@endpoint("/api/user/favorite/cancel", access=WRITE)
def favorite_cancel(ctx: Context):
    return [{"symbolId": symbol} for symbol in content.remove_favorites(ctx.org_id, ctx.uid, _symbols(ctx))]


@endpoint("/api/invitation/info", access=READ)
def invitation_info(ctx: Context):
    return wire.camel(account_security.invite_info(ctx.principal))


@endpoint("/api/invitation/list", access=READ)
def invitation_list(ctx: Context):
    return [{"userId": u.uid, "registerDate": str(u.created_at), "email": wire.mask_email(u.email),
             "mobile": wire.mask_mobile(u.mobile), "kycLevel": u.kyc_level}
            for u in account_security.invitees(ctx.principal, limit=ctx.limit(100, 500))]
