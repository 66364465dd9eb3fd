"""User routes: sign-up, login and sessions, codes, passwords, GA, email and mobile,
settings, anti-phishing code, KYC, OpenAPI keys, favorites, invitations.

Each view's parameters are a pydantic model declared just above it. A value the service
answers a specific code for (a wrong verification or GA code counts as a guess; an
unknown invite code, upload key or symbol has its own code) stays free text with a length
bound, and the service decides as before.
"""
from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Optional, Union

from chalice import Response
from pydantic import Field

from chalicelib.api import rendering
from chalicelib.api.user import wire
from chalicelib.api.user.http import PUBLIC, READ, WRITE, Context, endpoint
from chalicelib.api.user.params import (
    CODE_ORDER_ID, GA_CODE_IF_BOUND, ID_PATTERN, MAX_ID, VERIFY_CODE, NoParams, SecondFactor, UserParams,
    comma_list,
)
from chalicelib.auth import sessions as cookies
from chalicelib.domain import passwords
from chalicelib.domain.errors import InvalidParameter, MissingParameter, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.services import account_security, api_keys, content, kyc, sessions, verification
from chalicelib.services.sessions import Issued, PendingSecondFactor
from chalicelib.services.verification import Target

# --- shared fields ------------------------------------------------------------------------------

GA_CODE = dict(max_length=16, description="Google Authenticator code (6 digits)")
PASSWORD = dict(max_length=passwords.MAX_LENGTH)
NEW_PASSWORD = dict(max_length=passwords.MAX_LENGTH,
                    description=f"the new password, {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters")
