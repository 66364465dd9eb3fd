"""Ethereum/Klaytn primitives: keccak-256, addresses, EIP-191 personal-sign.

Klaytn accounts are Ethereum accounts (secp256k1 keys, keccak-256 addresses, the same
`personal_sign` prefix), so one set of helpers serves both. The curve math is eth-keys'
(with coincurve's libsecp256k1 as its backend when installed); keccak is eth-hash's
(pycryptodome backend). Pure: no I/O, and private keys only pass through arguments.
"""
from __future__ import annotations

import re
import secrets

from eth_hash.auto import keccak as _keccak
from eth_keys import keys

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def keccak256(data: bytes) -> bytes:
    return _keccak(data)


def hex0x(data: bytes) -> str:
    return "0x" + data.hex()


def is_address(value) -> bool:
    return isinstance(value, str) and bool(_ADDRESS.match(value))


def checksum_address(address: str) -> str:
    """EIP-55 mixed-case form of a 0x-40-hex address."""
    if not is_address(address):
        raise ValueError("not a 0x-prefixed 40-hex-digit address")
    lower = address[2:].lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(ch.upper() if int(digest[i], 16) >= 8 else ch for i, ch in enumerate(lower))


def normalize_address(address: str) -> str:
    """The form addresses are compared and stored in: lower case."""
    if not is_address(address):
        raise ValueError("not a 0x-prefixed 40-hex-digit address")
    return address.lower()


def new_private_key() -> bytes:
    """32 random bytes that form a valid secp256k1 scalar (1 <= k < n)."""
    while True:
        candidate = secrets.token_bytes(32)
        if 0 < int.from_bytes(candidate, "big") < SECP256K1_N:
            return candidate


def address_of(private_key: bytes) -> str:
    """The checksummed address of a private key."""
    return keys.PrivateKey(private_key).public_key.to_checksum_address()


def personal_message_hash(message: bytes) -> bytes:
    """EIP-191 version 0x45: keccak("\\x19Ethereum Signed Message:\\n" + len + message)."""
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode("ascii") + message)


def sign_hash(private_key: bytes, digest: bytes) -> bytes:
    """65 bytes r || s || v with v in {27, 28} (what personal_sign returns)."""
    signature = keys.PrivateKey(private_key).sign_msg_hash(digest)
    return signature.r.to_bytes(32, "big") + signature.s.to_bytes(32, "big") + bytes([signature.v + 27])


def sign_personal_message(private_key: bytes, message: bytes) -> str:
    return hex0x(sign_hash(private_key, personal_message_hash(message)))


def recover_personal_signer(message: bytes, signature_hex: str) -> str:
    """The checksummed address that produced a personal-sign signature (for checks)."""
    raw = bytes.fromhex(signature_hex[2:] if signature_hex.startswith("0x") else signature_hex)
    if len(raw) != 65:
        raise ValueError("signature must be 65 bytes")
    v = raw[64] - 27 if raw[64] >= 27 else raw[64]
    signature = keys.Signature(raw[:64] + bytes([v]))
    return signature.recover_public_key_from_msg_hash(personal_message_hash(message)).to_checksum_address()


def function_selector(signature: str) -> str:
    """The 4-byte selector of a canonical function signature, e.g. 'transferFrom(address,address,uint256)'."""
    return hex0x(keccak256(signature.encode("ascii"))[:4])
