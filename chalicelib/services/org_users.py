"""The Org API's user operations: an org acting for its own users, by uid only.

Every function takes the org from the caller's credential and the user by uid; a uid of
another org (or none) answers NotFound("User not found"), as a missing one does, so one
org cannot probe another's users. Every uplink takes the caller's operation id and
commits its effect, its events and its idempotency record in one transaction
(`services.idempotency.run`): the same id answers the first result, another payload under
the same id is refused.

Built on `services.users` (registration, look-ups), `services.sessions` (login, login
history), `services.api_keys` (OpenAPI keys), `store.kyc` (the KYC application every
family shares) and `gateways.notifier` (email, SMS). What only the Org API keeps is in
`store.org_users`: what the org froze, favorites.

Freezes (what `getFrozenUserList` lists):
* login (`user/frozenUser`): the user's `login_frozen`; sessions stop at once;
* trading (`trade/frozenUser`): every symbol (the user's `trade_frozen`, honoured by every
  family) or one symbol (kept here; honoured by the Org API's own order placement);
* assets (`account/frozenUser`): per token, an amount moved from available to locked with
  a FREEZE flow (so no family can spend it), remembered per token so an unfreeze never
  releases order or withdrawal holds; "all tokens" freezes every available balance and
  also the user's withdrawals (`withdraw_frozen`), so later deposits cannot leave either.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from decimal import Decimal
from typing import Optional, Union

from chalicelib.domain import ledger as money_rules
from chalicelib.domain import passwords
from chalicelib.domain.custody import Holder
from chalicelib.domain.errors import (
    EmailAlreadyRegistered,
    InvalidParameter,
    MissingParameter,
    NotFound,
    PhoneAlreadyRegistered,
    ServiceUnavailable,
    UnfreezeExceedsFrozen,
)
from chalicelib.domain.events import Event, org_stream, user_stream
from chalicelib.domain.ledger import Movement, Subject
from chalicelib.gateways import kms, notifier
from chalicelib.services import api_keys, catalog, events, idempotency, ledger, oauth_tokens, sessions, users
from chalicelib.store import kyc as kyc_store
from chalicelib.store import org_users as store
from chalicelib.store import orders as order_store
from chalicelib.store import users as user_store
from chalicelib.store.transaction import Transaction

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"^\d+$")
_BASE32 = re.compile(r"^[A-Z2-7]{16,64}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
CARD_TYPES = {1: "ID", 2: "DRIVING_LICENCE", 3: "PASSPORT", 5: "OTHER"}
KYC_STATUSES = (kyc_store.NONE, kyc_store.PENDING, kyc_store.PASSED, kyc_store.REJECTED)
NOTICE_CHANNELS = ("push", "email", "sms")
MAX_INVITE_SCAN = 5000
ORG_ACTOR = "org-api"


def _scope(kind: str, org_id: str) -> str:
    return f"org{kind}:{org_id}"


def _emit_user(tx: Transaction, org_id: str, uid: str, kind: str, payload: dict) -> None:
    tx.emit(Event(org_stream(org_id), kind, {"uid": uid, **payload}, org_id, uid))


# --- registration, login, reads ----------------------------------------------------------------

def register(org_id: str, *, email: Optional[str], national_code: Optional[str], mobile: Optional[str],
             password: Optional[str], invite_code: Optional[str], operation_id: str) -> users.User:
    """A new user (and main account) of the org; emits the registration to the org stream."""
    return users.register_user(org_id, email=email, phone=mobile, national_code=national_code, password=password,
                               invite_code=invite_code, operation_id=operation_id)


def login(org_id: str, *, username: Optional[str], password: Optional[str], national_code: Optional[str] = None,
          ga_code: Optional[str] = None, request_id: Optional[str] = None,
          client: sessions.ClientInfo = sessions.ClientInfo()) -> Union[sessions.Issued, sessions.PendingSecondFactor]:
    """A User API session for the user, by login name and password (the org's back end
    collected them); a user with GA bound also needs `ga_code`, in the same call or in a
    second one with the `request_id` of the first. Not idempotent by operation id: each
    call opens its own session (a session token is never stored to be answered again)."""
    if request_id:
        return sessions.complete_login(org_id, request_id, ga_code, client=client)
    return sessions.login(org_id, username or "", password or "", national_code=national_code, ga_code=ga_code,
                          client=client)


def get_user(org_id: str, uid: str) -> users.User:
    return users.get_user(org_id, uid)


def kyc_of(uid: str) -> Optional[kyc_store.Application]:
    return kyc_store.get(uid)


def login_history(org_id: str, uid: str, *, before_id: Optional[int] = None, limit: int = 20) -> list[dict]:
    return sessions.login_history(org_id, uid, before_id=before_id, limit=limit)


def invite_list(org_id: str, uid: str, *, before_uid: Optional[str] = None, limit: int = 100) -> list[users.User]:
    """Users `uid` invited, newest first. `services.users` has no index by inviter yet, so
    this pages through the org's users (at most MAX_INVITE_SCAN of them)."""
    users.get_user(org_id, uid)
    found: list[users.User] = []
    before, scanned = before_uid, 0
    while scanned < MAX_INVITE_SCAN and len(found) < limit:
        page = users.list_users(org_id, limit=500, before_uid=before)
        if not page:
            break
        scanned += len(page)
        found += [u for u in page if u.inviter_uid == uid]
        before = page[-1].uid
    return found[:limit]


