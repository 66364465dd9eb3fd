"""Account use cases of the User API around credentials: sign-up with a code, password
change and reset, GA (TOTP) bind / change / unbind, email and mobile binding,
anti-phishing code, invite relations.

Users themselves (records, look-ups, hashing) belong to `services.users`; this module
composes them with verification codes, second factors, sessions and notices.
`bind_email` / `bind_mobile` write the user's contact and its unique look-up item in one
transaction here because `services.users` has no such function yet (see docs/USER_API.md).
"""
from __future__ import annotations

from typing import Optional

from chalicelib.auth import totp
from chalicelib.domain.errors import (
    EmailAlreadyBound,
    EmailAlreadyRegistered,
    GaAlreadyBound,
    GaNotBound,
    InvalidCredentials,
    InvalidParameter,
    InvalidSecondFactor,
    MissingParameter,
    MobileAlreadyBound,
    PhoneAlreadyRegistered,
    SecondFactorRequired,
    VerifyCodeInvalid,
)
from chalicelib.domain.events import Event, org_stream
from chalicelib.gateways import kms, notifier
from chalicelib.services import catalog, login_guard, sessions, users, verification
from chalicelib.services.sessions import ClientInfo, Issued, Principal
from chalicelib.services.verification import Target
from chalicelib.store import users as user_store
from chalicelib.store import verification as code_store
from chalicelib.store.transaction import Transaction

PENDING_GA_SECONDS = 600
MAX_INVITE_SCAN = 5000


def _broker(org_id: str) -> str:
    return catalog.org(org_id).name


def notify(user: users.User, kind: str, title: str, text: str, data: Optional[dict] = None) -> None:
    """A best-effort notice to the user's email (else mobile), with the anti-phishing code."""
    broker = _broker(user.org_id)
    if user.email:
        channel, to = notifier.EMAIL, user.email
    elif user.mobile:
        channel, to = notifier.SMS, f"+{user.national_code}{user.mobile}"
    else:
        return
    lines = [text]
    if user.anti_phishing_code:
        lines.insert(0, f"Anti-phishing code: {user.anti_phishing_code}")
    notifier.send(notifier.Notice(channel, to, kind, f"[{broker}] {title}", "\n".join(lines), user.org_id, user.uid,
                                  data or {}))


# --- codes -------------------------------------------------------------------------------------

def send_public_code(org_id: str, purpose: str, target: Target, *, ip: str = "") -> dict:
    """Codes that need no session: REGISTER and FIND_PASSWORD. Whether an account
    exists is never told: a sign-up code for a taken address sends a notice instead, and
    a reset code for an unknown address sends nothing, with the same answer."""
    purpose = verification.purpose_of(purpose)
    if purpose not in ("REGISTER", "FIND_PASSWORD"):
        raise InvalidParameter("type", "This verification type needs a logged-in session")
    existing = _user_at(org_id, target)
    broker = _broker(org_id)
    if purpose == "REGISTER" and existing is not None:
        answer = verification.send_code(org_id, purpose, target, ip=ip, broker=broker, deliver=False)
        notify(existing, "REGISTER_ATTEMPT", "Sign-up attempt",
               f"Someone tried to sign up at {broker} with this address, which already has an account. "
               "If it was you, log in or reset your password.")
        return answer
    if purpose != "REGISTER" and existing is None:
        return verification.send_code(org_id, purpose, target, ip=ip, broker=broker, deliver=False)
    return verification.send_code(org_id, purpose, target, uid=existing.uid if existing else None, ip=ip,
                                  broker=broker, anti_phishing_code=existing.anti_phishing_code if existing else None)


def send_user_code(principal: Principal, purpose: str, *, target: Optional[Target] = None,
                   channel: Optional[str] = None, ip: str = "") -> dict:
    """Codes for a logged-in user: to a new address being bound (BIND_EMAIL, BIND_MOBILE), or
    else to the user's own email or mobile."""
    purpose = verification.purpose_of(purpose)
    user = principal.user
    if purpose in ("BIND_EMAIL", "BIND_MOBILE"):
        wanted = notifier.EMAIL if purpose == "BIND_EMAIL" else notifier.SMS
        if target is None or target.channel != wanted:
            raise MissingParameter("email" if purpose == "BIND_EMAIL" else "mobile")
    else:
        target = verification.own_target(user, channel)
    return verification.send_code(user.org_id, purpose, target, uid=user.uid, ip=ip, broker=_broker(user.org_id),
                                  anti_phishing_code=user.anti_phishing_code)


def _user_at(org_id: str, target: Target) -> Optional[users.User]:
    if target.channel == notifier.EMAIL:
        return users.find_by_login(org_id, target.address)
    code, number = target.address.split("-", 1)
    return users.find_by_login(org_id, number, national_code=code)


# --- sign-up -----------------------------------------------------------------------------------

