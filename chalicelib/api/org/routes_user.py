"""3.2 Users of the org, by uid."""
from __future__ import annotations

from typing import Optional

from pydantic import Field, field_validator, model_validator

from chalicelib.api.org import shapes
from chalicelib.api.org.http import ASSET, OrgRequest, endpoint
from chalicelib.api.org.params import (
    Flag, Id, Integer, Listing, OneUser, OrgParams, Uid, Uplink, UserListing, invalid, missing, named, page_size,
)
from chalicelib.domain.errors import InvalidParameter, MissingParameter, NotFound
from chalicelib.services import api_keys, org_users, sessions, users

FAVORITE_ACTIONS = ("add", "remove", "cancel", "create")


class Register(Uplink):
    """A user named by an email, or by a national code and a mobile number."""

    email: Optional[str] = None
    national_code: Optional[str] = Field(None, description="the mobile number's country calling code")
    mobile: Optional[str] = None
    password: Optional[str] = None
    invite_code: Optional[str] = Field(None, description="the inviter's invite code")


class Login(OrgParams):
    """A password login, or its second step: `request_id` with `ga_code`."""

    username: Optional[str] = named("username", "email", "mobile", default=None,
                                       description="the user's email or mobile number")
    password: Optional[str] = None
    national_code: Optional[str] = None
    ga_code: Optional[str] = Field(None, description="the user's TOTP code when they bound one")
    request_id: Optional[str] = Field(None, description="the first step's `request_id`")
    ip: Optional[str] = Field(None, description="the user's address, for the login history")
    user_agent: Optional[str] = None
    token_for: Optional[str] = Field(None, description="the session's client kind (default PC)")

    @model_validator(mode="after")
    def _someone(self):
        if not self.username and not self.request_id:
            raise missing("username")
        return self


class InfoUpdate(Uplink):
    """Any of the profile fields; an empty value removes it (passwords cannot be removed)."""

    uid: Uid = named("uid", "user_id")
    password: Optional[str] = None
    trade_password: Optional[str] = None
    ga_secret: Optional[str] = Field(None, description="base32 TOTP secret; empty unbinds")
    email: Optional[str] = None
    national_code: Optional[str] = None
    mobile: Optional[str] = None
    anti_phishing_code: Optional[str] = None


class KycUpdate(Uplink):
    uid: Uid = named("uid", "user_id")
    country_code: str = Field(description="ISO 3166 alpha-2")
    first_name: str
    last_name: str
    card_type: Optional[Integer] = Field(None, description="1 ID card, 2 driving licence, 3 passport, 5 other "
                                                           "(default 1)")
    card_no: str
    kyc_level: Optional[Integer] = named("kyc_level", "level", default=None)
    verify_status: Optional[Integer] = Field(None, description="0-3 (default 1: pending)")


class KycVerdict(Uplink):
    passed: Flag = named("passed", "pass")
    uid: Uid = named("uid", "user_id")
    kyc_level: Optional[Integer] = named("kyc_level", "level", default=None)
    reason: Optional[str] = None


class LoginHistory(UserListing):
    from_id: Optional[Id] = Field(None, description="only entries older than this id")
    limit: Optional[page_size(20, 100)] = None


class InviteList(UserListing):
    from_id: Optional[Uid] = Field(None, description="only users after this uid")
    limit: Optional[page_size(20, 500)] = None


class LoginFreeze(Uplink):
    frozen: Flag
    uid: Uid = named("uid", "user_id")


class FrozenList(Listing):
    from_id: Optional[Uid] = Field(None, description="only users after this uid")
    limit: Optional[page_size(20, 500)] = None


class FavoriteUpdate(Uplink):
    action: Optional[str] = Field(None, description="add (default) or remove",
                                  json_schema_extra={"enum": list(FAVORITE_ACTIONS)})
    uid: Uid = named("uid", "user_id")
    symbol_id: str

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value.strip().lower() not in FAVORITE_ACTIONS:
            raise invalid("action must be add or remove")
        return value