EMAIL = dict(max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
NATIONAL_CODE = dict(pattern=r"^\+?[0-9]{1,4}$", description="the mobile number's country calling code, e.g. 82")
MOBILE = dict(max_length=40, pattern=r"^[0-9\s\-]+$", description="the mobile number without its country code")
TOKEN_FOR = dict(max_length=16, description=f"the kind of client the session is for: {', '.join(sessions.TOKEN_FOR)} "
                                            "(anything else counts as PC, the default)")
CODE_TYPE = dict(max_length=32, pattern=r"^[A-Za-z_]+$")
INVITE_CODE = dict(max_length=32, description="the inviter's invite code")


class Recipient(UserParams):
    """Where a code goes: an email, or a national code and mobile number."""

    email: Optional[str] = Field(None, **EMAIL)
    national_code: Optional[str] = Field(None, **NATIONAL_CODE)
    mobile: Optional[str] = Field(None, **MOBILE)


# --- helpers ---------------------------------------------------------------------------------

def _target(p: Recipient, *, required: bool = True) -> Optional[Target]:
    """An email, or a national code and mobile number, from the parameters."""
    if p.email:
        return verification.email_target(p.email)
    if p.mobile:
        return verification.mobile_target(p.national_code, p.mobile)
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

class PublicCodeRequest(Recipient):
    type: str = Field(description="REGISTER or FIND_PASSWORD", **CODE_TYPE)


@endpoint("/api/common/send_verify_code", params=PublicCodeRequest, access=PUBLIC, post_only=True,
          summary="Send a REGISTER or FIND_PASSWORD code to an email or mobile number")
def send_public_verify_code(ctx: Context):
    p: PublicCodeRequest = ctx.args
    answer = account_security.send_public_code(ctx.org_id, p.type, _target(p), ip=ctx.client.ip)
    return {"orderId": answer["order_id"], "expiresIn": answer["expires_in"], "channel": answer["channel"]}


class UserCodeRequest(Recipient):
    """`email` or `national_code` + `mobile`: the new address of BIND_EMAIL / BIND_MOBILE."""

    type: str = Field(description=f"one of {', '.join(verification.PURPOSES)}", **CODE_TYPE)
    auth_type: Optional[str] = Field(None, max_length=16, pattern=r"^[A-Za-z0-9]+$",
                                     description="where other types go: email (the default) or mobile")


@endpoint("/api/user/send_verify_code", params=UserCodeRequest, access=WRITE,
          summary="Send a code to the user's own email or mobile, or to a new one being bound")
def send_user_verify_code(ctx: Context):
    """Codes for a logged-in user: BIND_EMAIL / BIND_MOBILE to the new address, every other
    type to the user's own email or mobile (`auth_type`: email | mobile)."""
    p: UserCodeRequest = ctx.args
    answer = account_security.send_user_code(ctx.principal, p.type, target=_target(p, required=False),
                                             channel=p.auth_type, ip=ctx.client.ip)
    return {"orderId": answer["order_id"], "expiresIn": answer["expires_in"], "channel": answer["channel"]}


# --- sign-up, login, sessions ------------------------------------------------------------------

class EmailSignUp(UserParams):
    email: str = Field(**EMAIL)
    password: str = Field(**NEW_PASSWORD)
    verify_code: str = Field(**VERIFY_CODE)
    order_id: str = Field(**CODE_ORDER_ID)
    invite_code: Optional[str] = Field(None, **INVITE_CODE)
    token_for: Optional[str] = Field(None, **TOKEN_FOR)


class MobileSignUp(UserParams):
    national_code: str = Field(**NATIONAL_CODE)
    mobile: str = Field(**MOBILE)
    password: str = Field(**NEW_PASSWORD)
    verify_code: str = Field(**VERIFY_CODE)
    order_id: str = Field(**CODE_ORDER_ID)
    invite_code: Optional[str] = Field(None, **INVITE_CODE)
    token_for: Optional[str] = Field(None, **TOKEN_FOR)


def _sign_up(ctx: Context, p: EmailSignUp | MobileSignUp, target: Target) -> Response:
    issued = account_security.sign_up(ctx.org_id, target, password=p.password, verify_code=p.verify_code,
                                      order_id=p.order_id, invite_code=p.invite_code, client=ctx.client)
    return _session_answer(issued)


@endpoint("/api/user/email_sign_up", params=EmailSignUp, access=PUBLIC, post_only=True,
          summary="Sign up with an email and its REGISTER code; opens a session")
def email_sign_up(ctx: Context):
    p: EmailSignUp = ctx.args
    return _sign_up(ctx, p, verification.email_target(p.email))


@endpoint("/api/user/mobile_sign_up", params=MobileSignUp, access=PUBLIC, post_only=True,
          summary="Sign up with a mobile number and its REGISTER code; opens a session")
def mobile_sign_up(ctx: Context):
    p: MobileSignUp = ctx.args
    return _sign_up(ctx, p, verification.mobile_target(p.national_code, p.mobile))


class Login(UserParams):
    """The login name is `username`, `email` or `mobile` (the first given)."""

    username: Optional[str] = Field(None, max_length=254, description="an email or a mobile number")
    email: Optional[str] = Field(None, max_length=254)
    mobile: Optional[str] = Field(None, max_length=40)
    national_code: Optional[str] = Field(None, **NATIONAL_CODE)
    password: str = Field(**PASSWORD)
    ga_code: Optional[str] = Field(None, max_length=16,
                                   description="with GA bound: the code now, or later in authorize_advance")
    token_for: Optional[str] = Field(None, **TOKEN_FOR)


@endpoint(["/api/user/authorize", "/api/user/email_authorize", "/api/user/mobile_authorize"], params=Login,
          access=PUBLIC, post_only=True)
def authorize(ctx: Context):
    """Password login; with GA bound either `ga_code` here or `authorize_advance` next."""
    p: Login = ctx.args
    login_name = p.username or p.email or p.mobile
    outcome = sessions.login(ctx.org_id, login_name or "", p.password, national_code=p.national_code,
                             ga_code=p.ga_code, client=ctx.client)
    return _login_answer(outcome)


class LoginSecondStep(UserParams):
    request_id: str = Field(max_length=64, pattern=r"^[A-Za-z0-9_\-]+$",
                            description="the `requestId` of the login answer that asked for the GA code")
    ga_code: str = Field(**GA_CODE)


@endpoint("/api/user/authorize_advance", params=LoginSecondStep, access=PUBLIC, post_only=True,
          summary="Finish a login with GA bound: its request id and a GA code; opens a session")
def authorize_advance(ctx: Context):
    p: LoginSecondStep = ctx.args
    return _session_answer(sessions.complete_login(ctx.org_id, p.request_id, p.ga_code, client=ctx.client))


@endpoint(["/api/user/authorize_cancel", "/api/user/logout"], params=NoParams, access=WRITE,
          summary="Log out: end this session")
def authorize_cancel(ctx: Context):
    sessions.logout(ctx.principal)
    return _logged_out({"success": True})


class LoginHistory(UserParams):
    from_id: Optional[int] = Field(None, ge=1, le=MAX_ID, description="only attempts older than this id")
    limit: int = Field(20, ge=1, le=100)


@endpoint("/api/user/authorize_log", params=LoginHistory, access=READ,
          summary="The user's login attempts, newest first")
def authorize_log(ctx: Context):
    p: LoginHistory = ctx.args
    return wire.camel(sessions.login_history(ctx.org_id, ctx.uid, before_id=p.from_id, limit=p.limit))


@endpoint("/api/user/sessions", params=NoParams, access=READ, summary="The user's open sessions")
def list_sessions(ctx: Context):
    return wire.camel(sessions.list_sessions(ctx.org_id, ctx.uid, current_hash=ctx.principal.session.token_hash))


class RevokeSession(UserParams):
    session_id: str = Field(pattern=ID_PATTERN, description="the `sessionId` of one of the user's sessions")


@endpoint("/api/user/session/revoke", params=RevokeSession, access=WRITE, summary="End one of the user's sessions")
def revoke_session(ctx: Context):
    sessions.revoke(ctx.org_id, ctx.uid, ctx.args.session_id)
    return {"success": True}


@endpoint("/api/user/session/revoke_others", params=NoParams, access=WRITE,
          summary="End every session of the user but this one")
def revoke_other_sessions(ctx: Context):
    ended = sessions.revoke_all(ctx.org_id, ctx.uid, keep_hash=ctx.principal.session.token_hash)
    return {"success": True, "revoked": ended}


# --- passwords -----------------------------------------------------------------------------------

class FindPassword(Recipient):
    """The account's `email`, or `national_code` + `mobile`, with its FIND_PASSWORD code."""

    verify_code: str = Field(**VERIFY_CODE)
    order_id: str = Field(**CODE_ORDER_ID)
    password: str = Field(**NEW_PASSWORD)
    ga_code: Optional[str] = Field(None, **GA_CODE_IF_BOUND)


@endpoint(["/api/user/find_pwd", "/api/user/reset_pwd"], params=FindPassword, access=PUBLIC, post_only=True,
          summary="Reset a forgotten password with a FIND_PASSWORD code; ends every session")
def find_password(ctx: Context):
    p: FindPassword = ctx.args
    account_security.reset_password(ctx.org_id, _target(p), verify_code=p.verify_code, order_id=p.order_id,
                                    password=p.password, ga_code=p.ga_code)
    return {"success": True}


class ChangePassword(UserParams):
    old_password: str = Field(**PASSWORD)
    password: str = Field(**NEW_PASSWORD)
    ga_code: Optional[str] = Field(None, **GA_CODE_IF_BOUND)


@endpoint("/api/user/update_pwd", params=ChangePassword, access=WRITE,
          summary="Change the password; ends every session, this one too")
def update_password(ctx: Context):
    """Ends every session, this one too: log in again with the new password."""
    p: ChangePassword = ctx.args
    account_security.change_password(ctx.principal, p.old_password, p.password, ga_code=p.ga_code)
    return _logged_out({"success": True})


# --- profile, settings ------------------------------------------------------------------------------

@endpoint("/api/user/get_base_info", params=NoParams, access=READ, summary="The session user")
def get_base_info(ctx: Context):
    return wire.user(ctx.user)


@endpoint("/api/user/get_settings", params=NoParams, access=READ, summary="The user's client settings")
def get_settings(ctx: Context):
    return {"settings": content.settings(ctx.uid)}


# as text: room beyond the stored limit for the nulls that remove settings
SettingsText = Annotated[str, Field(max_length=2 * content.MAX_SETTINGS_BYTES)]


class SettingsChange(UserParams):
    settings: Optional[Union[dict[str, Any], SettingsText]] = Field(
        None, description="a flat JSON object (as text in a form) of names to strings, numbers or booleans, "
                          "merged into the settings; null removes a name")


@endpoint("/api/user/set_settings", params=SettingsChange, access=WRITE,
          summary="Merge changes into the user's client settings")
def set_settings(ctx: Context):
    """`settings`: a JSON object (in a JSON body, or as JSON text in a form field)."""
    changes = ctx.args.settings
    if isinstance(changes, str):
        try:
            changes = json.loads(changes)
        except ValueError:
            raise InvalidParameter("settings", "Settings must be a JSON object") from None
    return {"settings": content.update_settings(ctx.uid, changes)}


class AntiPhishingCode(UserParams):
    anti_phishing_code: str = Field(max_length=20, description="the text every message from the broker starts with")
    ga_code: Optional[str] = Field(None, **GA_CODE_IF_BOUND)


@endpoint("/api/user/edit_anti_phishing_code", params=AntiPhishingCode, access=WRITE,
          summary="Set the anti-phishing code")
def edit_anti_phishing_code(ctx: Context):
    p: AntiPhishingCode = ctx.args
    account_security.set_anti_phishing_code(ctx.principal, p.anti_phishing_code, ga_code=p.ga_code)
    return {"success": True}


# --- GA ----------------------------------------------------------------------------------------------

@endpoint("/api/user/before_bind_ga", params=NoParams, access=WRITE,
          summary="A new authenticator key to bind (its secret and QR code URI)")
def before_bind_ga(ctx: Context):
    return wire.camel(account_security.before_bind_ga(ctx.principal))


class BindGa(UserParams):
    ga_code: str = Field(max_length=16, description="a code of the key before_bind_ga answered")


@endpoint("/api/user/bind_ga", params=BindGa, access=WRITE, summary="Bind the new authenticator key with a code of it")
def bind_ga(ctx: Context):
    account_security.bind_ga(ctx.principal, ctx.args.ga_code)
    return {"success": True}


@endpoint("/api/user/before_alter_ga", params=NoParams, access=WRITE,
          summary="A new authenticator key to replace the bound one")
def before_alter_ga(ctx: Context):
    return wire.camel(account_security.before_alter_ga(ctx.principal))


class AlterGa(UserParams):
    old_ga_code: Optional[str] = Field(None, max_length=16, description="a code of the bound key")
    origin_ga_code: Optional[str] = Field(None, max_length=16, description="the same as `old_ga_code`")
    ga_code: str = Field(max_length=16, description="a code of the key before_alter_ga answered")


@endpoint("/api/user/alter_ga", params=AlterGa, access=WRITE,
          summary="Replace the bound authenticator key with codes of the old and new keys")
def alter_ga(ctx: Context):
    p: AlterGa = ctx.args
    account_security.alter_ga(ctx.principal, p.old_ga_code or p.origin_ga_code, p.ga_code)
    return {"success": True}


class UnbindGa(UserParams):
    ga_code: str = Field(**GA_CODE)
    password: str = Field(**PASSWORD)


@endpoint("/api/user/unbind_ga", params=UnbindGa, access=WRITE,
          summary="Remove the authenticator with a code of it and the password")
def unbind_ga(ctx: Context):
    p: UnbindGa = ctx.args
    account_security.unbind_ga(ctx.principal, p.ga_code, p.password)
    return {"success": True}


# --- email and mobile --------------------------------------------------------------------------------

class BindEmail(UserParams):
    email: str = Field(**EMAIL)
    verify_code: str = Field(**VERIFY_CODE)
    order_id: str = Field(**CODE_ORDER_ID)
    ga_code: Optional[str] = Field(None, **GA_CODE_IF_BOUND)


@endpoint("/api/user/bind_email", params=BindEmail, access=WRITE,
          summary="Bind an email to an account without one, with its BIND_EMAIL code")
def bind_email(ctx: Context):
    p: BindEmail = ctx.args
    user = account_security.bind_email(ctx.principal, verification.email_target(p.email), verify_code=p.verify_code,
                                       order_id=p.order_id, ga_code=p.ga_code)
    return wire.user(user)


class BindMobile(UserParams):
    national_code: str = Field(**NATIONAL_CODE)
    mobile: str = Field(**MOBILE)
    verify_code: str = Field(**VERIFY_CODE)
    order_id: str = Field(**CODE_ORDER_ID)
    ga_code: Optional[str] = Field(None, **GA_CODE_IF_BOUND)


@endpoint("/api/user/bind_mobile", params=BindMobile, access=WRITE,
          summary="Bind a mobile number to an account without one, with its BIND_MOBILE code")
def bind_mobile(ctx: Context):
    p: BindMobile = ctx.args
    user = account_security.bind_mobile(ctx.principal, verification.mobile_target(p.national_code, p.mobile),
                                        verify_code=p.verify_code, order_id=p.order_id, ga_code=p.ga_code)
    return wire.user(user)


# --- KYC -----------------------------------------------------------------------------------------------

@endpoint(["/api/user/verify_info", "/api/user/kyc/info"], params=NoParams, access=READ,
          summary="The user's KYC level and latest application")
def kyc_info(ctx: Context):
    return wire.camel(kyc.status(ctx.org_id, ctx.uid))


@endpoint("/api/user/kyclevel", params=NoParams, access=READ, summary="The user's KYC level and what each level needs")
def kyc_levels(ctx: Context):
    return wire.camel({"kyc_level": ctx.user.kyc_level, "levels": kyc.levels()})


class KycBasic(UserParams):
    country_code: str = Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166 alpha-2 country code")
    first_name: str = Field(max_length=64)
    last_name: str = Field(max_length=64)
    card_type: int = Field(ge=1, le=5, json_schema_extra={"enum": sorted(kyc.CARD_TYPES)},
                           description=", ".join(f"{kind} {name}" for kind, name in kyc.CARD_TYPES.items()))
    card_no: str = Field(max_length=64, pattern=r"^[A-Za-z0-9\s]+$",
                         description="the card's number: 4 to 40 letters and digits (spaces are ignored)")


@endpoint("/api/user/kyc/basicverify", params=KycBasic, access=WRITE,
          summary="Apply for KYC level 1 with basic information")
def kyc_basic(ctx: Context):
    p: KycBasic = ctx.args
    return wire.camel(kyc.submit_basic(ctx.org_id, ctx.uid, country_code=p.country_code, first_name=p.first_name,
                                       last_name=p.last_name, card_type=p.card_type, card_no=p.card_no))


DocumentKind = Literal["card_front", "card_back", "card_hand", "face", "address_proof"]  # kyc.DOCUMENTS's kinds


class KycUpload(UserParams):
    type: DocumentKind = Field(description="the document the image is")
    content_type: Optional[str] = Field(
        None, max_length=64, pattern=r"^[A-Za-z0-9.+\-]+/[A-Za-z0-9.+\-]+$",
        description=f"one of {', '.join(kyc.IMAGE_TYPES)} (default image/jpeg); "
                    "application/pdf too for address_proof")


@endpoint("/api/user/verify/upload_image", params=KycUpload, access=WRITE,
          summary="A presigned form to upload one KYC document image")
def kyc_upload_form(ctx: Context):
    """A presigned S3 POST form: send the file with these fields to `url`, then name `key`
    in `kyc/photoverify`."""
    p: KycUpload = ctx.args
    return wire.camel(kyc.upload_form(ctx.org_id, ctx.uid, p.type, p.content_type))


UPLOAD_KEY = dict(max_length=256, description="the `key` of an uploaded upload_image form")


class KycDocuments(UserParams):
    """Level 2 names card_front, card_back and card_hand; level 3 face and address_proof."""

    level: int = Field(2, ge=2, le=3)
    card_front: Optional[str] = Field(None, **UPLOAD_KEY)
    card_back: Optional[str] = Field(None, **UPLOAD_KEY)
    card_hand: Optional[str] = Field(None, **UPLOAD_KEY)
    face: Optional[str] = Field(None, **UPLOAD_KEY)
    address_proof: Optional[str] = Field(None, **UPLOAD_KEY)


@endpoint("/api/user/kyc/photoverify", params=KycDocuments, access=WRITE,
          summary="Apply for KYC level 2 or 3 with uploaded document images")
def kyc_documents(ctx: Context):
    p: KycDocuments = ctx.args
    return wire.camel(kyc.submit_documents(ctx.org_id, ctx.uid, p.level,
                                           {name: getattr(p, name) for name in kyc.DOCUMENTS[p.level]}))


# --- OpenAPI keys ----------------------------------------------------------------------------------------

IP_WHITE_LIST = dict(description=f"IP addresses or networks (CIDR) the key may be used from, at most "
                                 f"{api_keys.MAX_WHITELIST}; none: from anywhere (read-only keys only)")
IpList = comma_list(Annotated[str, Field(max_length=64)], api_keys.MAX_WHITELIST)


class OwnKey(SecondFactor):
    """One of the user's keys: `api_key`, or its `api_key_id`."""

    api_key: Optional[str] = Field(None, pattern=rf"^[A-Za-z0-9]{{{api_keys.KEY_LENGTH}}}$")
    api_key_id: Optional[str] = Field(None, pattern=ID_PATTERN, description="the key's `id` in api_keys")


def _own_key(ctx: Context) -> str:
    """The key's name from `api_key`, or its numeric `api_key_id`, among the user's own keys."""
    p: OwnKey = ctx.args
    if p.api_key:
        return p.api_key
    if not p.api_key_id:
        raise MissingParameter("api_key")
    for view in api_keys.list_user_keys(ctx.org_id, ctx.uid):
        if view.key_id == p.api_key_id:
            return view.api_key
    raise NotFound("API key not found")


@endpoint("/api/user/api_keys", params=NoParams, access=READ, summary="The user's OpenAPI keys, without secrets")
def list_api_keys(ctx: Context):
    return [wire.api_key(view) for view in api_keys.list_user_keys(ctx.org_id, ctx.uid)]


class CreateApiKey(SecondFactor):
    """The second factor's code is of type CREATE_API_KEY."""

    type: int = Field(1, ge=0, le=1, description="0 read-only, 1 trade")
    tag: Optional[str] = Field(None, max_length=api_keys.MAX_LABEL, description="the key's label")
    ip_white_list: Optional[IpList] = Field(None, **IP_WHITE_LIST)
    client_order_id: Optional[str] = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$",
                                           description="a retry with the same id answers the same key, "
                                                       "without its secret")