def accounts_of(org_id: str, uid: str) -> list[dict]:
    user = users.get_user(org_id, uid)
    return [{"account_id": user.main_account_id, "account_type": 1, "account_index": 0, "uid": uid}]


def holder(org_id: str, uid: str) -> Holder:
    """Whose deposits and withdrawals: the user's main account, never one named by the caller."""
    user = users.get_user(org_id, uid)
    return Holder(org_id, uid, user.main_account_id)


def same_org_orders(org_id: str, order_ids) -> set[str]:
    """Which of these orders belong to users of the org (a trade's other side may not)."""
    ids = [int(order_id) for order_id in order_ids if str(order_id).isdigit()]
    if not ids:
        return set()
    return {str(order_id) for order_id, stored in order_store.get_many(ids).items() if stored.order.org_id == org_id}


# --- profile -------------------------------------------------------------------------------------

def _normal_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidParameter("email", "Email address is not valid")
    return email


def _normal_phone(national_code: Optional[str], mobile: str) -> tuple[str, str]:
    if not national_code:
        raise MissingParameter("national_code")
    code, number = national_code.strip().lstrip("+"), re.sub(r"[\s-]", "", mobile)
    if not (_DIGITS.match(code) and len(code) <= 4):
        raise InvalidParameter("national_code")
    if not (_DIGITS.match(number) and 4 <= len(number) <= 20):
        raise InvalidParameter("mobile", "Mobile number is not valid")
    return code, number


