"""Custodial wallets: one per owner (a user or a partner), and the address look-up.

`WALLET#<owner>` / `META` holds the address and the KMS ciphertext of the private key
(never the key itself); `WALLETADDR#<lower-case address>` / `META` maps an address back
to its owner. Both are written in one transaction with does-not-exist conditions, so an
owner has one wallet and an address one owner, however many first uses race.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

from pynamodb.attributes import UnicodeAttribute

from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity
from chalicelib.store.transaction import Transaction


class WalletRecord(Entity):
    owner = UnicodeAttribute()
    address = UnicodeAttribute()
    org_id = UnicodeAttribute(null=True)
    uid = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    key_ciphertext = UnicodeAttribute()
    created_at = IntegerAttribute()


class WalletAddressRecord(Entity):
    owner = UnicodeAttribute()
    address = UnicodeAttribute()
    org_id = UnicodeAttribute(null=True)
    uid = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)


@dataclass(frozen=True)
class Wallet:
    owner: str                 # "user:<uid>" or "partner:<partner id>"
    address: str               # checksummed
    org_id: Optional[str]
    uid: Optional[str]
    account_id: Optional[str]
    created_at: int
    key_ciphertext: str = field(default="", repr=False)


def _wallet_key(owner: str) -> str:
    return f"WALLET#{owner}"


def _address_key(address: str) -> str:
    return f"WALLETADDR#{address.lower()}"


def now_ms() -> int:
    return int(time.time() * 1000)


def get(owner: str) -> Optional[Wallet]:
    try:
        r = WalletRecord.get(_wallet_key(owner), "META", consistent_read=True)
    except WalletRecord.DoesNotExist:
        return None
    return Wallet(r.owner, r.address, r.org_id, r.uid, r.account_id, r.created_at, r.key_ciphertext)


def by_address(address: str) -> Optional[Wallet]:
    """The owner of an address (without the key ciphertext)."""
    try:
        r = WalletAddressRecord.get(_address_key(address), "META")
    except WalletAddressRecord.DoesNotExist:
        return None
    return Wallet(r.owner, r.address, r.org_id, r.uid, r.account_id, 0)


def create(wallet: Wallet) -> None:
    """ConcurrentUpdate if the owner already has a wallet (the caller reads the winner)."""
    tx = Transaction()
    tx.put(WalletRecord(_wallet_key(wallet.owner), "META", owner=wallet.owner, address=wallet.address,
                        org_id=wallet.org_id, uid=wallet.uid, account_id=wallet.account_id,
                        key_ciphertext=wallet.key_ciphertext, created_at=wallet.created_at),
           WalletRecord.pk.does_not_exist(), on_condition_failed=ConcurrentUpdate)
    tx.put(WalletAddressRecord(_address_key(wallet.address), "META", owner=wallet.owner, address=wallet.address,
                               org_id=wallet.org_id, uid=wallet.uid, account_id=wallet.account_id),
           WalletAddressRecord.pk.does_not_exist(), on_condition_failed=ConcurrentUpdate)
    tx.commit()