@endpoint("/api/user/api_key/create", params=CreateApiKey, access=WRITE,
          summary="Create an OpenAPI key; its secret is shown once")
def create_api_key(ctx: Context):
    """`type` 0 read-only / 1 trade, `tag`, `ip_white_list` (comma-separated), the second
    factor (`ga_code`, or `verify_code` + `order_id` of type CREATE_API_KEY) and
    `client_order_id` (a retry answers the same key, without its secret)."""
    p: CreateApiKey = ctx.args
    operation = p.client_order_id or f"auto-{new_id()}"
    verification.require_second_factor(ctx.user, "CREATE_API_KEY", **ctx.second_factor(),
                                       operation=f"apikey:{operation}")
    view, secret = api_keys.create_user_key(ctx.org_id, ctx.uid, key_type=p.type, label=p.tag,
                                            ip_whitelist=p.ip_white_list or [], operation_id=operation)
    account_security.notify(ctx.user, "CREATE_API_KEY_SUCCESS", "API key created",
                            f"An API key '{view.label}' was created for your account.")
    return wire.api_key(view, secret)


class ApiKeyIps(OwnKey):
    """The second factor's code is of type MODIFY_API_KEY."""

    ip_white_list: Optional[IpList] = Field(None, **IP_WHITE_LIST)