def update_info(org_id: str, uid: str, *, password: Optional[str] = None, trade_password: Optional[str] = None,
                ga_secret: Optional[str] = None, email: Optional[str] = None, national_code: Optional[str] = None,
                mobile: Optional[str] = None, anti_phishing_code: Optional[str] = None,
                operation_id: str) -> users.User:
    """Sets the login or trade password; sets or (with "") removes GA, email, mobile and
    the anti-phishing code. A user keeps at least one of email and mobile.

    Secrets never enter the idempotency record: a replay with another password under the
    same id answers the first result.
    """
    user = users.get_user(org_id, uid)
    fixed: dict = {}
    if password is not None:
        fixed["password_hash"] = passwords.hash_password(passwords.check_policy(password))
    if trade_password is not None:
        fixed["trade_password_hash"] = passwords.hash_password(passwords.check_policy(trade_password,
                                                                                      "trade_password"))
    if ga_secret is not None:
        secret = ga_secret.strip().replace(" ", "").upper()
        if secret and not _BASE32.match(secret):
            raise InvalidParameter("ga_secret", "GA secret must be 16 to 64 base32 characters")
        fixed["ga_secret"] = kms.encrypt(secret, users._ga_context(user)) if secret else None
    new_email = (_normal_email(email) if email.strip() else "") if email is not None else None
    new_phone = ((_normal_phone(national_code, mobile) if mobile.strip() else ("", "")) if mobile is not None
                 else None)
    if anti_phishing_code is not None:
        code = anti_phishing_code.strip()
        if len(code) > 20:
            raise InvalidParameter("anti_phishing_code")
        fixed["anti_phishing_code"] = code or None
    if not fixed and new_email is None and new_phone is None:
        raise MissingParameter("password", "Nothing to update")
    payload = {"uid": uid, "password": password is not None, "trade_password": trade_password is not None,
               "ga": None if ga_secret is None else bool(fixed["ga_secret"]), "email": new_email,
               "phone": None if new_phone is None else list(new_phone),
               "anti_phishing_code": fixed.get("anti_phishing_code", "") if anti_phishing_code is not None else None}
    changed = sorted({"password_hash": "password", "trade_password_hash": "trade_password", "ga_secret": "ga",
                      "anti_phishing_code": "anti_phishing_code"}[name] for name in fixed)

    def build(tx: Transaction) -> dict:
        current = users.get_user(org_id, uid)
        now = user_store.now_ms()
        changes = dict(fixed)
        names = list(changed)
        if "password_hash" in changes:
            changes["password_changed_at"] = now
        if new_email is not None and (new_email or None) != current.email:
            changes["email"] = new_email or None
            store.stage_lookup_move(tx, uid, user_store.email_key(org_id, current.email) if current.email else None,
                                    user_store.email_key(org_id, new_email) if new_email else None,
                                    EmailAlreadyRegistered)
            names.append("email")
        if new_phone is not None and new_phone != (current.national_code or "", current.mobile or ""):
            changes.update(national_code=new_phone[0] or None, mobile=new_phone[1] or None)
            old_key = user_store.phone_key(org_id, current.national_code, current.mobile) if current.mobile else None
            new_key = user_store.phone_key(org_id, *new_phone) if new_phone[1] else None
            store.stage_lookup_move(tx, uid, old_key, new_key, PhoneAlreadyRegistered)
            names.append("mobile")
        if not changes.get("email", current.email) and not changes.get("mobile", current.mobile):
            raise InvalidParameter("email", "A user keeps at least one of email and mobile")
        store.stage_user_update(tx, org_id, uid, changes)
        _emit_user(tx, org_id, uid, "org.userUpdateInfo", {"changed": sorted(names), "time": now})
        if "password" in names:
            _emit_user(tx, org_id, uid, "org.userUpdatePassword", {"time": now})
        return {"uid": uid, "changed": sorted(names)}

    idempotency.run(_scope("userinfo", org_id), operation_id, payload, build)
    return users.get_user(org_id, uid)


# --- KYC -----------------------------------------------------------------------------------------

def _kyc_context(uid: str) -> dict:
    return {"purpose": "kyc-card", "uid": uid}


def _masked(card_no: str) -> str:
    return card_no[:2] + "*" * max(len(card_no) - 4, 1) + card_no[-2:] if len(card_no) > 4 else "*" * len(card_no)


def kyc_view(application: Optional[kyc_store.Application]) -> dict:
    if application is None:
        return {"verify_status": kyc_store.NONE, "kyc_level": 0}
    basic = application.basic
    return {"verify_status": application.status, "kyc_level": application.level,
            "country_code": basic.get("country_code"), "first_name": basic.get("first_name"),
            "last_name": basic.get("last_name"), "card_type": basic.get("card_type"),
            "card_no": basic.get("card_no_masked"), "reason": application.reason,
            "submitted_at": application.submitted_at, "reviewed_at": application.reviewed_at}


