"""Google Authenticator (RFC 6238 TOTP: SHA-1, 6 digits, 30 s steps) through pyotp.

`matching_step` answers which step a code belongs to (the current one or one either side,
for clock drift), so the caller can refuse a step that was already used: a code works
once. Time comes from `now()`, which tests may replace.
"""
from __future__ import annotations

import time
from typing import Optional

import pyotp

INTERVAL = 30
DIGITS = 6
DRIFT_STEPS = 1


def now() -> float:
    return time.time()


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters = 160 bits, RFC 4226's recommendation


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=account, issuer_name=issuer)


def matching_step(secret: str, code: Optional[str]) -> Optional[int]:
    """The time step whose code `code` is, within the allowed drift; None if none matches."""
    code = (code or "").strip()
    if len(code) != DIGITS or not code.isdigit() or not secret:
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    current = int(now()) // INTERVAL
    for step in (current, current - DRIFT_STEPS, current + DRIFT_STEPS):
        if pyotp.utils.strings_equal(totp.at(step * INTERVAL), code):
            return step
    return None


def code_at(secret: str, when: float) -> str:
    """The code for a moment (tests and the local tools)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).at(int(when))
