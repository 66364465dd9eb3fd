"""API keys: user OpenAPI keys and org API keys, and the look-up every signed request makes.

The secret leaves the platform once, in the answer to the creation; it is stored only
as KMS ciphertext bound to its key, and a replay of the creation (same operation id)
answers the same key without the secret. Nothing here logs a secret.

Key types follow BHEX: 0 user read-only, 1 user trade, 10 org "asset" (asset
operations), 11 org "read" (statistics and user info). User keys are refused where org
keys are looked up and the other way round.
"""
from __future__ import annotations

import ipaddress
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Iterable, Optional

from chalicelib.domain.errors import ApiKeyAlreadyExists, ConcurrentUpdate, InvalidParameter
from chalicelib.domain.events import Event, org_stream
from chalicelib.domain.ids import new_id
from chalicelib.domain.ledger import operating_account
from chalicelib.gateways import kms
from chalicelib.services import idempotency, users
from chalicelib.store import api_keys as store
from chalicelib.store import users as user_store
from chalicelib.store.api_keys import ORG, USER, StoredKey
from chalicelib.store.transaction import Transaction

USER_READ_ONLY, USER_TRADE = 0, 1
ORG_ASSET, ORG_READ = 10, 11
ORG_LEVELS = {"asset": ORG_ASSET, "read": ORG_READ}
KEY_LENGTH = 64
MAX_WHITELIST = 20
MAX_LABEL = 64
_ALPHABET = string.ascii_letters + string.digits
_WELL_FORMED = re.compile(rf"^[A-Za-z0-9]{{{KEY_LENGTH}}}$")


@dataclass(frozen=True)
class ApiKeyView:
    api_key: str
    key_id: str
    kind: str
    org_id: str
    uid: Optional[str]
    account_id: str
    key_type: int
    label: str
    ip_whitelist: tuple[str, ...]
    enabled: bool
    created_at: int
    login_frozen: bool = False
    trade_frozen: bool = False
    withdraw_frozen: bool = False
    secret: Optional[str] = field(default=None, repr=False, compare=False)

    @property
    def level(self) -> Optional[str]:
        return {ORG_ASSET: "asset", ORG_READ: "read"}.get(self.key_type)

    @property
    def read_only(self) -> bool:
        return self.key_type in (USER_READ_ONLY, ORG_READ)

    def allows_ip(self, ip: str) -> bool:
        """An empty whitelist admits any address."""
        if not self.ip_whitelist:
            return True
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(entry, strict=False) for entry in self.ip_whitelist)


def _random_text(length: int = KEY_LENGTH) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _secret_context(api_key: str) -> dict:
    return {"purpose": "api-secret", "key": api_key}


def _whitelist(entries: Optional[Iterable[str]]) -> tuple[str, ...]:
    if isinstance(entries, str):
        entries = [part for part in re.split(r"[,\s]+", entries) if part]
    normalized = []
    for entry in entries or ():
        try:
            network = ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError:
            raise InvalidParameter("ip_whitelist", f"Not an IP address or network: {entry}") from None
        text = str(network.network_address) if network.num_addresses == 1 else str(network)
        if text not in normalized:
            normalized.append(text)
    if len(normalized) > MAX_WHITELIST:
        raise InvalidParameter("ip_whitelist", f"At most {MAX_WHITELIST} entries")
    return tuple(normalized)


def _label(label: Optional[str]) -> str:
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise InvalidParameter("label", f"Label is at most {MAX_LABEL} characters")
    return label


def _view(key: StoredKey, user: Optional[users.User] = None, secret: Optional[str] = None) -> ApiKeyView:
    return ApiKeyView(
        key.api_key, key.key_id, key.kind, key.org_id, key.uid, key.account_id, key.key_type, key.label,
        key.ip_whitelist, key.enabled, key.created_at,
        login_frozen=bool(user and user.login_frozen), trade_frozen=bool(user and user.trade_frozen),
        withdraw_frozen=bool(user and user.withdraw_frozen), secret=secret,
    )


