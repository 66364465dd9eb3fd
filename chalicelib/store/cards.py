"""Card (NFT) contracts, cards and their transfer history.

| entity | pk | sk | indexes |
|---|---|---|---|
| card contract | `CARDCONTRACT#<address>` | `META` | gsi1 `PARTNERCONTRACTS#<partner>` / nft id; gsi2 `NFT#<nft id>` / `META` |
| card | `CARD#<contract>` | `<card id:020d>` | gsi1 `CARDOWNER#<contract>#<owner>` / `<card id:020d>` |
| transfer | `CARDHIST#<contract>#<card id>` | `<sequence:020d>` | |

Addresses in keys are lower case. A contract's `last_card_id` and a card's `version`
condition every write, so card ids increase without gaps and a card changes owner once
per version however many transfers race.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Iterator, Optional

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity, Gsi1, Gsi2, padded
from chalicelib.store.transaction import Transaction


class CardContractRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2 = Gsi2()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    address = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    nft_id = IntegerAttribute()
    name = UnicodeAttribute()
    symbol_img = UnicodeAttribute(default="")
    bapp_id = IntegerAttribute()
    bapp_name = UnicodeAttribute()
    bapp_img = UnicodeAttribute(default="")
    category_id = IntegerAttribute(default=0)
    summary = UnicodeAttribute(default="")
    nft_order_no = IntegerAttribute(default=1)
    last_card_id = IntegerAttribute(default=0)
    version = IntegerAttribute()
    created_at = IntegerAttribute()


class CardRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    contract = UnicodeAttribute()
    card_id = IntegerAttribute()
    owner = UnicodeAttribute()
    sender = UnicodeAttribute()
    transaction_hash = UnicodeAttribute()
    metadata = UnicodeAttribute()
    sendable = BooleanAttribute(default=True)
    partner_id = UnicodeAttribute()
    transfers = IntegerAttribute(default=0)
    version = IntegerAttribute()
    created_at = IntegerAttribute()
    updated_at = IntegerAttribute()


class CardTransferRecord(Entity):
    contract = UnicodeAttribute()
    card_id = IntegerAttribute()
    sequence = IntegerAttribute()
    sender = UnicodeAttribute()
    receiver = UnicodeAttribute()
    transaction_hash = UnicodeAttribute()
    reference = UnicodeAttribute()
    at = IntegerAttribute()


@dataclass(frozen=True)
class CardContract:
    address: str
    partner_id: str
    org_id: str
    nft_id: int
    name: str
    symbol_img: str
    bapp_id: int
    bapp_name: str
    bapp_img: str
    category_id: int
    summary: str
    nft_order_no: int
    last_card_id: int
    version: int
    created_at: int


@dataclass(frozen=True)
class Card:
    contract: str              # lower case
    card_id: int
    owner: str                 # lower case
    sender: str
    transaction_hash: str
    metadata: dict = field(repr=False)
    sendable: bool
    partner_id: str
    transfers: int             # 0 after the mint
    version: int
    created_at: int            # epoch seconds
    updated_at: int


@dataclass(frozen=True)
class CardTransfer:
    contract: str
    card_id: int
    sequence: int
    sender: str
    receiver: str
    transaction_hash: str
    reference: str
    at: int


def now() -> int:
    return int(time.time())


def _contract_key(address: str) -> str:
    return f"CARDCONTRACT#{address.lower()}"


def _card_pk(contract: str) -> str:
    return f"CARD#{contract.lower()}"


def _owner_key(contract: str, owner: str) -> str:
    return f"CARDOWNER#{contract.lower()}#{owner.lower()}"


def _to_contract(r: CardContractRecord) -> CardContract:
    return CardContract(r.address, r.partner_id, r.org_id, r.nft_id, r.name, r.symbol_img or "", r.bapp_id,
                        r.bapp_name, r.bapp_img or "", r.category_id or 0, r.summary or "", r.nft_order_no or 1,
                        r.last_card_id or 0, r.version, r.created_at)


def _to_card(r: CardRecord) -> Card:
    return Card(r.contract, r.card_id, r.owner, r.sender, r.transaction_hash, json.loads(r.metadata), r.sendable,
                r.partner_id, r.transfers or 0, r.version, r.created_at, r.updated_at)


# --- contracts -------------------------------------------------------------------------------

def _contract_record(c: CardContract) -> CardContractRecord:
    return CardContractRecord(
        _contract_key(c.address), "META", gsi1pk=f"PARTNERCONTRACTS#{c.partner_id}", gsi1sk=padded(c.nft_id),
        gsi2pk=f"NFT#{c.nft_id}", gsi2sk="META", address=c.address, partner_id=c.partner_id, org_id=c.org_id,
        nft_id=c.nft_id, name=c.name, symbol_img=c.symbol_img, bapp_id=c.bapp_id, bapp_name=c.bapp_name,
        bapp_img=c.bapp_img, category_id=c.category_id, summary=c.summary, nft_order_no=c.nft_order_no,
        last_card_id=c.last_card_id, version=c.version, created_at=c.created_at)


def stage_create_contract(tx: Transaction, contract: CardContract) -> None:
    tx.put(_contract_record(contract), CardContractRecord.pk.does_not_exist(), on_condition_failed=ConcurrentUpdate)


def stage_contract_update(tx: Transaction, before: CardContract, after: CardContract) -> None:
    tx.put(_contract_record(replace(after, version=before.version + 1)),
           CardContractRecord.version == before.version, on_condition_failed=ConcurrentUpdate)


def get_contract(address: str) -> Optional[CardContract]:
    try:
        return _to_contract(CardContractRecord.get(_contract_key(address), "META", consistent_read=True))
    except CardContractRecord.DoesNotExist:
        return None


def contract_by_nft_id(nft_id: int) -> Optional[CardContract]:
    for r in CardContractRecord.gsi2.query(f"NFT#{nft_id}", limit=1):
        return _to_contract(r)
    return None


def contracts_of_partner(partner_id: str, *, after_nft_id: Optional[int], limit: int) -> list[CardContract]:
    condition = CardContractRecord.gsi1sk > padded(after_nft_id) if after_nft_id is not None else None
    return [_to_contract(r) for r in CardContractRecord.gsi1.query(
        f"PARTNERCONTRACTS#{partner_id}", condition, limit=limit)]


# --- cards -----------------------------------------------------------------------------------

def _card_record(c: Card) -> CardRecord:
    return CardRecord(
        _card_pk(c.contract), padded(c.card_id), gsi1pk=_owner_key(c.contract, c.owner), gsi1sk=padded(c.card_id),
        contract=c.contract.lower(), card_id=c.card_id, owner=c.owner.lower(), sender=c.sender.lower(),
        transaction_hash=c.transaction_hash, metadata=json.dumps(c.metadata, ensure_ascii=False, sort_keys=True),
        sendable=c.sendable, partner_id=c.partner_id, transfers=c.transfers, version=c.version,
        created_at=c.created_at, updated_at=c.updated_at)


def stage_mint(tx: Transaction, card: Card, transfer: CardTransfer) -> None:
    tx.put(_card_record(card), CardRecord.pk.does_not_exist(), on_condition_failed=ConcurrentUpdate)
    stage_transfer_record(tx, transfer)


def stage_card_update(tx: Transaction, before: Card, after: Card, *, on_changed=ConcurrentUpdate) -> None:
    tx.put(_card_record(replace(after, version=before.version + 1)), CardRecord.version == before.version,
           on_condition_failed=on_changed)


def stage_transfer_record(tx: Transaction, t: CardTransfer) -> None:
    tx.put(CardTransferRecord(
        f"CARDHIST#{t.contract.lower()}#{t.card_id}", padded(t.sequence), contract=t.contract.lower(),
        card_id=t.card_id, sequence=t.sequence, sender=t.sender.lower(), receiver=t.receiver.lower(),
        transaction_hash=t.transaction_hash, reference=t.reference, at=t.at),
        CardTransferRecord.pk.does_not_exist(), on_condition_failed=ConcurrentUpdate)


def get_card(contract: str, card_id: int) -> Optional[Card]:
    try:
        return _to_card(CardRecord.get(_card_pk(contract), padded(card_id), consistent_read=True))
    except CardRecord.DoesNotExist:
        return None


def cards_of_contract(contract: str, *, after_card_id: Optional[int], limit: int) -> list[Card]:
    condition = CardRecord.sk > padded(after_card_id) if after_card_id is not None else None
    return [_to_card(r) for r in CardRecord.query(_card_pk(contract), condition, limit=limit)]


def cards_of_owner(contract: str, owner: str, *, after_card_id: Optional[int], limit: int) -> list[Card]:
    condition = CardRecord.gsi1sk > padded(after_card_id) if after_card_id is not None else None
    return [_to_card(r) for r in CardRecord.gsi1.query(_owner_key(contract, owner), condition, limit=limit)]


def history(contract: str, card_id: int) -> Iterator[CardTransfer]:
    for r in CardTransferRecord.query(f"CARDHIST#{contract.lower()}#{card_id}"):
        yield CardTransfer(r.contract, r.card_id, r.sequence, r.sender, r.receiver, r.transaction_hash,
                           r.reference, r.at)