@endpoint("/api/user/api_key/update_ips", params=ApiKeyIps, access=WRITE,
          summary="Replace the IP whitelist of one of the user's keys")
def update_api_key_ips(ctx: Context):
    p: ApiKeyIps = ctx.args
    api_key = _own_key(ctx)
    verification.require_second_factor(ctx.user, "MODIFY_API_KEY", **ctx.second_factor(),
                                       operation=f"apikey-ips:{api_key}:{new_id()}")
    return wire.api_key(api_keys.set_user_key_ips(ctx.org_id, ctx.uid, api_key, p.ip_white_list or []))


class ApiKeyStatus(OwnKey):
    """The second factor's code is of type MODIFY_API_KEY."""

    status: int = Field(ge=0, le=1, description="1 enables the key, 0 disables it")


@endpoint("/api/user/api_key/change_status", params=ApiKeyStatus, access=WRITE,
          summary="Enable or disable one of the user's keys")
def change_api_key_status(ctx: Context):
    """`status` 1 enables, 0 disables."""
    p: ApiKeyStatus = ctx.args
    api_key = _own_key(ctx)
    verification.require_second_factor(ctx.user, "MODIFY_API_KEY", **ctx.second_factor(),
                                       operation=f"apikey-status:{api_key}:{new_id()}")
    return wire.api_key(api_keys.set_user_key_enabled(ctx.org_id, ctx.uid, api_key, bool(p.status)))


