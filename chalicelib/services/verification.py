"""One-time verification codes sent by email or SMS, per purpose, with expiry and attempt limits.

`send_code` makes a 6-digit code for (org, purpose, target), keeps only its hash and
hands it to the notifier; a newer code replaces an older one. It answers an `order_id`
that the client returns with the code (BHOP's `order_id` + `verify_code`).

`check_code` accepts a code once: the operation that uses it is recorded with a
condition, so two operations cannot both use one code, and the same operation may retry
(a lost answer). Wrong guesses are counted with a condition too: after
`MAX_ATTEMPTS` the code is dead, whatever is guessed later.

Sending is throttled per target (one per `RESEND_SECONDS` and purpose, `DAILY_LIMIT` a day) and per
source IP (`IP_HOURLY_LIMIT` an hour), in the shared DynamoDB windows of
`store.rate_limits`, so the limits hold across Lambda instances.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import time
from dataclasses import dataclass
from typing import Optional

from chalicelib.auth import totp
from chalicelib.domain.errors import (
    InvalidParameter,
    InvalidSecondFactor,
    MissingParameter,
    SecondFactorRequired,
    VerifyCodeAttemptsExceeded,
    VerifyCodeExpired,
    VerifyCodeInvalid,
    VerifyCodeTooFrequent,
)
from chalicelib.domain.ids import new_id
from chalicelib.gateways import notifier
from chalicelib.services import users
from chalicelib.store import rate_limits
from chalicelib.store import verification as store

CODE_DIGITS = 6
VALID_SECONDS = 10 * 60
MAX_ATTEMPTS = 5
RESEND_SECONDS = 60
DAILY_LIMIT = 20
IP_HOURLY_LIMIT = 30

# BHOP NoticeBusinessType verification purposes (spec §15.6).
PURPOSES = ("REGISTER", "LOGIN", "FIND_PASSWORD", "RESET_PASSWORD", "BIND_MOBILE", "BIND_EMAIL", "BIND_GA",
            "ADD_WITHDRAW_ADDRESS", "DELETE_WITHDRAW_ADDRESS", "KYC", "CREATE_API_KEY", "MODIFY_API_KEY",
            "DELETE_API_KEY", "WITHDRAW")
_TITLES = {
    "REGISTER": "Your sign-up code", "LOGIN": "Your login code", "FIND_PASSWORD": "Your password reset code",
    "RESET_PASSWORD": "Your password change code", "BIND_MOBILE": "Your mobile binding code",
    "BIND_EMAIL": "Your email binding code", "BIND_GA": "Your authenticator code",
    "ADD_WITHDRAW_ADDRESS": "Your withdrawal address code", "DELETE_WITHDRAW_ADDRESS": "Your withdrawal address code",
    "KYC": "Your identity verification code", "CREATE_API_KEY": "Your API key code",
    "MODIFY_API_KEY": "Your API key code", "DELETE_API_KEY": "Your API key code", "WITHDRAW": "Your withdrawal code",
}
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Target:
    """Where a code goes: `address` is a lower-case email or `<national code>-<number>`."""

    channel: str
    address: str

    @property
    def delivery_address(self) -> str:
        if self.channel == notifier.SMS:
            code, number = self.address.split("-", 1)
            return f"+{code}{number}"
        return self.address


def email_target(email: Optional[str]) -> Target:
    if not email:
        raise MissingParameter("email")
    value = email.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidParameter("email", "Email address is not valid")
    return Target(notifier.EMAIL, value)


def mobile_target(national_code: Optional[str], mobile: Optional[str]) -> Target:
    if not mobile:
        raise MissingParameter("mobile")
    if not national_code:
        raise MissingParameter("national_code")
    code = national_code.strip().lstrip("+")
    number = re.sub(r"[\s-]", "", mobile)
    if not (code.isdigit() and len(code) <= 4):
        raise InvalidParameter("national_code")
    if not (number.isdigit() and 4 <= len(number) <= 20):
        raise InvalidParameter("mobile", "Mobile number is not valid")
    return Target(notifier.SMS, f"{code}-{number}")


def purpose_of(value: Optional[str]) -> str:
    purpose = (value or "").strip().upper()
    if purpose not in PURPOSES:
        raise InvalidParameter("type", f"Verification type must be one of {', '.join(PURPOSES)}")
    return purpose


def _hash(key: str, order_id: str, code: str) -> str:
    return hashlib.sha256(f"{key}|{order_id}|{code}".encode()).hexdigest()


def now() -> float:
    return time.time()


def _throttle(org_id: str, purpose: str, target: Target, ip: str) -> None:
    now_s = now()
    subject = f"vcode:{org_id}:{target.address}"
    start = int(now_s // RESEND_SECONDS) * RESEND_SECONDS
    if not rate_limits.take(subject, f"resend:{purpose}", start, RESEND_SECONDS, 1, 1):
        raise VerifyCodeTooFrequent(retry_after=max(1, math.ceil(start + RESEND_SECONDS - now_s)))
    day = int(now_s // 86400) * 86400
    if not rate_limits.take(subject, "day", day, 86400, 1, DAILY_LIMIT):
        raise VerifyCodeTooFrequent("Too many verification codes today for this address",
                                    retry_after=max(1, math.ceil(day + 86400 - now_s)))
    if ip:
        hour = int(now_s // 3600) * 3600
        if not rate_limits.take(f"vcode-ip:{ip}", "hour", hour, 3600, 1, IP_HOURLY_LIMIT):
            raise VerifyCodeTooFrequent(retry_after=max(1, math.ceil(hour + 3600 - now_s)))


def render(purpose: str, code: str, broker: str, anti_phishing_code: Optional[str]) -> tuple[str, str]:
    subject = f"[{broker}] {_TITLES[purpose]}"
    lines = [f"Your {broker} verification code is {code}. It is valid for {VALID_SECONDS // 60} minutes.",
             "Never share it with anyone, including our staff."]
    if anti_phishing_code:
        lines.insert(0, f"Anti-phishing code: {anti_phishing_code}")
    return subject, "\n".join(lines)


def send_code(org_id: str, purpose: str, target: Target, *, uid: Optional[str] = None, ip: str = "",
              broker: str = "Broker", anti_phishing_code: Optional[str] = None, deliver: bool = True) -> dict:
    """Issues and sends a code; `deliver=False` answers alike without storing or sending
    anything (a request about an unknown account must look like any other)."""
    purpose = purpose_of(purpose)
    _throttle(org_id, purpose, target, ip)
    order_id = str(new_id())
    if deliver:
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        key = store.code_key(org_id, purpose, target.address)
        store.put_code(key, order_id=order_id, code_hash=_hash(key, order_id, code), uid=uid,
                       max_attempts=MAX_ATTEMPTS, valid_until=store.now_ms() + VALID_SECONDS * 1000)
        subject, body = render(purpose, code, broker, anti_phishing_code)
        notifier.client().send(notifier.Notice(target.channel, target.delivery_address, purpose, subject, body,
                                               org_id, uid, {"code": code, "purpose": purpose,
                                                             "order_id": order_id}))
    return {"order_id": order_id, "expires_in": VALID_SECONDS, "channel": target.channel}


def check_code(org_id: str, purpose: str, target: Target, code: Optional[str], order_id: Optional[str], *,
               operation: str) -> None:
    """Accepts the code for `operation` or raises; see the module notes."""
    if not code:
        raise MissingParameter("verify_code")
    if not order_id:
        raise MissingParameter("order_id")
    purpose = purpose_of(purpose)
    key = store.code_key(org_id, purpose, target.address)
    stored = store.get_code(key)
    if stored is None or stored.order_id != str(order_id):
        raise VerifyCodeInvalid()
    if stored.consumed_by is not None and stored.consumed_by != operation:
        raise VerifyCodeInvalid("Verification code was already used")
    if stored.attempts >= stored.max_attempts:
        raise VerifyCodeAttemptsExceeded()
    if stored.valid_until < store.now_ms():
        raise VerifyCodeExpired()
    given = _hash(key, stored.order_id, str(code).strip())
    if not hmac.compare_digest(given, stored.code_hash):
        if not store.add_failure(key, stored.order_id) or stored.attempts + 1 >= stored.max_attempts:
            raise VerifyCodeAttemptsExceeded()
        raise VerifyCodeInvalid()
    if not store.consume(key, stored.order_id, given, operation):
        raise VerifyCodeInvalid("Verification code was already used")


# --- second factor ------------------------------------------------------------------------

def verify_ga(user: users.User, code: Optional[str]) -> bool:
    """True once per 30 s step: a code that matches and whose step was not used before."""
    if not user.has_ga:
        return False
    step = totp.matching_step(users.ga_secret(user), code)
    return step is not None and store.use_totp_step(user.uid, step)


def own_target(user: users.User, channel: Optional[str] = None) -> Target:
    """The user's own email or mobile for a code (`channel`: 'email' or 'mobile'; by default
    the email when there is one)."""
    wanted = (channel or "").strip().lower()
    if wanted in ("mobile", "sms", "1") and user.mobile:
        return Target(notifier.SMS, f"{user.national_code}-{user.mobile}")
    if wanted in ("email", "2") and user.email:
        return Target(notifier.EMAIL, user.email)
    if wanted not in ("", "email", "mobile", "sms", "1", "2", "3", "ga"):
        raise InvalidParameter("auth_type")
    if user.email:
        return Target(notifier.EMAIL, user.email)
    if user.mobile:
        return Target(notifier.SMS, f"{user.national_code}-{user.mobile}")
    raise InvalidParameter("auth_type", "No email or mobile number is bound to receive a code")


def require_second_factor(user: users.User, purpose: str, *, ga_code: Optional[str] = None,
                          verify_code: Optional[str] = None,
                          order_id: Optional[str] = None, channel: Optional[str] = None,
                          operation: str) -> str:
    """Checks the second factor of a money-out or key operation; answers which one was used.

    With GA bound, the GA code is required (and nothing else is accepted). Without GA,
    a code of this purpose sent to the user's own email or mobile is required."""
    if user.has_ga:
        if not ga_code:
            raise SecondFactorRequired("Google Authenticator code required (ga_code)")
        if not verify_ga(user, ga_code):
            raise InvalidSecondFactor("Google Authenticator code is not valid or was already used")
        return "ga"
    if not verify_code:
        raise SecondFactorRequired(f"Verification code required: request one of type {purpose_of(purpose)}, "
                                   "then send verify_code and order_id")
    check_code(user.org_id, purpose, own_target(user, channel), verify_code, order_id, operation=operation)
    return "code"