def _create(scope: str, owner: dict, *, key_type: int, label: Optional[str], ip_whitelist,
            operation_id: str, given: Optional[tuple[str, str]] = None) -> tuple[StoredKey, Optional[str]]:
    """One key for `owner` (kind, org_id, uid, account_id); the secret only on first creation."""
    label, whitelist = _label(label), _whitelist(ip_whitelist)
    payload = {**owner, "key_type": key_type, "label": label, "ip_whitelist": list(whitelist),
               "api_key": given[0] if given else None}
    made: dict = {}

    def build(tx: Transaction) -> dict:
        api_key, secret = given or (_random_text(), _random_text())
        now = store.now_ms()
        key = StoredKey(api_key, str(new_id()), owner["kind"], owner["org_id"], owner["uid"],
                        owner["account_id"], key_type, label, whitelist, True, now, now,
                        kms.encrypt(secret, _secret_context(api_key)))
        user_store.stage_org_exists(tx, owner["org_id"])
        # A random 64-character key never collides in practice; if it did, rerun with a new one.
        store.stage_create(tx, key, on_taken=ApiKeyAlreadyExists if given else ConcurrentUpdate)
        tx.emit(Event(org_stream(owner["org_id"]), "org.apiKeyCreated", {
            "kind": owner["kind"], "uid": owner["uid"] or "", "key_id": key.key_id, "key_type": key_type,
            "label": label,
        }, owner["org_id"], owner["uid"]))
        made.update(api_key=api_key, secret=secret)
        return {"api_key": api_key}

    try:
        response = idempotency.run(scope, operation_id, payload, build)
    except ApiKeyAlreadyExists:
        # A twin of this very import may have won the race: then its record answers.
        response = idempotency.run(scope, operation_id, payload, build)
    stored = store.get(response["api_key"])
    return stored, made["secret"] if made.get("api_key") == response["api_key"] else None


def _checked_given(api_key: str, secret: str) -> tuple[str, str]:
    if not _WELL_FORMED.match(api_key or ""):
        raise InvalidParameter("api_key", f"API key must be {KEY_LENGTH} letters and digits")
    if not _WELL_FORMED.match(secret or ""):
        raise InvalidParameter("secret", f"Secret must be {KEY_LENGTH} letters and digits")
    return api_key, secret


# --- user keys ----------------------------------------------------------------------

def _user_owner(org_id: str, uid: str, key_type: int) -> tuple[dict, users.User]:
    if key_type not in (USER_READ_ONLY, USER_TRADE):
        raise InvalidParameter("key_type", "Key type must be 0 (read-only) or 1 (trade)")
    user = users.get_user(org_id, uid)
    return {"kind": USER, "org_id": org_id, "uid": uid, "account_id": user.main_account_id}, user


def create_user_key(org_id: str, uid: str, *, key_type: int, label: Optional[str] = None,
                    ip_whitelist: Optional[Iterable[str]] = None,
                    operation_id: str) -> tuple[ApiKeyView, Optional[str]]:
    """A new OpenAPI key and its secret; a replay answers the key and None."""
    owner, user = _user_owner(org_id, uid, key_type)
    stored, secret = _create(f"apikey:{org_id}:{uid}", owner, key_type=key_type, label=label,
                             ip_whitelist=ip_whitelist, operation_id=operation_id)
    return _view(stored, user), secret


def import_user_key(org_id: str, uid: str, *, api_key: str, secret: str, key_type: int,
                    label: Optional[str] = None, ip_whitelist: Optional[Iterable[str]] = None,
                    operation_id: str) -> ApiKeyView:
    """A key whose key and secret come from elsewhere (migrations, demo seeds)."""
    given = _checked_given(api_key, secret)
    owner, user = _user_owner(org_id, uid, key_type)
    stored, _ = _create(f"apikey:{org_id}:{uid}", owner, key_type=key_type, label=label,
                        ip_whitelist=ip_whitelist, operation_id=operation_id, given=given)
    return _view(stored, user)