def update_kyc_info(org_id: str, uid: str, *, country_code: str, first_name: str, last_name: str, card_type: int,
                    card_no: str, level: int = 1, verify_status: Optional[int] = None,
                    operation_id: str) -> dict:
    """Records the user's KYC details (pending review unless `verify_status` says 2 passed
    or 3 rejected, BHOP's `update_user_kyc_info`). A pass sets the user's KYC level."""
    users.get_user(org_id, uid)
    country_code = (country_code or "").strip().upper()
    if not _COUNTRY.match(country_code):
        raise InvalidParameter("country_code", "Country code must be ISO 3166 alpha-2")
    first_name, last_name, card_no = (first_name or "").strip(), (last_name or "").strip(), (card_no or "").strip()
    for name, value in (("first_name", first_name), ("last_name", last_name), ("card_no", card_no)):
        if not 1 <= len(value) <= 64:
            raise InvalidParameter(name, f"Parameter '{name}' must be 1 to 64 characters")
    if card_type not in CARD_TYPES:
        raise InvalidParameter("card_type", "Card type must be 1 (ID), 2 (licence), 3 (passport) or 5 (other)")
    if level not in (1, 2, 3):
        raise InvalidParameter("level", "KYC level must be 1, 2 or 3")
    status = kyc_store.PENDING if verify_status is None else verify_status
    if status not in KYC_STATUSES:
        raise InvalidParameter("verify_status", "Verify status must be 0, 1, 2 or 3")
    basic = {"country_code": country_code, "first_name": first_name, "last_name": last_name,
             "card_type": card_type, "card_no_masked": _masked(card_no)}
    payload = {"uid": uid, **basic, "card_no_sha": hashlib.sha256(f"{uid}:{card_no}".encode()).hexdigest()[:16],
               "level": level, "status": status}
    ciphertext = kms.encrypt(card_no, _kyc_context(uid))

    def build(tx: Transaction) -> dict:
        current = kyc_store.get(uid)
        now = kyc_store.now_ms()
        reviewed = status in (kyc_store.PASSED, kyc_store.REJECTED)
        application = kyc_store.Application(
            uid, org_id, level, status, basic, ciphertext, current.documents if current else {}, None,
            ORG_ACTOR if reviewed else None, now, now if reviewed else None, (current.version if current else 0) + 1)
        store.stage_kyc(tx, application, current.version if current else 0)
        if status == kyc_store.PASSED:
            store.stage_user_update(tx, org_id, uid, {"kyc_level": level})
        _emit_user(tx, org_id, uid, "org.userUpdateKYCInfo", {
            "kyc_level": level, "verify_status": status, "country_code": country_code, "card_type": card_type,
            "time": now})
        if reviewed:
            _emit_user(tx, org_id, uid, "org.userUpdateKYCResult", {
                "kyc_level": level, "verify_status": status, "passed": status == kyc_store.PASSED, "reason": None,
                "time": now})
        return {"uid": uid, "verify_status": status, "kyc_level": level}

    return idempotency.run(_scope("kycinfo", org_id), operation_id, payload, build)


def verify_kyc(org_id: str, uid: str, *, passed: bool, level: Optional[int] = None, reason: Optional[str] = None,
               operation_id: str) -> dict:
    """Decides the user's KYC application: passed (the user gets its level) or rejected."""
    users.get_user(org_id, uid)
    if level is not None and level not in (1, 2, 3):
        raise InvalidParameter("level", "KYC level must be 1, 2 or 3")
    reason = (reason or "").strip()[:200] or None
    payload = {"uid": uid, "passed": bool(passed), "level": level, "reason": reason}

    def build(tx: Transaction) -> dict:
        current = kyc_store.get(uid)
        if current is None or current.org_id != org_id:
            raise NotFound("User has no KYC application")
        now = kyc_store.now_ms()
        decided = dataclasses.replace(
            current, level=level or current.level, status=kyc_store.PASSED if passed else kyc_store.REJECTED,
            reason=None if passed else reason, reviewed_by=ORG_ACTOR, reviewed_at=now, version=current.version + 1)
        store.stage_kyc(tx, decided, current.version)
        if passed:
            store.stage_user_update(tx, org_id, uid, {"kyc_level": decided.level})
        _emit_user(tx, org_id, uid, "org.userUpdateKYCResult", {
            "kyc_level": decided.level, "verify_status": decided.status, "passed": bool(passed),
            "reason": decided.reason, "time": now})
        return {"uid": uid, "verify_status": decided.status, "kyc_level": decided.level}

    return idempotency.run(_scope("kycverify", org_id), operation_id, payload, build)


# --- freezes -------------------------------------------------------------------------------------

def freeze_state(org_id: str, uid: str) -> store.FreezeState:
    """What the org froze, with the user's own flags (which any family may have changed)."""
    user = users.get_user(org_id, uid)
    return _overlay(store.get_freeze(org_id, uid), user)


def _overlay(state: store.FreezeState, user: Optional[users.User]) -> store.FreezeState:
    if user is None:
        return state
    return dataclasses.replace(state, login=user.login_frozen, trade_all=user.trade_frozen,
                               withdraw=user.withdraw_frozen)