def sign_up(org_id: str, target: Target, *, password: Optional[str], verify_code: Optional[str],
            order_id: Optional[str], invite_code: Optional[str] = None, client: ClientInfo = ClientInfo()) -> Issued:
    """Registers with a REGISTER code sent to the email or mobile, then opens a session.

    The code's order id names the operation: a retry with the same code answers the same
    user (the code stays usable by its own operation)."""
    if not password:
        raise MissingParameter("password")
    operation = f"signup:{order_id}"
    verification.check_code(org_id, "REGISTER", target, verify_code, order_id, operation=operation)
    if target.channel == notifier.EMAIL:
        user = users.register_user(org_id, email=target.address, password=password, invite_code=invite_code,
                                   operation_id=operation)
    else:
        code, number = target.address.split("-", 1)
        user = users.register_user(org_id, phone=number, national_code=code, password=password,
                                   invite_code=invite_code, operation_id=operation)
    notify(user, "REGISTER_SUCCESS", "Welcome", f"Your {_broker(org_id)} account is ready.")
    return sessions.open_session(user, client)


# --- passwords ---------------------------------------------------------------------------------

def change_password(principal: Principal, old_password: Optional[str], new_password: Optional[str], *,
                    ga_code: Optional[str] = None) -> int:
    """Needs the old password (and GA when bound); ends every session, this one too."""
    user = principal.user
    if not old_password:
        raise MissingParameter("old_password")
    if not users.verify_password(user, old_password):
        raise InvalidCredentials("Old password is incorrect")
    if user.has_ga and not verification.verify_ga(user, ga_code):
        raise (InvalidSecondFactor() if ga_code else SecondFactorRequired("Google Authenticator code required"))
    users.set_password(user.org_id, user.uid, new_password)
    ended = sessions.revoke_all(user.org_id, user.uid)
    notify(user, "RESET_PASSWORD_SUCCESS", "Password changed",
           "Your login password was changed and every session was logged out.")
    return ended


def reset_password(org_id: str, target: Target, *, verify_code: Optional[str], order_id: Optional[str],
                   password: Optional[str], ga_code: Optional[str] = None) -> None:
    """Find-password: a FIND_PASSWORD code (and GA when bound) sets a new password, ends
    every session and lifts a failed-login lock."""
    if not password:
        raise MissingParameter("password")
    user = _user_at(org_id, target)
    if user is None:
        raise VerifyCodeInvalid()
    verification.check_code(org_id, "FIND_PASSWORD", target, verify_code, order_id, operation=f"findpwd:{order_id}")
    if user.has_ga and not verification.verify_ga(user, ga_code):
        raise (InvalidSecondFactor() if ga_code else SecondFactorRequired("Google Authenticator code required"))
    users.set_password(org_id, user.uid, password)
    sessions.revoke_all(org_id, user.uid)
    login_guard.unlock(org_id, user.uid)
    notify(user, "FIND_PASSWORD_SUCCESS", "Password reset", "Your login password was reset.")


# --- GA ----------------------------------------------------------------------------------------

def _pending_context(user: users.User) -> dict:
    return {"purpose": "ga-pending", "org": user.org_id, "uid": user.uid}


def _new_pending(user: users.User) -> dict:
    secret = totp.new_secret()
    code_store.put_pending_ga(user.uid, kms.encrypt(secret, _pending_context(user)), PENDING_GA_SECONDS)
    account = user.email or user.phone or user.uid
    return {"secret_key": secret, "qrcode": totp.provisioning_uri(secret, account, _broker(user.org_id)),
            "expires_in": PENDING_GA_SECONDS}


def _pending_secret(user: users.User) -> str:
    ciphertext = code_store.pending_ga(user.uid, PENDING_GA_SECONDS)
    if ciphertext is None:
        raise InvalidParameter("ga_code", "No new authenticator key is waiting; request one first")
    return kms.decrypt(ciphertext, _pending_context(user))


def before_bind_ga(principal: Principal) -> dict:
    if principal.user.has_ga:
        raise GaAlreadyBound()
    return _new_pending(principal.user)


def bind_ga(principal: Principal, ga_code: Optional[str]) -> users.User:
    """Binds the waiting key once a code of it proves the user's app has it."""
    user = principal.user
    if user.has_ga:
        raise GaAlreadyBound()
    secret = _pending_secret(user)
    step = totp.matching_step(secret, ga_code)
    if step is None or not code_store.use_totp_step(user.uid, step):
        raise InvalidSecondFactor()
    bound = users.set_ga_secret(user.org_id, user.uid, secret)
    code_store.drop_pending_ga(user.uid)
    notify(bound, "BIND_GA_SUCCESS", "Authenticator bound", "Google Authenticator now protects your account.")
    return bound


def before_alter_ga(principal: Principal) -> dict:
    if not principal.user.has_ga:
        raise GaNotBound()
    return _new_pending(principal.user)


def alter_ga(principal: Principal, old_ga_code: Optional[str], new_ga_code: Optional[str]) -> users.User:
    user = principal.user
    if not user.has_ga:
        raise GaNotBound()
    if not verification.verify_ga(user, old_ga_code):
        raise InvalidSecondFactor("Current Google Authenticator code is not valid")
    secret = _pending_secret(user)
    if totp.matching_step(secret, new_ga_code) is None:
        raise InvalidSecondFactor("Code of the new authenticator key is not valid")
    changed = users.set_ga_secret(user.org_id, user.uid, secret)
    code_store.drop_pending_ga(user.uid)
    notify(changed, "ALTER_GA_SUCCESS", "Authenticator changed", "Your Google Authenticator key was changed.")
    return changed


