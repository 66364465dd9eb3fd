"""Klip Partners: card-minting accounts, their 24-hour tokens, images and mints.

* `create_partner` (for the Admin and Org APIs): an account in an org with its own
  wallet address and one card contract (nft and bapp map 1:1); the e-mail is unique
  platform-wide because the login names no org.
* `login`: e-mail + SHA-256 hex of the password (case-insensitive) -> an HS256 JWT
  `{"Id": <partner id>, "exp": now + 24 h}`. `authenticate` takes it raw or after
  `Bearer `, with `now` injectable so tests freeze time; a token is refused once `exp`
  is reached, for a partner that no longer exists, or when the password changed after
  it was issued.
* Signing secret: env `PARTNER_JWT_SECRET` when set (at least 32 characters); otherwise
  a random secret generated once, stored only as KMS ciphertext (`KLIPSECRET#partner-jwt`)
  and cached in memory.
* Account states (docs/KLIP.md): active (status 1) and pending approval (status 20) log
  in; pending cannot mint; inactive (status 10) logs in only to set a new PIN (every
  other call: 420); suspended 421, suspension requested 422, unsubscribed 423 (HTTP 401,
  login included).
* `mint`: PIN (raw 6 digits or its SHA-256 hex), 1-40 recipients, one card each; the
  monthly count (`mint_month`, `mint_count`) resets when the UTC month changes and a mint
  that would pass `mint_limit` fails with 4080 and mints nothing: the count, the contract's
  last card id, every card and transfer record and the idempotency record commit in one
  transaction conditioned on the versions read.
"""
from __future__ import annotations

import os
import secrets
import threading
import time
import uuid
from dataclasses import replace
from typing import Any, Optional

import jwt

from chalicelib import settings
from chalicelib.domain import ethereum, passwords
from chalicelib.domain import klip as rules
from chalicelib.domain.errors import (
    NotFound,
    PartnerAccountState,
    PartnerBadRequest,
    PartnerInactive,
    PartnerInvalidPin,
    PartnerInvalidToken,
    PartnerLoginFailed,
    PartnerMintLimitExceeded,
    PartnerSuspended,
    PartnerSuspensionRequested,
    PartnerUnsubscribed,
)
from chalicelib.gateways import aws, kms
from chalicelib.services import cards, idempotency, wallets
from chalicelib.store import partners as store
from chalicelib.store import users as user_store
from chalicelib.store.partners import ACTIVE, PENDING, STATES, Partner
from chalicelib.store.transaction import Transaction

TOKEN_LIFETIME = 24 * 3600
MAX_RECIPIENTS = 40               # 2 items per card + 3 in one 100-item transaction
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": ("png", "image/png"), b"\xff\xd8\xff": ("jpg", "image/jpeg"),
               b"GIF87a": ("gif", "image/gif"), b"GIF89a": ("gif", "image/gif")}
STATUS_NUMBERS = {ACTIVE: 1, PENDING: 20, "inactive": 10, "suspended": 421, "suspension_requested": 422,
                  "unsubscribed": 423}
_STATE_ERRORS = {"inactive": PartnerInactive, "suspended": PartnerSuspended,
                 "suspension_requested": PartnerSuspensionRequested, "unsubscribed": PartnerUnsubscribed}

_secret_lock = threading.Lock()
_secret: list[str] = []

__all__ = ["Partner", "create_partner", "get_partner", "partners_of_org", "set_partner_state", "set_mint_limit",
           "login", "issue_token", "authenticate", "change_password", "change_pin", "upload_image", "image",
           "mint", "monthly_mint_count", "partner_view", "seed_demo_partner"]


# --- accounts ---------------------------------------------------------------------------------

def partner_view(partner: Partner, now: Optional[float] = None) -> dict:
    """The login answer's account fields (without the token)."""
    return {"email": partner.email, "klaytn_address": partner.klaytn_address,
            "contract_address": partner.contract_address, "name": partner.name, "phone": partner.phone,
            "service_name": partner.service_name, "status": STATUS_NUMBERS.get(partner.state, 424),
            "mint_limit": partner.mint_limit, "mint_count": monthly_mint_count(partner, now)}