def may_trade(org_id: str, uid: str, symbol: str) -> bool:
    state = freeze_state(org_id, uid)
    return not state.trade_all and symbol not in state.trade_symbols


def frozen_users(org_id: str, *, before_uid: Optional[str] = None, limit: int = 100) -> list[store.FreezeState]:
    if before_uid is not None and not str(before_uid).isdigit():
        raise InvalidParameter("from_id")
    found = []
    for state in store.frozen_users(org_id, before_uid=before_uid, limit=max(1, min(limit, 500))):
        current = _overlay(state, user_store.get(state.uid))
        if current.active:
            found.append(current)
    return found


def freeze_view(state: store.FreezeState) -> dict:
    return {"uid": state.uid, "login_frozen": state.login, "withdraw_frozen": state.withdraw,
            "trade_frozen": state.trade_all, "trade_frozen_symbols": sorted(state.trade_symbols),
            "frozen_assets": {token: str(amount) for token, amount in sorted(state.assets.items())}}


def set_login_frozen(org_id: str, uid: str, *, frozen: bool, operation_id: str) -> dict:
    users.get_user(org_id, uid)
    payload = {"uid": uid, "frozen": bool(frozen)}

    def build(tx: Transaction) -> dict:
        state = store.get_freeze(org_id, uid)
        after = dataclasses.replace(state, login=bool(frozen))
        store.stage_freeze(tx, state, after)
        store.stage_user_update(tx, org_id, uid, {"login_frozen": bool(frozen)})
        return freeze_view(after)

    result = idempotency.run(_scope("freezelogin", org_id), operation_id, payload, build)
    if frozen:  # a thaw must not bring back what third-party apps held before the freeze
        oauth_tokens.revoke_user(org_id, uid, "user_frozen")
    return result


def set_trade_frozen(org_id: str, uid: str, *, frozen: bool, symbol: Optional[str] = None,
                     operation_id: str) -> dict:
    """Freezes (or thaws) the user's spot trading on one symbol, or on every symbol."""
    users.get_user(org_id, uid)
    if symbol:
        catalog.org(org_id).symbol(symbol)
    payload = {"uid": uid, "frozen": bool(frozen), "symbol": symbol or None}

    def build(tx: Transaction) -> dict:
        state = store.get_freeze(org_id, uid)
        if symbol:
            symbols = set(state.trade_symbols)
            symbols = symbols | {symbol} if frozen else symbols - {symbol}
            after = dataclasses.replace(state, trade_symbols=tuple(sorted(symbols)))
        else:
            after = dataclasses.replace(state, trade_all=bool(frozen))
            store.stage_user_update(tx, org_id, uid, {"trade_frozen": bool(frozen)})
        store.stage_freeze(tx, state, after)
        return freeze_view(after)

    return idempotency.run(_scope("freezetrade", org_id), operation_id, payload, build)


def set_assets_frozen(org_id: str, uid: str, *, frozen: bool, token: Optional[str] = None,
                      amount: Optional[Decimal] = None, operation_id: str) -> dict:
    """Freezes `amount` (default: all available) of a token, or every token's available
    balance; an unfreeze releases `amount` (default: all) of what the org froze."""
    user = users.get_user(org_id, uid)
    if token:
        catalog.org(org_id).token(token)
    if amount is not None:
        if not token:
            raise MissingParameter("token_id", "An amount needs a token")
        money_rules.require_positive(amount)
    account = user.main_account_id
    payload = {"uid": uid, "frozen": bool(frozen), "token": token or None,
               "amount": None if amount is None else str(amount)}

    def build(tx: Transaction) -> dict:
        state = store.get_freeze(org_id, uid)
        assets = dict(state.assets)
        entries = []
        if frozen:
            held = {b.token: b.available for b in ledger.balances(account)}
            for name in ([token] if token else sorted(held)):
                size = amount if amount is not None else held.get(name, Decimal(0))
                if size > 0:
                    entries += money_rules.postings(Subject.FREEZE, [Movement(account, name, available=-size,
                                                                              locked=size)])
                    assets[name] = assets.get(name, Decimal(0)) + size
        else:
            for name in ([token] if token else sorted(assets)):
                held = assets.get(name, Decimal(0))
                size = amount if amount is not None else held
                if size > held:
                    raise UnfreezeExceedsFrozen(token=name, frozen=str(held))
                if size > 0:
                    entries += money_rules.postings(Subject.UNFREEZE, [Movement(account, name, available=size,
                                                                                locked=-size)])
                    if held - size > 0:
                        assets[name] = held - size
                    else:
                        assets.pop(name, None)
        after = dataclasses.replace(state, assets=assets, withdraw=bool(frozen) if not token else state.withdraw)
        if entries:
            ledger.stage(tx, entries, reference=f"orgfreeze:{operation_id}")
        store.stage_freeze(tx, state, after)
        if not token:
            store.stage_user_update(tx, org_id, uid, {"withdraw_frozen": bool(frozen)})
        return freeze_view(after)

    return idempotency.run(_scope("freezeassets", org_id), operation_id, payload, build)


