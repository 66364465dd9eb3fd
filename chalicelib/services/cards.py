"""Cards (KIP-17 NFTs) held on the platform: contracts, mints, transfers, listings.

There is no chain behind a card: a card is a row with an owner address, and every
change of owner (the mint included) is a transfer record in the card's history with our
own deterministic transaction hash (`domain.klip.card_transfer_hash`). Card ids increase
by one per contract, from 1. Mints and transfers are staged on a caller's transaction,
so a mint commits with the partner's monthly count and an App2App `send_card` commits
with the request's state change.

Events: org stream `klip.cardsMinted` per mint; `klip.cardTransferred` on the user
streams of a sending and a receiving platform user.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Optional

from chalicelib.domain import ethereum
from chalicelib.domain import klip as rules
from chalicelib.domain.errors import CardNotFound, CardNotOwned, CardNotSendable, ConcurrentUpdate
from chalicelib.domain.events import Event, org_stream, user_stream
from chalicelib.store import cards as store
from chalicelib.store.cards import Card, CardContract, CardTransfer
from chalicelib.store.partners import next_number
from chalicelib.store.transaction import Transaction

ZERO_ADDRESS = "0x" + "0" * 40
METADATA_KEYS = ("name", "description", "image", "sendable", "send_friend_only", "external_link", "hashtags",
                 "qr_code", "bar_code", "attributes", "layout", "background_color", "external_url", "animation_url")

__all__ = ["Card", "CardContract", "new_contract", "stage_create_contract", "contract", "contract_by_nft_id",
           "stage_mint", "stage_transfer", "owner_page", "contract_page", "partner_contracts", "card",
           "history", "metadata_of"]


def new_contract(partner_id: str, org_id: str, *, name: str, bapp_name: str, symbol_img: str = "",
                 bapp_img: str = "", summary: str = "", category_id: int = 0) -> CardContract:
    """A contract with a fresh nft id and a deterministic address derived from it."""
    nft_id = next_number("nft")
    raw = ethereum.keccak256(f"klip-card-contract:{partner_id}:{nft_id}".encode())[-20:]
    address = ethereum.checksum_address(ethereum.hex0x(raw))
    return CardContract(address, partner_id, org_id, nft_id, name, symbol_img, nft_id, bapp_name, bapp_img,
                        category_id, summary, 1, 0, 0, store.now())


def stage_create_contract(tx: Transaction, contract_: CardContract) -> None:
    store.stage_create_contract(tx, contract_)


def contract(address: str) -> Optional[CardContract]:
    return store.get_contract(address) if ethereum.is_address(address) else None


def contract_by_nft_id(nft_id) -> Optional[CardContract]:
    text = str(nft_id or "")
    return store.contract_by_nft_id(int(text)) if text.isdigit() else None


def metadata_from(fields: dict) -> dict:
    """The mint body's card fields, as served at card_uri (unknown keys are dropped)."""
    return {key: fields[key] for key in METADATA_KEYS if key in fields and fields[key] is not None}


@dataclass(frozen=True)
class Minted:
    contract: CardContract     # after the mint
    cards: list


def stage_mint(tx: Transaction, contract_: CardContract, recipients: Iterable[str], metadata: dict, *,
               sendable: bool, reference: str) -> Minted:
    """One card per recipient, ids continuing the contract's sequence."""
    at = store.now()
    minted = []
    last = contract_.last_card_id
    for receiver in recipients:
        last += 1
        tx_hash = rules.card_transfer_hash(contract_.address, last, ZERO_ADDRESS, receiver, 0)
        card_ = Card(contract_.address.lower(), last, receiver.lower(), ZERO_ADDRESS, tx_hash, dict(metadata),
                     sendable, contract_.partner_id, 0, 0, at, at)
        store.stage_mint(tx, card_, CardTransfer(card_.contract, last, 0, ZERO_ADDRESS, receiver.lower(), tx_hash,
                                                 reference, at))
        minted.append(card_)
    after = replace(contract_, last_card_id=last)
    store.stage_contract_update(tx, contract_, after)
    tx.emit(Event(org_stream(contract_.org_id), "klip.cardsMinted", {
        "partner_id": contract_.partner_id, "contract": contract_.address, "reference": reference,
        "card_ids": [c.card_id for c in minted]}, contract_.org_id))
    return Minted(replace(after, version=contract_.version + 1), minted)


def card(contract_address: str, card_id: int) -> Optional[Card]:
    return store.get_card(contract_address, card_id) if ethereum.is_address(contract_address) else None


def stage_transfer(tx: Transaction, contract_address: str, card_id: int, sender: str, receiver: str, *,
                   reference: str, sender_uid: Optional[str] = None, sender_org: Optional[str] = None,
                   receiver_uid: Optional[str] = None, receiver_org: Optional[str] = None) -> Card:
    """Moves a card from `sender` to `receiver`, conditioned on the card's version.

    CardNotFound, CardNotOwned (the sender does not hold it) or CardNotSendable."""
    before = store.get_card(contract_address, card_id)
    if before is None:
        raise CardNotFound()
    if before.owner != sender.lower():
        raise CardNotOwned()
    if not before.sendable:
        raise CardNotSendable()
    sequence = before.transfers + 1
    at = store.now()
    tx_hash = rules.card_transfer_hash(before.contract, card_id, sender, receiver, sequence)
    after = replace(before, owner=receiver.lower(), sender=sender.lower(), transaction_hash=tx_hash,
                    transfers=sequence, updated_at=at)
    store.stage_card_update(tx, before, after, on_changed=ConcurrentUpdate)
    store.stage_transfer_record(tx, CardTransfer(before.contract, card_id, sequence, sender.lower(),
                                                 receiver.lower(), tx_hash, reference, at))
    payload = {"contract": before.contract, "card_id": card_id, "from": sender.lower(), "to": receiver.lower(),
               "transaction_hash": tx_hash}
    for uid, org in ((sender_uid, sender_org), (receiver_uid, receiver_org)):
        if uid and org:
            tx.emit(Event(user_stream(uid), "klip.cardTransferred", payload, org, uid))
    return replace(after, version=before.version + 1)


def owner_page(contract_address: str, owner: str, after_card_id: Optional[int],
               size: int = rules.PAGE_SIZE) -> tuple[list[Card], Optional[int]]:
    """A page of the owner's cards of one contract, and the last id when more follow."""
    found = store.cards_of_owner(contract_address, owner, after_card_id=after_card_id, limit=size + 1)
    return _page(found, size)


def contract_page(contract_address: str, after_card_id: Optional[int],
                  size: int = rules.PAGE_SIZE) -> tuple[list[Card], Optional[int]]:
    found = store.cards_of_contract(contract_address, after_card_id=after_card_id, limit=size + 1)
    return _page(found, size)


def _page(found: list[Card], size: int) -> tuple[list[Card], Optional[int]]:
    if len(found) > size:
        return found[:size], found[size - 1].card_id
    return found, None


def partner_contracts(partner_id: str, after_nft_id: Optional[int],
                      size: int = rules.PAGE_SIZE) -> tuple[list[CardContract], Optional[int]]:
    found = store.contracts_of_partner(partner_id, after_nft_id=after_nft_id, limit=size + 1)
    if len(found) > size:
        return found[:size], found[size - 1].nft_id
    return found, None


def history(contract_address: str, card_id: int) -> list[CardTransfer]:
    return list(store.history(contract_address, card_id))


def metadata_of(contract_address: str, card_id) -> dict:
    text = str(card_id or "")
    found = card(contract_address, int(text)) if text.isdigit() else None
    if found is None:
        raise CardNotFound()
    return found.metadata