def unbind_ga(principal: Principal, ga_code: Optional[str], password: Optional[str]) -> users.User:
    user = principal.user
    if not user.has_ga:
        raise GaNotBound()
    if not password or not users.verify_password(user, password):
        raise InvalidCredentials()
    if not verification.verify_ga(user, ga_code):
        raise InvalidSecondFactor()
    unbound = users.set_ga_secret(user.org_id, user.uid, None)
    notify(unbound, "UNBIND_GA_SUCCESS", "Authenticator removed",
           "Google Authenticator no longer protects your account.")
    return unbound


# --- email and mobile ------------------------------------------------------------------------------

def _check_current_factor(user: users.User, ga_code: Optional[str]) -> None:
    if user.has_ga and not verification.verify_ga(user, ga_code):
        raise (InvalidSecondFactor() if ga_code else SecondFactorRequired("Google Authenticator code required"))


def _bind(user: users.User, attribute_values: dict, lookup_key: str, taken_error, bound_error) -> users.User:
    record = user_store.UserRecord(f"USER#{user.uid}", "META")
    actions = [user_store.UserRecord.updated_at.set(user_store.now_ms())]
    condition = user_store.UserRecord.pk.exists()
    for name, value in attribute_values.items():
        attribute = getattr(user_store.UserRecord, name)
        actions.append(attribute.set(value))
    first = getattr(user_store.UserRecord, next(iter(attribute_values)))
    tx = Transaction()
    tx.update(record, actions, condition & first.does_not_exist(), on_condition_failed=bound_error)
    tx.put(user_store.UserLookupRecord(lookup_key, "META", uid=user.uid),
           user_store.UserLookupRecord.pk.does_not_exist(), on_condition_failed=taken_error)
    tx.emit(Event(org_stream(user.org_id), "org.userUpdateInfo", {"uid": user.uid, "changed": list(attribute_values)},
                  user.org_id, user.uid))
    tx.commit()
    return users.get_user(user.org_id, user.uid)


def bind_email(principal: Principal, target: Target, *, verify_code: Optional[str], order_id: Optional[str],
               ga_code: Optional[str] = None) -> users.User:
    user = principal.user
    if user.email:
        raise EmailAlreadyBound()
    verification.check_code(user.org_id, "BIND_EMAIL", target, verify_code, order_id,
                            operation=f"bindemail:{user.uid}:{order_id}")
    _check_current_factor(user, ga_code)
    bound = _bind(user, {"email": target.address}, user_store.email_key(user.org_id, target.address),
                  EmailAlreadyRegistered, EmailAlreadyBound)
    notify(bound, "BIND_EMAIL_SUCCESS", "Email bound", "This email address is now bound to your account.")
    return bound


def bind_mobile(principal: Principal, target: Target, *, verify_code: Optional[str], order_id: Optional[str],
                ga_code: Optional[str] = None) -> users.User:
    user = principal.user
    if user.mobile:
        raise MobileAlreadyBound()
    verification.check_code(user.org_id, "BIND_MOBILE", target, verify_code, order_id,
                            operation=f"bindmobile:{user.uid}:{order_id}")
    _check_current_factor(user, ga_code)
    code, number = target.address.split("-", 1)
    bound = _bind(user, {"mobile": number, "national_code": code}, user_store.phone_key(user.org_id, code, number),
                  PhoneAlreadyRegistered, MobileAlreadyBound)
    notify(bound, "BIND_MOBILE_SUCCESS", "Mobile bound", "This mobile number is now bound to your account.")
    return bound


# --- anti-phishing code, invites --------------------------------------------------------------------

def set_anti_phishing_code(principal: Principal, code: Optional[str], *, ga_code: Optional[str] = None) -> users.User:
    if not code:
        raise MissingParameter("anti_phishing_code")
    _check_current_factor(principal.user, ga_code)
    changed = users.set_anti_phishing_code(principal.org_id, principal.uid, code)
    notify(changed, "ANTI_PHISHING_CODE_SUCCESS", "Anti-phishing code set",
           "Every message from us now starts with your anti-phishing code.")
    return changed


def invite_info(principal: Principal) -> dict:
    user = principal.user
    return {"invite_code": user.invite_code, "inviter_uid": user.inviter_uid,
            "invite_count": len(invitees(principal, limit=MAX_INVITE_SCAN))}


def invitees(principal: Principal, *, limit: int = 100) -> list[users.User]:
    """Users this user invited, newest first. Until `services.users` indexes users by
    inviter, this pages through the org's users (at most MAX_INVITE_SCAN)."""
    found, before, scanned = [], None, 0
    while scanned < MAX_INVITE_SCAN and len(found) < limit:
        page = users.list_users(principal.org_id, limit=500, before_uid=before)
        if not page:
            break
        scanned += len(page)
        found += [u for u in page if u.inviter_uid == principal.uid]
        before = page[-1].uid
    return found[:limit]
