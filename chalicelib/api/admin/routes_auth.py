"""Admin login (password, then TOTP when bound), logout, who am I, TOTP binding, own password."""
from __future__ import annotations

from typing import Optional

from pydantic import Field

from chalicelib.api.admin import cookies
from chalicelib.api.admin.http import PUBLIC, SIGNED_IN, AdminContext, action, with_cookies
from chalicelib.api.admin.shapes import Params
from chalicelib.api.admin.views import admin_view, me_view
from chalicelib.domain import passwords
from chalicelib.domain.errors import InvalidCredentials
from chalicelib.services import admin_sessions, admins
from chalicelib.services.sessions import ClientInfo


class LoginParams(Params):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    totp_code: Optional[str] = Field(None, max_length=6)


class LoginTotpParams(Params):
    request_id: str = Field(min_length=1, max_length=128)
    totp_code: str = Field(min_length=1, max_length=6)


class TotpCodeParams(Params):
    totp_code: str = Field(min_length=1, max_length=6)


class PasswordParams(Params):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


def _client(ctx: AdminContext) -> ClientInfo:
    return ClientInfo(ctx.source_ip, (ctx.request.headers.get("user-agent") or "")[:512], "ADMIN")


def _issued(ctx: AdminContext, issued: admin_sessions.Issued):
    ctx.acting_as(issued.admin)
    ctx.audit(target=f"admin:{issued.admin.username}", before=None,
              after={"session_id": issued.session.session_id, "ends_at": issued.session.ends_at})
    return with_cookies({"admin": admin_view(issued.admin), "csrf_token": issued.csrf_token,
                         "expires_in": issued.max_age_seconds},
                        cookies.set_cookies(issued.token, issued.csrf_token, issued.max_age_seconds))


@action("auth/login", permission=PUBLIC, params=LoginParams,
        summary="Log in with username and password (and `totp_code` when TOTP is bound, or finish "
                "with auth/login_totp and the answered request_id)")
def login(ctx: AdminContext, p: LoginParams):
    result = admin_sessions.login(ctx.org_id, p.username, p.password, totp_code=p.totp_code, client=_client(ctx))
    if isinstance(result, admin_sessions.PendingTotp):
        ctx.acting_as(result.admin)
        ctx.audit(target=f"admin:{result.admin.username}", before=None, after={"totp_required": True})
        return {"need_totp": True, "request_id": result.request_id, "expires_in": result.expires_in}
    return _issued(ctx, result)


@action("auth/login_totp", permission=PUBLIC, params=LoginTotpParams,
        summary="Second login step: the request_id from auth/login and a TOTP code")
def login_totp(ctx: AdminContext, p: LoginTotpParams):
    return _issued(ctx, admin_sessions.complete_login(ctx.org_id, p.request_id, p.totp_code, client=_client(ctx)))


@action("auth/logout", permission=SIGNED_IN, summary="End this admin session")
def logout(ctx: AdminContext, p: None):
    admin_sessions.logout(admin_sessions.AdminPrincipal(ctx.session, admins.get_admin(ctx.org_id, ctx.username)))
    ctx.audit(target=f"admin:{ctx.username}", before={"session_id": ctx.session.session_id}, after=None)
    return with_cookies(None, cookies.clear_cookies())


@action("auth/me", permission=SIGNED_IN, mutating=False, summary="The signed-in admin, roles and permissions")
def me(ctx: AdminContext, p: None):
    return me_view(admins.get_admin(ctx.org_id, ctx.username))


@action("auth/totp_bind", permission=SIGNED_IN,
        summary="Start binding TOTP: answers a secret and an otpauth:// URI; confirm with auth/totp_confirm")
def totp_bind(ctx: AdminContext, p: None):
    answer = admin_sessions.begin_totp(admins.get_admin(ctx.org_id, ctx.username))
    ctx.audit(target=f"admin:{ctx.username}", before={"totp_bound": False}, after={"totp_pending": True})
    return answer


@action("auth/totp_confirm", permission=SIGNED_IN, params=TotpCodeParams,
        summary="Finish binding TOTP with a code from the new secret")
def totp_confirm(ctx: AdminContext, p: TotpCodeParams):
    admin = admin_sessions.confirm_totp(admins.get_admin(ctx.org_id, ctx.username), p.totp_code)
    ctx.audit(target=f"admin:{ctx.username}", before={"totp_bound": False}, after={"totp_bound": True})
    return admin_view(admin)


@action("auth/password", permission=SIGNED_IN, params=PasswordParams,
        summary="Change your own password (other sessions of yours end)")
def change_password(ctx: AdminContext, p: PasswordParams):
    if admins.verify_admin_login(ctx.org_id, ctx.username, p.old_password) is None:
        raise InvalidCredentials("Old password is wrong")
    passwords.check_policy(p.new_password)
    admin = admins.set_admin_password(ctx.org_id, ctx.username, p.new_password)
    ctx.audit(target=f"admin:{ctx.username}", before={"password_changed_at": None},
              after={"password_changed_at": admin.password_changed_at})
    return {"relogin": True}