class DeleteApiKey(OwnKey):
    """The second factor's code is of type DELETE_API_KEY."""


@endpoint("/api/user/api_key/delete", params=DeleteApiKey, access=WRITE, summary="Delete one of the user's keys")
def delete_api_key(ctx: Context):
    api_key = _own_key(ctx)
    verification.require_second_factor(ctx.user, "DELETE_API_KEY", **ctx.second_factor(),
                                       operation=f"apikey-delete:{api_key}:{new_id()}")
    api_keys.delete_user_key(ctx.org_id, ctx.uid, api_key)
    return {"success": True}


# --- favorites, invitations ----------------------------------------------------------------------------

SymbolList = comma_list(Annotated[str, Field(max_length=32, pattern=r"^[A-Za-z0-9_]+$")], content.MAX_FAVORITES)


class FavoriteSymbols(UserParams):
    symbol_id: Optional[SymbolList] = Field(None, description="symbols, e.g. BTCUSDT,ETHUSDT")
    symbol: Optional[SymbolList] = Field(None, description="the same as `symbol_id`")


def _symbols(p: FavoriteSymbols) -> list[str]:
    return [symbol.upper() for symbol in p.symbol_id or p.symbol or []]


@endpoint(["/api/user/favorite/list", "/api/user/favorite"], params=NoParams, access=READ,
          summary="The user's favorite symbols")