# --- favorites, OpenAPI keys, notices ----------------------------------------------------------------

def favorites(org_id: str, uid: str) -> list[dict]:
    users.get_user(org_id, uid)
    listed = catalog.org(org_id).symbols
    return [{"symbol_id": symbol, "created_at": created} for symbol, created in store.favorites(uid)
            if symbol in listed]


def update_favorite(org_id: str, uid: str, *, symbol: str, add: bool, operation_id: str) -> list[dict]:
    users.get_user(org_id, uid)
    catalog.org(org_id).symbol(symbol)
    payload = {"uid": uid, "symbol": symbol, "add": bool(add)}

    def build(tx: Transaction) -> dict:
        store.stage_favorite(tx, uid, symbol, bool(add))
        return {"uid": uid, "symbol_id": symbol, "favorite": bool(add)}

    idempotency.run(_scope("favorite", org_id), operation_id, payload, build)
    return favorites(org_id, uid)


def create_open_api(org_id: str, uid: str, *, key_type: int, label: Optional[str], ip_whitelist,
                    operation_id: str) -> tuple[api_keys.ApiKeyView, Optional[str]]:
    """An OpenAPI key for the user; the secret only in the answer to the first call."""
    return api_keys.create_user_key(org_id, uid, key_type=key_type, label=label, ip_whitelist=ip_whitelist,
                                    operation_id=f"org:{operation_id}")


def send_notice(org_id: str, uid: str, *, channel: str, title: str, content: str, operation_id: str) -> dict:
    """A message to the user: `push` (the user's event stream, read by the app and the
    User API socket), `email` or `sms` (through the platform notifier). At most once per
    operation id for pushes; email and SMS leave the platform, so a crash between sending
    and recording may send again on retry."""
    user = users.get_user(org_id, uid)
    channel = (channel or "push").strip().lower()
    if channel not in NOTICE_CHANNELS:
        raise InvalidParameter("channel", "Channel must be push, email or sms")
    title, content = (title or "").strip(), (content or "").strip()
    if not 1 <= len(title) <= 100:
        raise InvalidParameter("title", "Title must be 1 to 100 characters")
    if not 1 <= len(content) <= 2000:
        raise InvalidParameter("content", "Content must be 1 to 2000 characters")
    if channel == "email" and not user.email:
        raise InvalidParameter("channel", "User has no email address")
    if channel == "sms" and not user.mobile:
        raise InvalidParameter("channel", "User has no mobile number")
    payload = {"uid": uid, "channel": channel, "title": title, "content": content}

    def effect() -> dict:
        if channel == "push":
            events.append_now(Event(user_stream(uid), "notice", {"title": title, "content": content,
                                                                  "from": "org"}, org_id, uid),
                              source=f"orgnotice#{org_id}#{operation_id}")
        else:
            to = user.email if channel == "email" else f"+{user.national_code}{user.mobile}"
            if not notifier.send(notifier.Notice(channel, to, "ORG_NOTICE", title, content, org_id, uid, {})):
                raise ServiceUnavailable("The message could not be sent; retry with the same client_order_id")
        return {"uid": uid, "channel": channel, "sent": True}

    return idempotency.run_outside(_scope("notice", org_id), operation_id, payload, effect)