def list_user_keys(org_id: str, uid: str) -> list[ApiKeyView]:
    user = users.get_user(org_id, uid)
    return [_view(key, user) for key in store.owned_by(USER, org_id, uid)]


def set_user_key_ips(org_id: str, uid: str, api_key: str, ip_whitelist: Iterable[str]) -> ApiKeyView:
    stored = store.update(USER, org_id, uid, api_key, ip_whitelist=list(_whitelist(ip_whitelist)))
    return _view(stored, users.get_user(org_id, uid))


def set_user_key_enabled(org_id: str, uid: str, api_key: str, enabled: bool) -> ApiKeyView:
    return _view(store.update(USER, org_id, uid, api_key, enabled=bool(enabled)), users.get_user(org_id, uid))


def delete_user_key(org_id: str, uid: str, api_key: str) -> None:
    store.delete(USER, org_id, uid, api_key)


def authenticate_user_key(api_key: str) -> Optional[ApiKeyView]:
    """The key with its secret and its user's status, or None when no user key has this name."""
    key = store.get(api_key) if _WELL_FORMED.match(api_key or "") else None
    if key is None or key.kind != USER:
        return None
    user = user_store.get(key.uid)
    if user is None or user.org_id != key.org_id:
        return None
    return _view(key, user, kms.decrypt(key.secret_ciphertext, _secret_context(key.api_key)))


# --- org keys -----------------------------------------------------------------------

def _org_owner(org_id: str, level: str) -> tuple[dict, int]:
    if level not in ORG_LEVELS:
        raise InvalidParameter("level", "Level must be 'read' or 'asset'")
    # Org keys act for the broker's operating account (BHOP reuses its OpenAPI key).
    return {"kind": ORG, "org_id": org_id, "uid": None, "account_id": operating_account(org_id)}, ORG_LEVELS[level]


def create_org_key(org_id: str, *, level: str, label: Optional[str] = None,
                   ip_whitelist: Optional[Iterable[str]] = None,
                   operation_id: str) -> tuple[ApiKeyView, Optional[str]]:
    owner, key_type = _org_owner(org_id, level)
    stored, secret = _create(f"orgkey:{org_id}", owner, key_type=key_type, label=label,
                             ip_whitelist=ip_whitelist, operation_id=operation_id)
    return _view(stored), secret


def import_org_key(org_id: str, *, api_key: str, secret: str, level: str, label: Optional[str] = None,
                   ip_whitelist: Optional[Iterable[str]] = None, operation_id: str) -> ApiKeyView:
    owner, key_type = _org_owner(org_id, level)
    stored, _ = _create(f"orgkey:{org_id}", owner, key_type=key_type, label=label, ip_whitelist=ip_whitelist,
                        operation_id=operation_id, given=_checked_given(api_key, secret))
    return _view(stored)


def list_org_keys(org_id: str) -> list[ApiKeyView]:
    return [_view(key) for key in store.owned_by(ORG, org_id, None)]


def set_org_key_ips(org_id: str, api_key: str, ip_whitelist: Iterable[str]) -> ApiKeyView:
    return _view(store.update(ORG, org_id, None, api_key, ip_whitelist=list(_whitelist(ip_whitelist))))


def set_org_key_enabled(org_id: str, api_key: str, enabled: bool) -> ApiKeyView:
    return _view(store.update(ORG, org_id, None, api_key, enabled=bool(enabled)))


def delete_org_key(org_id: str, api_key: str) -> None:
    store.delete(ORG, org_id, None, api_key)


def authenticate_org_key(api_key: str) -> Optional[ApiKeyView]:
    key = store.get(api_key) if _WELL_FORMED.match(api_key or "") else None
    if key is None or key.kind != ORG:
        return None
    return _view(key, secret=kms.decrypt(key.secret_ciphertext, _secret_context(key.api_key)))
