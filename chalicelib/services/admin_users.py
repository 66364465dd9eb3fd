"""The back office's view of an org's users: search, detail, freezes, second factor, keys.

Freezes go through `org_users` (the Org API's freezes), so both families see one state;
freezing login also ends the user's sessions.
"""
from __future__ import annotations

from typing import Optional

from chalicelib.domain import money
from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.services import api_keys, kyc, ledger, login_guard, org_users, sessions, users

MAX_SCAN = 5000


def user_view(user: users.User) -> dict:
    return {"uid": user.uid, "email": user.email, "national_code": user.national_code, "mobile": user.mobile,
            "kyc_level": user.kyc_level, "login_frozen": user.login_frozen, "trade_frozen": user.trade_frozen,
            "withdraw_frozen": user.withdraw_frozen, "invite_code": user.invite_code,
            "inviter_uid": user.inviter_uid, "account_id": user.main_account_id, "ga_bound": bool(
                user.ga_secret_ciphertext), "created_at": user.created_at, "updated_at": user.updated_at}


def key_view(key: api_keys.ApiKeyView) -> dict:
    return {"api_key": key.api_key, "key_type": key.key_type, "label": key.label, "enabled": key.enabled,
            "ip_whitelist": list(key.ip_whitelist), "created_at": key.created_at}


def search(org_id: str, *, uid: Optional[str] = None, email: Optional[str] = None, mobile: Optional[str] = None,
           national_code: Optional[str] = None) -> list[dict]:
    """Exact matches by uid, email or mobile; without any: the org's users, newest first."""
    if uid:
        try:
            return [user_view(users.get_user(org_id, uid))]
        except NotFound:
            return []
    if email or mobile:
        found = users.find_by_login(org_id, email or mobile, national_code=national_code if mobile else None)
        return [user_view(found)] if found else []
    collected, before = [], None
    while len(collected) < MAX_SCAN:
        page = users.list_users(org_id, limit=500, before_uid=before)
        if not page:
            break
        collected += page
        before = page[-1].uid
    return [user_view(u) for u in collected]


def detail(org_id: str, uid: str) -> dict:
    user = users.get_user(org_id, uid)
    return {"profile": user_view(user),
            "assets": [{"token": b.token, "total": money.text(b.available + b.locked + b.position),
                        "available": money.text(b.available), "locked": money.text(b.locked),
                        "position": money.text(b.position)} for b in ledger.balances(user.main_account_id)],
            "kyc": kyc.status(org_id, uid),
            "login_history": sessions.login_history(org_id, uid, limit=20),
            "login_lock": login_guard.lock_status(org_id, uid),
            "api_keys": [key_view(k) for k in api_keys.list_user_keys(org_id, uid)],
            "freeze": org_users.freeze_view(org_users.freeze_state(org_id, uid))}


def freeze_login(org_id: str, uid: str, frozen: bool, operation_id: str) -> dict:
    state = org_users.set_login_frozen(org_id, uid, frozen=frozen, operation_id=operation_id)
    if frozen:
        sessions.revoke_all(org_id, uid)
    return state


def freeze_trade(org_id: str, uid: str, frozen: bool, symbol: Optional[str], operation_id: str) -> dict:
    return org_users.set_trade_frozen(org_id, uid, frozen=frozen, symbol=symbol, operation_id=operation_id)


def freeze_withdraw(org_id: str, uid: str, frozen: bool) -> dict:
    """Only the withdrawal switch: balances stay where they are (the Org API's asset freeze
    is the one that also locks funds)."""
    users.set_frozen(org_id, uid, withdraw=frozen)
    return org_users.freeze_view(org_users.freeze_state(org_id, uid))


def reset_second_factor(org_id: str, uid: str) -> dict:
    user = users.get_user(org_id, uid)
    if not user.ga_secret_ciphertext:
        raise InvalidParameter("uid", "This user has no second factor bound")
    return user_view(users.set_ga_secret(org_id, uid, None))


def disable_api_keys(org_id: str, uid: str, api_key: Optional[str]) -> list[dict]:
    """Disables one key of the user, or all of them."""
    keys = api_keys.list_user_keys(org_id, uid)
    chosen = [k for k in keys if api_key in (None, k.api_key)]
    if api_key and not chosen:
        raise NotFound("No such API key")
    return [key_view(api_keys.set_user_key_enabled(org_id, uid, k.api_key, False)) for k in chosen]


def keys_of(org_id: str, uid: str) -> list[dict]:
    return [key_view(k) for k in api_keys.list_user_keys(org_id, uid)]