def create_partner(org_id: str, *, email: str, password: str, pin: str, name: str, phone: str = "",
                   service_name: str = "", mint_limit: int = 1000, state: str = ACTIVE,
                   bapp_name: Optional[str] = None, operation_id: str) -> dict:
    """A partner account with its wallet address and card contract; the operation id makes
    it idempotent (a replay answers the first account; password and PIN are not compared)."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise PartnerBadRequest("email is not valid")
    rules.check_plain_password(password)
    if not (isinstance(pin, str) and pin.isdigit() and len(pin) == 6):
        raise PartnerBadRequest("pin must be 6 digits")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise PartnerBadRequest("name is required (at most 100 characters)")
    if not isinstance(mint_limit, int) or isinstance(mint_limit, bool) or mint_limit < 0:
        raise PartnerBadRequest("mint_limit must be a non-negative integer")
    if state not in STATES:
        raise PartnerBadRequest(f"state must be one of {', '.join(STATES)}")
    if not operation_id:
        raise PartnerBadRequest("operation id is required")
    payload = {"org_id": org_id, "email": email, "name": name.strip(), "phone": phone or "",
               "service_name": service_name or "", "mint_limit": mint_limit, "state": state}
    hashes: list[str] = []

    def build(tx: Transaction) -> dict:
        if not hashes:
            hashes.extend([passwords.hash_password(rules.sha256_hex(password)),
                           passwords.hash_password(rules.pin_digest(pin))])
        partner_id = str(store.next_number("partner"))
        contract = cards.new_contract(partner_id, org_id, name=name.strip(), bapp_name=service_name or name.strip())
        now = store.now_ms()
        partner = Partner(partner_id, org_id, email, name.strip(), phone or "", service_name or "", state,
                          wallets.partner_address(partner_id), contract.address, mint_limit, "", 0, 0, now, now,
                          now, hashes[0], hashes[1])
        user_store.stage_org_exists(tx, org_id)
        store.stage_create(tx, partner)
        cards.stage_create_contract(tx, contract)
        return {"partner_id": partner_id}

    response = idempotency.run(f"partner:{org_id}", operation_id, payload, build)
    return {"partner_id": response["partner_id"], **partner_view(store.get(response["partner_id"]))}


def get_partner(org_id: str, partner_id: str) -> Partner:
    partner = store.get(partner_id)
    if partner is None or partner.org_id != org_id:
        raise NotFound("Partner not found")
    return partner


def partners_of_org(org_id: str) -> list[dict]:
    return [{"partner_id": p.partner_id, **partner_view(p)} for p in store.for_org(org_id)]


def set_partner_state(org_id: str, partner_id: str, state: str) -> dict:
    if state not in STATES:
        raise PartnerBadRequest(f"state must be one of {', '.join(STATES)}")
    before = get_partner(org_id, partner_id)
    return partner_view(store.update(before, replace(before, state=state)))


def set_mint_limit(org_id: str, partner_id: str, mint_limit: int) -> dict:
    if not isinstance(mint_limit, int) or isinstance(mint_limit, bool) or mint_limit < 0:
        raise PartnerBadRequest("mint_limit must be a non-negative integer")
    before = get_partner(org_id, partner_id)
    return partner_view(store.update(before, replace(before, mint_limit=mint_limit)))


def _check_state(partner: Partner, *, allow_inactive: bool = False) -> None:
    if partner.state in (ACTIVE, PENDING) or (allow_inactive and partner.state == "inactive"):
        return
    raise _STATE_ERRORS.get(partner.state, PartnerAccountState)()


# --- tokens -------------------------------------------------------------------------------------

def _signing_secret() -> str:
    configured = os.environ.get("PARTNER_JWT_SECRET")
    if configured:
        if len(configured) < 32:
            raise RuntimeError("PARTNER_JWT_SECRET must be at least 32 characters")
        return configured
    with _secret_lock:
        if _secret:
            return _secret[0]
    context = {"purpose": "partner-jwt-secret"}
    ciphertext = store.get_secret("partner-jwt")
    if ciphertext is None:
        ciphertext = store.put_secret_once("partner-jwt", kms.encrypt(secrets.token_urlsafe(48), context))
    value = kms.decrypt(ciphertext, context)
    with _secret_lock:
        _secret[:] = [value]
    return value


def forget_cached_secret() -> None:
    """For tests that recreate the table."""
    with _secret_lock:
        _secret.clear()


def issue_token(partner: Partner, now: Optional[float] = None) -> str:
    exp = int(time.time() if now is None else now) + TOKEN_LIFETIME
    return jwt.encode({"Id": int(partner.partner_id), "exp": exp}, _signing_secret(), algorithm="HS256")


def login(email: Any, password: Any, now: Optional[float] = None) -> dict:
    """The account and a fresh token; an unknown e-mail and a wrong password answer alike."""
    if not isinstance(email, str) or not email.strip():
        raise PartnerBadRequest("email is required")
    digest = rules.password_digest(password)
    partner = store.by_email(email.strip())
    if partner is None:
        passwords.burn_time(digest)
        raise PartnerLoginFailed()
    if not passwords.verify(digest, partner.password_hash):
        raise PartnerLoginFailed()
    _check_state(partner, allow_inactive=True)
    return {**partner_view(partner, now), "access_token": issue_token(partner, now)}


def authenticate(authorization: Optional[str], now: Optional[float] = None, *,
                 allow_inactive: bool = False) -> Partner:
    """The partner a token names; PartnerInvalidToken (401) for anything wrong with it."""
    token = (authorization or "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise PartnerInvalidToken("access token is required")
    try:
        claims = jwt.decode(token, _signing_secret(), algorithms=["HS256"],
                            options={"verify_exp": False, "require": ["exp", "Id"]})
    except jwt.PyJWTError:
        raise PartnerInvalidToken() from None
    exp, partner_id = claims.get("exp"), claims.get("Id")
    if not isinstance(exp, int) or isinstance(partner_id, bool) or not isinstance(partner_id, int):
        raise PartnerInvalidToken()
    current = time.time() if now is None else now
    if current >= exp:
        raise PartnerInvalidToken("access token is expired")
    partner = store.get(str(partner_id))
    if partner is None:
        raise PartnerInvalidToken()
    if partner.password_changed_at // 1000 > exp - TOKEN_LIFETIME:
        raise PartnerInvalidToken("access token was issued before the password changed")
    _check_state(partner, allow_inactive=allow_inactive)
    return partner


# --- credentials ---------------------------------------------------------------------------------

def change_password(partner: Partner, old_password: Any, new_password: Any) -> dict:
    """Both as SHA-256 hex; tokens issued before the change stop working."""
    old, new = rules.password_digest(old_password, "old_password"), rules.password_digest(new_password, "new_password")
    if not passwords.verify(old, partner.password_hash):
        raise PartnerBadRequest("old_password is incorrect")
    now = store.now_ms()
    store.update(partner, replace(partner, password_hash=passwords.hash_password(new), password_changed_at=now))
    return {}


def change_pin(partner: Partner, old_pin: Any, new_pin: Any) -> dict:
    """The old PIN is required, except for an inactive account setting its new PIN
    (which makes it active again)."""
    new = rules.pin_digest(new_pin, "new_pin")
    if partner.state != "inactive":
        if not passwords.verify(rules.pin_digest(old_pin, "old_pin"), partner.pin_hash):
            raise PartnerInvalidPin()
    state = ACTIVE if partner.state == "inactive" else partner.state
    store.update(partner, replace(partner, pin_hash=passwords.hash_password(new), state=state))
    return {}


# --- images ----------------------------------------------------------------------------------------

def upload_image(partner: Partner, data: bytes) -> str:
    """Stores a PNG, JPEG or GIF (at most 5 MB) in the uploads bucket; returns its key,
    `card_asset/<partner id>/<uuid>.<ext>`, which the API serves at a URL of its own."""
    _check_state(partner)
    if not data:
        raise PartnerBadRequest("multipart part 'upload' with an image is required")
    if len(data) > MAX_IMAGE_BYTES:
        raise PartnerBadRequest(f"image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    kind = next((found for magic, found in IMAGE_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise PartnerBadRequest("image must be PNG, JPEG or GIF")
    key = f"card_asset/{partner.partner_id}/{uuid.uuid4()}.{kind[0]}"
    aws.client("s3").put_object(Bucket=settings.uploads_bucket(), Key=key, Body=data, ContentType=kind[1])
    return key


def image(partner_id: str, name: str) -> tuple[bytes, str]:
    if not str(partner_id).isdigit() or not name or "/" in name or ".." in name or len(name) > 64:
        raise NotFound("image not found")
    try:
        found = aws.client("s3").get_object(Bucket=settings.uploads_bucket(), Key=f"card_asset/{partner_id}/{name}")
    except Exception as error:
        if type(error).__name__ in ("NoSuchKey", "ClientError"):
            raise NotFound("image not found") from None
        raise
    return found["Body"].read(), found.get("ContentType") or "application/octet-stream"


# --- mint --------------------------------------------------------------------------------------------

def monthly_mint_count(partner: Partner, now: Optional[float] = None) -> int:
    month = rules.month_of(time.time() if now is None else now)
    return partner.mint_count if partner.mint_month == month else 0


def _text(body: dict, key: str, limit: int, required: bool = False) -> Optional[str]:
    value = body.get(key)
    if value in (None, ""):
        if required:
            raise PartnerBadRequest(f"{key} is required")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise PartnerBadRequest(f"{key} must be a string of at most {limit} characters")
    return value


def _card_fields(body: dict) -> tuple[dict, bool]:
    fields: dict[str, Any] = {"name": _text(body, "name", 100, required=True),
                              "description": _text(body, "description", 2000) or "",
                              "image": _text(body, "image", 2048) or ""}
    for key, limit in (("external_link", 255), ("qr_code", 2048), ("bar_code", 2048), ("layout", 50),
                       ("background_color", 16), ("external_url", 2048), ("animation_url", 2048)):
        value = _text(body, key, limit)
        if value is not None:
            fields[key] = value
    sendable = body.get("sendable", True)
    friend_only = body.get("send_friend_only", body.get("send_friendly_only", False))
    if not isinstance(sendable, bool) or not isinstance(friend_only, bool):
        raise PartnerBadRequest("sendable and send_friend_only must be true or false")
    fields.update(sendable=sendable, send_friend_only=friend_only)
    hashtags = body.get("hashtags")
    if hashtags is not None:
        if not isinstance(hashtags, list) or len(hashtags) > 10 or not all(
                isinstance(tag, str) and len(tag) <= 100 for tag in hashtags):
            raise PartnerBadRequest("hashtags: at most 10 strings of at most 100 characters")
        fields["hashtags"] = hashtags
    attributes = body.get("attributes")
    if attributes is not None:
        if not isinstance(attributes, list) or len(attributes) > 50 or not all(
                isinstance(a, dict) and isinstance(a.get("trait_type"), str)
                and isinstance(a.get("value"), (str, int, float)) and not isinstance(a.get("value"), bool)
                for a in attributes):
            raise PartnerBadRequest("attributes: a list of {trait_type, value}")
        fields["attributes"] = [{"trait_type": a["trait_type"], "value": a["value"]} for a in attributes]
    return fields, sendable


def _recipients(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise PartnerBadRequest("to_address must be a list of addresses")
    if len(value) > MAX_RECIPIENTS:
        raise PartnerBadRequest(f"to_address takes at most {MAX_RECIPIENTS} addresses per mint")
    if not all(ethereum.is_address(address) for address in value):
        raise PartnerBadRequest("to_address holds an address that is not 0x + 40 hex digits")
    return [address.lower() for address in value]


def mint(partner: Partner, body: dict, *, operation_id: Optional[str] = None, now: Optional[float] = None) -> dict:
    """Mints one card per `to_address` entry on the partner's contract.

    Answer (docs/KLIP.md): `{"hash", "contract_address", "cards": [{card_id, to_address,
    transaction_hash}], "mint_count", "mint_limit"}`. With an operation id (the
    `Idempotency-Key` header) a repeat answers the first mint instead of minting again."""
    _check_state(partner)
    if partner.state == PENDING:
        raise PartnerBadRequest("partner account is awaiting approval")
    if not passwords.verify(rules.pin_digest(body.get("pin")), partner.pin_hash):
        raise PartnerInvalidPin()
    recipients = _recipients(body.get("to_address"))
    contract_address = body.get("contract_address") or partner.contract_address
    contract = cards.contract(contract_address) if isinstance(contract_address, str) else None
    if contract is None or contract.partner_id != partner.partner_id:
        raise PartnerBadRequest("contract_address is not this partner's card contract")
    fields, sendable = _card_fields(body)
    operation = operation_id or f"auto-{uuid.uuid4()}"
    payload = {"to": recipients, "contract": contract.address.lower(), "fields": fields}

    def build(tx: Transaction) -> dict:
        at = time.time() if now is None else now
        current = store.get(partner.partner_id)
        month = rules.month_of(at)
        used = current.mint_count if current.mint_month == month else 0
        if used + len(recipients) > current.mint_limit:
            raise PartnerMintLimitExceeded(mint_count=used, mint_limit=current.mint_limit)
        fresh_contract = cards.contract(contract.address)
        minted = cards.stage_mint(tx, fresh_contract, recipients, fields, sendable=sendable,
                                  reference=f"mint:{partner.partner_id}:{operation}")
        store.stage_update(tx, current, replace(current, mint_month=month, mint_count=used + len(recipients)))
        hashes = [c.transaction_hash for c in minted.cards]
        return {"hash": rules.operation_hash("mint:" + ",".join(hashes)),
                "contract_address": contract.address,
                "cards": [{"card_id": c.card_id, "to_address": c.owner, "transaction_hash": c.transaction_hash}
                          for c in minted.cards],
                "mint_count": used + len(recipients), "mint_limit": current.mint_limit}

    return idempotency.run(f"mint:{partner.partner_id}", operation, payload, build)


# --- demo data (local stack) -------------------------------------------------------------------------

def seed_demo_partner(org_id: str, *, email: str = "partner@demo.local", password: str = "Demo-part1!",
                      pin: str = "123456", name: str = "Demo Cards", mint_limit: int = 10000) -> dict:
    """The demo partner of the local stack (idempotent); returns its credentials."""
    created = create_partner(org_id, email=email, password=password, pin=pin, name=name, phone="010-0000-0000",
                             service_name="Demo Card BApp", mint_limit=mint_limit,
                             operation_id=f"seed-partner-{email}")
    return {"partner_id": created["partner_id"], "email": email, "password": password,
            "password_sha256": rules.sha256_hex(password), "pin": pin,
            "klaytn_address": created["klaytn_address"], "contract_address": created["contract_address"],
            "mint_limit": created["mint_limit"]}
