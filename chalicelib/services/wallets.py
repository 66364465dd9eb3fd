"""Custodial wallets: every broker user (and partner) has a Klaytn/Ethereum address.

The secp256k1 key is generated on first need, encrypted with the platform KMS key
(`WALLET_KMS_KEY`, bound to an encryption context naming the owner and the address) and
stored as ciphertext only. It is decrypted in memory to sign and never returned,
rendered or logged: this module's functions return addresses and signatures only.

The address is what Klip's `eoa`, `klaytn_address`, `to` and `from` refer to.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

from chalicelib.domain import ethereum
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.gateways import kms
from chalicelib.services import users
from chalicelib.store import wallets as store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WalletOwner:
    address: str
    kind: str                  # "user" or "partner"
    org_id: Optional[str]
    uid: Optional[str]
    account_id: Optional[str]
    partner_id: Optional[str] = None


def _context(owner: str, address: str) -> dict:
    return {"purpose": "wallet-key", "owner": owner, "address": address.lower()}


def _ensure(owner: str, org_id: Optional[str], uid: Optional[str], account_id: Optional[str]) -> store.Wallet:
    existing = store.get(owner)
    if existing is not None:
        return existing
    private_key = ethereum.new_private_key()
    address = ethereum.address_of(private_key)
    wallet = store.Wallet(owner, address, org_id, uid, account_id, store.now_ms(),
                          kms.encrypt(private_key.hex(), _context(owner, address)))
    del private_key
    try:
        store.create(wallet)
    except ConcurrentUpdate:
        winner = store.get(owner)
        if winner is None:
            raise
        return winner
    log.info("wallet created", extra={"owner": owner, "address": address})
    return wallet


def user_address(org_id: str, uid: str) -> str:
    """The user's address, creating the wallet on first need."""
    user = users.get_user(org_id, uid)
    return _ensure(f"user:{uid}", user.org_id, user.uid, user.main_account_id).address


def partner_address(partner_id: str) -> str:
    return _ensure(f"partner:{partner_id}", None, None, None).address


def owner_of(address: str) -> Optional[WalletOwner]:
    """Whose address this is on the platform, or None for an outside address."""
    if not ethereum.is_address(address):
        return None
    wallet = store.by_address(address)
    if wallet is None:
        return None
    kind, _, ident = wallet.owner.partition(":")
    return WalletOwner(wallet.address, kind, wallet.org_id, wallet.uid, wallet.account_id,
                       ident if kind == "partner" else None)


def _private_key(owner: str) -> bytes:
    wallet = store.get(owner)
    if wallet is None:
        raise LookupError("no wallet for this owner")
    return bytes.fromhex(kms.decrypt(wallet.key_ciphertext, _context(owner, wallet.address)))


def sign_personal_message(org_id: str, uid: str, message: bytes) -> str:
    """EIP-191 personal-sign with the user's key: 0x + 65 bytes (r, s, v = 27/28)."""
    user_address(org_id, uid)
    return ethereum.sign_personal_message(_private_key(f"user:{uid}"), message)