class KeyCreation(Uplink):
    key_type: Optional[Integer] = named("key_type", "account_type", description="0 read, 1 trade (default)",
                                        default=None)
    uid: Uid = named("uid", "user_id")
    label: Optional[str] = None
    ip_whitelist: Optional[str] = Field(None, description="comma-separated addresses")


class Notice(Uplink):
    uid: Uid = named("uid", "user_id")
    channel: Optional[str] = Field(None, description="push (default), email or sms")
    title: str
    content: str


def _user_view(org_id: str, user: users.User) -> dict:
    inviter = None
    if user.inviter_uid:
        try:
            inviter = users.get_user(org_id, user.inviter_uid)
        except NotFound:
            inviter = None
    return shapes.user(user, kyc=org_users.kyc_view(org_users.kyc_of(user.uid)), inviter=inviter)


@endpoint(["/user/registerUser", "/user/register"], level=ASSET, params=Register, summary="Register a user")
def org_user_register(request: OrgRequest):
    user = org_users.register(
        request.org_id, email=request.get("email"), national_code=request.get("national_code"),
        mobile=request.get("mobile"), password=request.get("password"), invite_code=request.get("invite_code"),
        operation_id=request.operation_id())
    return _user_view(request.org_id, user)


@endpoint(["/user/login"], level=ASSET, params=Login, summary="Log a user in (a User API session)")
def org_user_login(request: OrgRequest):
    username = request.get("username", "email", "mobile")
    if not username and not request.get("request_id"):
        raise MissingParameter("username")
    client = sessions.ClientInfo(ip=request.text("ip", default=""), user_agent=request.text("user_agent",
                                                                                             default="org-api"),
                                 token_for=request.text("token_for", default="PC"))
    result = org_users.login(request.org_id, username=username, password=request.get("password"),
                             national_code=request.get("national_code"), ga_code=request.get("ga_code"),
                             request_id=request.get("request_id"), client=client)
    if isinstance(result, sessions.PendingSecondFactor):
        return {"need_second_factor": True, "request_id": result.request_id, "expires_in": result.expires_in,
                "user": {"uid": result.user.uid}}
    return {"user": _user_view(request.org_id, result.user), "token": result.token,
            "token_for": result.session.token_for, "session_id": result.session.session_id,
            "expires_at": shapes.seconds(result.session.ends_at)}


@endpoint(["/user/getInfo", "/user/get_base_info"], params=OneUser, summary="A user")
def org_user_get_info(request: OrgRequest):
    return _user_view(request.org_id, org_users.get_user(request.org_id, request.uid()))


_PROFILE_FIELDS = ("password", "trade_password", "ga_secret", "email", "mobile", "anti_phishing_code")


@endpoint(["/user/updateInfo"], level=ASSET, params=InfoUpdate, summary="Change a user's profile")
def org_user_update_info(request: OrgRequest):
    given = {name: request.params[name] for name in _PROFILE_FIELDS if request.present(name)}
    for name in ("password", "trade_password"):
        if name in given and not given[name]:
            raise InvalidParameter(name, "A password can be changed, not removed")
    user = org_users.update_info(request.org_id, request.uid(), national_code=request.get("national_code"),
                                 operation_id=request.operation_id(), **given)
    return _user_view(request.org_id, user)


@endpoint(["/user/updateKYCInfo", "/user/update_user_kyc_info"], level=ASSET, params=KycUpdate,
          summary="Record a user's KYC details")
def org_user_update_kyc_info(request: OrgRequest):
    org_users.update_kyc_info(
        request.org_id, request.uid(), country_code=request.require("country_code"),
        first_name=request.require("first_name"), last_name=request.require("last_name"),
        card_type=request.integer("card_type", default=1), card_no=request.require("card_no"),
        level=request.integer("kyc_level", "level", default=1), verify_status=request.integer("verify_status"),
        operation_id=request.operation_id())
    return _user_view(request.org_id, org_users.get_user(request.org_id, request.uid()))


