"""Users: search, detail, freezes (login, trading, withdrawals), second factor, API keys."""
from __future__ import annotations

from typing import Optional

from pydantic import Field

from chalicelib.api.admin.http import AdminContext, action
from chalicelib.api.admin.shapes import Operation, PageParams, Params, page
from chalicelib.services import admin_users, login_guard, org_users

UID = Field(min_length=1, max_length=32, pattern=r"^\d+$")


class SearchParams(PageParams):
    uid: Optional[str] = Field(None, max_length=32, pattern=r"^\d+$")
    email: Optional[str] = Field(None, max_length=254)
    mobile: Optional[str] = Field(None, max_length=32)
    national_code: Optional[str] = Field(None, max_length=8)


class UserParams(Params):
    uid: str = UID


class FreezeParams(Operation):
    uid: str = UID
    frozen: bool


class TradeFreezeParams(FreezeParams):
    symbol: Optional[str] = Field(None, max_length=32, description="one symbol; absent: every symbol")


class WithdrawFreezeParams(Params):
    uid: str = UID
    frozen: bool


class KeyParams(Params):
    uid: str = UID
    api_key: Optional[str] = Field(None, max_length=128, description="one key; absent: every key of the user")


@action("users/search", permission="users.read", params=SearchParams, mutating=False,
        summary="Find users by uid, email or mobile (exact), or page through all")
def search(ctx: AdminContext, p: SearchParams):
    found = admin_users.search(ctx.org_id, uid=p.uid, email=p.email, mobile=p.mobile, national_code=p.national_code)
    return page(found, p.current, p.page_size)


@action("users/detail", permission="users.read", params=UserParams, mutating=False,
        summary="Profile, assets, KYC, login history and lock, API keys, freezes")
def detail(ctx: AdminContext, p: UserParams):
    return admin_users.detail(ctx.org_id, p.uid)


def _freeze_change(ctx: AdminContext, uid: str, change) -> dict:
    before = org_users.freeze_view(org_users.freeze_state(ctx.org_id, uid))
    after = change()
    ctx.audit(target=f"user:{uid}", before=before, after=after)
    return after


@action("users/freeze_login", permission="users.write", params=FreezeParams,
        summary="Freeze (sessions end) or unfreeze a user's login")
def freeze_login(ctx: AdminContext, p: FreezeParams):
    return _freeze_change(ctx, p.uid, lambda: admin_users.freeze_login(ctx.org_id, p.uid, p.frozen, p.operation_id))


@action("users/freeze_trade", permission="users.write", params=TradeFreezeParams,
        summary="Freeze or unfreeze a user's trading on one symbol or all")
def freeze_trade(ctx: AdminContext, p: TradeFreezeParams):
    return _freeze_change(ctx, p.uid, lambda: admin_users.freeze_trade(ctx.org_id, p.uid, p.frozen, p.symbol,
                                                                       p.operation_id))


@action("users/freeze_withdraw", permission="users.write", params=WithdrawFreezeParams,
        summary="Freeze or unfreeze a user's withdrawals (balances stay)")
def freeze_withdraw(ctx: AdminContext, p: WithdrawFreezeParams):
    return _freeze_change(ctx, p.uid, lambda: admin_users.freeze_withdraw(ctx.org_id, p.uid, p.frozen))


@action("users/unlock_login", permission="users.write", params=UserParams,
        summary="End a failed-login lock of a user")
def unlock_login(ctx: AdminContext, p: UserParams):
    before = login_guard.lock_status(ctx.org_id, p.uid)
    after = login_guard.unlock(ctx.org_id, p.uid)
    ctx.audit(target=f"user:{p.uid}", before=before, after=after)
    return after


@action("users/reset_second_factor", permission="users.write", params=UserParams,
        summary="Unbind a user's Google Authenticator (they bind again)")
def reset_second_factor(ctx: AdminContext, p: UserParams):
    after = admin_users.reset_second_factor(ctx.org_id, p.uid)
    ctx.audit(target=f"user:{p.uid}", before={"ga_bound": True}, after={"ga_bound": after["ga_bound"]})
    return after


@action("users/disable_api_keys", permission="users.write", params=KeyParams,
        summary="Disable one API key of a user, or all of them")
def disable_api_keys(ctx: AdminContext, p: KeyParams):
    before = admin_users.keys_of(ctx.org_id, p.uid)
    changed = admin_users.disable_api_keys(ctx.org_id, p.uid, p.api_key)
    ctx.audit(target=f"user:{p.uid}", before=before, after=admin_users.keys_of(ctx.org_id, p.uid))
    return {"list": changed}