def favorite_list(ctx: Context):
    return [{"symbolId": symbol} for symbol in content.favorites(ctx.org_id, ctx.uid)]


@endpoint("/api/user/favorite/create", params=FavoriteSymbols, access=WRITE,
          summary="Add symbols to the user's favorites")
def favorite_create(ctx: Context):
    return [{"symbolId": symbol} for symbol in content.add_favorites(ctx.org_id, ctx.uid, _symbols(ctx.args))]


@endpoint("/api/user/favorite/cancel", params=FavoriteSymbols, access=WRITE,
          summary="Remove symbols from the user's favorites")
def favorite_cancel(ctx: Context):
    return [{"symbolId": symbol} for symbol in content.remove_favorites(ctx.org_id, ctx.uid, _symbols(ctx.args))]


@endpoint("/api/invitation/info", params=NoParams, access=READ,
          summary="The user's invite code, inviter and number of invitees")
def invitation_info(ctx: Context):
    return wire.camel(account_security.invite_info(ctx.principal))


class InviteeList(UserParams):
    limit: int = Field(100, ge=1, le=500)


@endpoint("/api/invitation/list", params=InviteeList, access=READ, summary="Users the user invited, newest first")
def invitation_list(ctx: Context):
    return [{"userId": u.uid, "registerDate": str(u.created_at), "email": wire.mask_email(u.email),
             "mobile": wire.mask_mobile(u.mobile), "kycLevel": u.kyc_level}
            for u in account_security.invitees(ctx.principal, limit=ctx.args.limit)]