@endpoint(["/user/verifyKYC"], level=ASSET, params=KycVerdict, summary="Pass or fail a user's KYC")
def org_user_verify_kyc(request: OrgRequest):
    passed = request.flag("passed", "pass")
    if passed is None:
        raise MissingParameter("passed")
    org_users.verify_kyc(request.org_id, request.uid(), passed=passed, level=request.integer("kyc_level", "level"),
                         reason=request.get("reason"), operation_id=request.operation_id())
    return _user_view(request.org_id, org_users.get_user(request.org_id, request.uid()))


@endpoint(["/user/getLoginHistory"], params=LoginHistory, summary="A user's login tries")
def org_user_login_history(request: OrgRequest):
    logs = org_users.login_history(request.org_id, request.uid(), before_id=request.id_param("from_id"),
                                   limit=request.limit(20, 100))
    return shapes.listing(request.list_type(), logs, lambda log: log["id"], lambda log: {**log, "uid": request.uid()})


@endpoint(["/user/getInviteList", "/user/query_user_invite_list"], params=InviteList,
          summary="The users a user invited")
def org_user_invite_list(request: OrgRequest):
    invited = org_users.invite_list(request.org_id, request.uid(), before_uid=request.optional_uid("from_id"),
                                    limit=request.limit(20, 500))
    return shapes.listing(request.list_type(), invited, lambda u: u.uid, shapes.user)


@endpoint(["/user/frozenUser"], level=ASSET, params=LoginFreeze, summary="Freeze or unfreeze a user's login")
def org_user_frozen(request: OrgRequest):
    frozen = request.flag("frozen")
    if frozen is None:
        raise MissingParameter("frozen")
    return org_users.set_login_frozen(request.org_id, request.uid(), frozen=frozen,
                                      operation_id=request.operation_id())


@endpoint(["/user/getFrozenUserList"], params=FrozenList, summary="The org's frozen users")
def org_user_frozen_list(request: OrgRequest):
    states = org_users.frozen_users(request.org_id, before_uid=request.optional_uid("from_id"),
                                    limit=request.limit(20, 500))
    return shapes.listing(request.list_type(), states, lambda s: s.uid, org_users.freeze_view)


@endpoint(["/user/updateFavorite"], level=ASSET, params=FavoriteUpdate, summary="Add or remove a favorite symbol")
def org_user_update_favorite(request: OrgRequest):
    action = request.text("action", default="add").strip().lower()
    if action not in FAVORITE_ACTIONS:
        raise InvalidParameter("action", "action must be add or remove")
    return org_users.update_favorite(request.org_id, request.uid(), symbol=request.require("symbol_id"),
                                     add=action in ("add", "create"), operation_id=request.operation_id())


@endpoint(["/user/getFavoriteList"], params=UserListing, summary="A user's favorite symbols")
def org_user_favorites(request: OrgRequest):
    return shapes.listing(request.list_type(), org_users.favorites(request.org_id, request.uid()),
                          lambda f: f["symbol_id"], lambda f: {**f, "created_at": shapes.seconds(f["created_at"])})


@endpoint(["/user/createOpenAPI"], level=ASSET, params=KeyCreation, summary="Create a User OpenAPI key for a user")
def org_user_create_open_api(request: OrgRequest):
    key_type = request.integer("key_type", "account_type", default=api_keys.USER_TRADE)
    view, secret = org_users.create_open_api(
        request.org_id, request.uid(), key_type=key_type, label=request.get("label"),
        ip_whitelist=request.text("ip_whitelist"), operation_id=request.operation_id())
    answer = {"uid": view.uid, "api_key": view.api_key, "key_id": view.key_id, "key_type": view.key_type,
              "label": view.label, "ip_whitelist": list(view.ip_whitelist), "enabled": view.enabled,
              "created_at": shapes.seconds(view.created_at)}
    if secret is not None:
        answer["secret"] = secret
    return answer


@endpoint(["/user/sendNotice"], level=ASSET, params=Notice, summary="Send a user a notice")
def org_user_send_notice(request: OrgRequest):
    return org_users.send_notice(request.org_id, request.uid(), channel=request.text("channel", default="push"),
                                 title=request.require("title"), content=request.require("content"),
                                 operation_id=request.operation_id())
