"""Klip rules, pure: App2App request validation and states, amounts, cursors, card hashes.

The wire facts are in specs/klip.md; every choice the spec leaves open is recorded in
docs/KLIP.md and implemented here or in the services, never in the API layer.

App2App request life:

    prepared --approve (auth, sign, card, internal transfer)--> completed
    prepared --approve (withdrawal through custody)--> requested --custody--> completed
    prepared --cancel--> canceled
    prepared / requested --refused at approval (funds, from, ...)--> error

A request is approved or canceled only while `prepared` and before its expiration time.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any, Mapping, Optional

from chalicelib.domain import ethereum
from chalicelib.domain.errors import (
    A2ABappNameRequired,
    A2AInvalidAbi,
    A2AInvalidAmount,
    A2AInvalidCardId,
    A2AInvalidContract,
    A2AInvalidFromAddress,
    A2AInvalidParams,
    A2AInvalidRequestStatus,
    A2AInvalidToAddress,
    A2AInvalidTransaction,
    A2AInvalidValue,
    A2AUnknownRequestType,
    PartnerBadRequest,
)

# --- choices recorded in docs/KLIP.md -------------------------------------------------------

REQUEST_KEY_LIFETIME = 300          # seconds from prepare to the last moment it can be approved
RESULT_RETENTION = 3600             # a finished request stays readable this long past expiration
RECORD_RETENTION = 7 * 24 * 3600    # DynamoDB TTL on the request item past expiration
MAX_BAPP_NAME = 200
MAX_CALLBACK = 2048
MAX_MESSAGE_BYTES = 16 * 1024
MAX_ABI = 8 * 1024
MAX_AMOUNT_DIGITS = 30              # integer digits of an amount
AMOUNT_DECIMALS = 6
PAGE_SIZE = 100
PEB_PER_KLAY = 10 ** 18


class RequestType(str, Enum):
    AUTH = "auth"
    SEND_KLAY = "send_klay"
    SEND_TOKEN = "send_token"
    SEND_CARD = "send_card"
    EXECUTE_CONTRACT = "execute_contract"
    SIGN_MESSAGE = "sign_message"

    @property
    def is_transaction(self) -> bool:
        return self in (RequestType.SEND_KLAY, RequestType.SEND_TOKEN, RequestType.SEND_CARD,
                        RequestType.EXECUTE_CONTRACT)


class Status(str, Enum):
    PREPARED = "prepared"
    REQUESTED = "requested"
    COMPLETED = "completed"
    CANCELED = "canceled"
    ERROR = "error"

    @property
    def is_final(self) -> bool:
        return self in (Status.COMPLETED, Status.CANCELED, Status.ERROR)


_NEXT = {
    Status.PREPARED: {Status.REQUESTED, Status.COMPLETED, Status.CANCELED, Status.ERROR},
    Status.REQUESTED: {Status.COMPLETED, Status.ERROR},
}


def check_transition(current: Status, target: Status) -> None:
    if target not in _NEXT.get(current, ()):
        raise A2AInvalidRequestStatus(f"request is {current.value}; it cannot become {target.value}")


def expired(status: Status, expiration_time: int, now: float) -> bool:
    """Whether /result answers 6001: an unanswered request after its expiration time, a
    finished one after the retention; a request whose transaction is pending never."""
    if status is Status.REQUESTED:
        return False
    if status.is_final:
        return now > expiration_time + RESULT_RETENTION
    return now > expiration_time


def approvable(status: Status, expiration_time: int, now: float) -> None:
    """Approval and cancel act on a prepared, unexpired request only."""
    from chalicelib.domain.errors import A2ARequestKeyExpired

    if status is Status.PREPARED and now > expiration_time:
        raise A2ARequestKeyExpired()
    if status is not Status.PREPARED:
        raise A2AInvalidRequestStatus(f"request is already {status.value}")


# --- values ---------------------------------------------------------------------------------

_AMOUNT = re.compile(r"^(\d{1,%d})(?:\.(\d{1,%d}))?$" % (MAX_AMOUNT_DIGITS, AMOUNT_DECIMALS))
_AMOUNT_ANY_DECIMALS = re.compile(r"^\d+\.\d+$")
_DIGITS = re.compile(r"^\d{1,78}$")


def parse_amount(value: Any, *, failure=A2AInvalidAmount) -> Decimal:
    """A positive decimal string with at most 6 fractional digits ("13.2", "0.000001")."""
    if not isinstance(value, str):
        raise failure("amount must be a decimal string")
    text = value.strip()
    if not _AMOUNT.match(text):
        if _AMOUNT_ANY_DECIMALS.match(text):
            raise failure(f"amount has more than {AMOUNT_DECIMALS} decimal places")
        raise failure()
    amount = Decimal(text)
    if amount <= 0:
        raise failure("amount must be greater than zero")
    return amount


def parse_address(value: Any, failure) -> str:
    """A 0x-40-hex address as given (case kept); EIP-55 checksums are not enforced."""
    if not ethereum.is_address(value.strip() if isinstance(value, str) else value):
        raise failure()
    return value.strip()


def parse_card_id(value: Any) -> int:
    """Card ids are strings on input (`"7"`); a JSON integer is tolerated."""
    if isinstance(value, bool):
        raise A2AInvalidCardId()
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise A2AInvalidCardId()
    if not _DIGITS.match(text):
        raise A2AInvalidCardId()
    return int(text)


def parse_peb(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise A2AInvalidValue()
    text = str(value).strip()
    if not _DIGITS.match(text):
        raise A2AInvalidValue()
    return int(text)


# --- execute_contract: what may run here ----------------------------------------------------

_ABI_TYPES = re.compile(r"^(address|bool|string|bytes\d{0,2}|u?int\d{0,3})(\[\d*\])*$")

# Card contracts are KIP-17 (ERC-721); these are the only calls the platform executes.
CARD_TRANSFER_FUNCTIONS = {
    "transferFrom(address,address,uint256)",
    "safeTransferFrom(address,address,uint256)",
    "safeTransferFrom(address,address,uint256,bytes)",
}


@dataclass(frozen=True)
class ContractCall:
    function: str              # canonical signature
    arguments: tuple


def parse_abi(text: Any) -> tuple[str, list[str]]:
    """A JSON string of one function-ABI object -> (canonical signature, input types)."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_ABI:
        raise A2AInvalidAbi()
    try:
        abi = json.loads(text)
    except ValueError:
        raise A2AInvalidAbi("abi is not valid JSON") from None
    if not isinstance(abi, dict) or abi.get("type", "function") != "function":
        raise A2AInvalidAbi("abi must be one function object")
    name, inputs = abi.get("name"), abi.get("inputs", [])
    if not isinstance(name, str) or not re.match(r"^[A-Za-z_$][A-Za-z0-9_$]*$", name) or not isinstance(inputs, list):
        raise A2AInvalidAbi("abi needs a function name and an inputs list")
    types = []
    for entry in inputs:
        kind = entry.get("type") if isinstance(entry, dict) else None
        if not isinstance(kind, str) or not _ABI_TYPES.match(kind):
            raise A2AInvalidAbi("abi inputs need supported types")
        types.append({"uint": "uint256", "int": "int256"}.get(kind, kind))
    return f"{name}({','.join(types)})", types


def parse_params(text: Any, types: list[str]) -> list:
    if not isinstance(text, str):
        raise A2AInvalidParams("params must be a JSON array string")
    try:
        params = json.loads(text)
    except ValueError:
        raise A2AInvalidParams("params is not valid JSON") from None
    if not isinstance(params, list):
        raise A2AInvalidParams("params must be a JSON array")
    if len(params) != len(types):
        raise A2AInvalidParams(f"abi takes {len(types)} params, {len(params)} given")
    return params


def card_transfer_call(abi_text: Any, params_text: Any) -> tuple[str, str, str, int]:
    """The one execute_contract policy: a card contract's transferFrom/safeTransferFrom.

    Returns (function, from, to, card id); anything else is refused with 6407 (another
    function) or 6408 (arguments that do not fit it)."""
    function, types = parse_abi(abi_text)
    params = parse_params(params_text, types)
    if function not in CARD_TRANSFER_FUNCTIONS:
        raise A2AInvalidAbi("only transferFrom and safeTransferFrom of card contracts can be executed here")
    sender, receiver, token_id = params[0], params[1], params[2]
    if not ethereum.is_address(sender) or not ethereum.is_address(receiver):
        raise A2AInvalidParams("from and to params must be 0x addresses")
    try:
        card_id = parse_card_id(token_id)
    except A2AInvalidCardId:
        raise A2AInvalidParams("tokenId param must be a non-negative integer") from None
    if len(params) == 4 and not (isinstance(params[3], str) and re.match(r"^0x([0-9a-fA-F]{2})*$", params[3])):
        raise A2AInvalidParams("data param must be 0x hex bytes")
    return function, sender, receiver, card_id


# --- prepare --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PrepareRequest:
    type: RequestType
    bapp_name: str
    callback_success: Optional[str] = None
    callback_fail: Optional[str] = None
    transaction: dict = field(default_factory=dict)   # normalized string values
    message: dict = field(default_factory=dict)

    @property
    def from_address(self) -> Optional[str]:
        return (self.message if self.type is RequestType.SIGN_MESSAGE else self.transaction).get("from")


def _callbacks(body: Mapping) -> tuple[Optional[str], Optional[str]]:
    """`bapp.callback` (the SDK) or a top-level `callback` (the docs' curl, a Go client)."""
    bapp = body.get("bapp") if isinstance(body.get("bapp"), Mapping) else {}
    callback = bapp.get("callback")
    if not isinstance(callback, Mapping) or not callback:
        callback = body.get("callback") if isinstance(body.get("callback"), Mapping) else {}
    out = []
    for key in ("success", "fail"):
        value = callback.get(key)
        if value is None or value == "":
            out.append(None)
        elif not isinstance(value, str) or len(value) > MAX_CALLBACK:
            raise A2AInvalidTransaction(f"callback.{key} must be a string of at most {MAX_CALLBACK} characters")
        else:
            out.append(value)
    return out[0], out[1]


def _optional_from(values: Mapping) -> Optional[str]:
    if values.get("from") in (None, ""):
        return None
    return parse_address(values["from"], A2AInvalidFromAddress)


def parse_prepare(body: Any) -> PrepareRequest:
    """Validates a prepare body in the order the error codes are numbered."""
    if not isinstance(body, Mapping):
        raise A2AInvalidTransaction("body must be a JSON object")
    bapp = body.get("bapp")
    name = bapp.get("name") if isinstance(bapp, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        raise A2ABappNameRequired()
    if len(name) > MAX_BAPP_NAME:
        raise A2ABappNameRequired(f"bapp name is longer than {MAX_BAPP_NAME} characters")
    try:
        kind = RequestType(body.get("type"))
    except ValueError:
        raise A2AUnknownRequestType() from None
    success, fail = _callbacks(body)
    base = dict(type=kind, bapp_name=name.strip(), callback_success=success, callback_fail=fail)
    if kind is RequestType.AUTH:
        return PrepareRequest(**base)
    if kind is RequestType.SIGN_MESSAGE:
        message = body.get("message")
        if not isinstance(message, Mapping) or not isinstance(message.get("value"), str) or not message["value"]:
            raise A2AInvalidTransaction("message.value is required")
        if len(message["value"].encode("utf-8")) > MAX_MESSAGE_BYTES:
            raise A2AInvalidTransaction(f"message is longer than {MAX_MESSAGE_BYTES} bytes")
        normalized = {"value": message["value"]}
        sender = _optional_from(message)
        if sender:
            normalized["from"] = sender
        return PrepareRequest(**base, message=normalized)
    tx = body.get("transaction")
    if not isinstance(tx, Mapping):
        raise A2AInvalidTransaction()
    normalized: dict[str, str] = {"to": parse_address(tx.get("to"), A2AInvalidToAddress)}
    if kind in (RequestType.SEND_KLAY, RequestType.SEND_TOKEN):
        normalized["amount"] = str(parse_amount(tx.get("amount")))
    if kind in (RequestType.SEND_TOKEN, RequestType.SEND_CARD):
        normalized["contract"] = parse_address(tx.get("contract"), A2AInvalidContract)
    if kind is RequestType.SEND_CARD:
        normalized["card_id"] = str(parse_card_id(tx.get("card_id")))
    if kind is RequestType.EXECUTE_CONTRACT:
        function, sender, receiver, card_id = card_transfer_call(tx.get("abi"), tx.get("params"))
        value = parse_peb(tx.get("value", "0"))
        if value != 0:
            raise A2AInvalidValue("card transfers take no value; value must be \"0\"")
        normalized.update(abi=tx["abi"], params=tx["params"], value="0", function=function,
                          call_from=sender, call_to=receiver, card_id=str(card_id))
    sender = _optional_from(tx)
    if sender:
        normalized["from"] = sender
    return PrepareRequest(**base, transaction=normalized)


def describe(kind: RequestType, transaction: Mapping, message: Mapping) -> list[tuple[str, str]]:
    """What the approval page shows, as (label, value) rows, in the user's terms."""
    if kind is RequestType.AUTH:
        return [("Action", "Share your wallet address")]
    if kind is RequestType.SIGN_MESSAGE:
        rows = [("Action", "Sign a message"), ("Message", message.get("value", ""))]
    elif kind is RequestType.SEND_KLAY:
        rows = [("Action", "Send KLAY"), ("Amount", f"{transaction['amount']} KLAY"), ("To", transaction["to"])]
    elif kind is RequestType.SEND_TOKEN:
        rows = [("Action", "Send a token"), ("Amount", transaction["amount"]), ("Token contract", transaction["contract"]),
                ("To", transaction["to"])]
    elif kind is RequestType.SEND_CARD:
        rows = [("Action", "Send a card"), ("Card", f"#{transaction['card_id']}"),
                ("Card contract", transaction["contract"]), ("To", transaction["to"])]
    else:
        rows = [("Action", "Execute a contract"), ("Contract", transaction["to"]),
                ("Function", transaction["function"]), ("Card", f"#{transaction['card_id']}"),
                ("From", transaction["call_from"]), ("To", transaction["call_to"]), ("Value (peb)", "0")]
    source = message if kind is RequestType.SIGN_MESSAGE else transaction
    if source.get("from"):
        rows.append(("Only for account", source["from"]))
    return rows


# --- cards, cursors, months ---------------------------------------------------------------

def card_transfer_hash(contract: str, card_id: int, sender: str, receiver: str, sequence: int) -> str:
    """Our own deterministic transaction hash of one card transfer record (mint included)."""
    record = json.dumps({"contract": contract.lower(), "card_id": card_id, "from": sender.lower(),
                         "to": receiver.lower(), "seq": sequence}, sort_keys=True, separators=(",", ":"))
    return ethereum.hex0x(ethereum.keccak256(b"klip-card-transfer:" + record.encode()))


def operation_hash(label: str) -> str:
    """Deterministic hash for a ledger-backed operation (an A2A transfer, a mint)."""
    return ethereum.hex0x(ethereum.keccak256(b"klip-operation:" + label.encode()))


def encode_cursor(position: int) -> str:
    """URL-safe (base64url, no padding) and opaque; "" means no further page."""
    return base64.urlsafe_b64encode(f"p:{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: Optional[str], failure=PartnerBadRequest) -> Optional[int]:
    if cursor in (None, ""):
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "p" or not number.isdigit():
            raise ValueError
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise failure("invalid cursor") from None


def month_of(epoch_seconds: float) -> str:
    """The UTC month a mint counts against (`mint_limit` resets on the 1st)."""
    return time.strftime("%Y%m", time.gmtime(epoch_seconds))


# --- partner credentials ------------------------------------------------------------------

_SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
_PIN = re.compile(r"^\d{6}$")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def password_digest(value: Any, param: str = "password") -> str:
    """The SHA-256 hex a partner sends as password, compared case-insensitively."""
    if not isinstance(value, str) or not _SHA256_HEX.match(value.strip()):
        raise PartnerBadRequest(f"{param} must be the SHA-256 hex of the password")
    return value.strip().lower()


def check_plain_password(password: Any) -> str:
    """Klip Partners' rule: 8-16 characters mixing letters, digits and symbols."""
    if not isinstance(password, str) or not 8 <= len(password) <= 16 or not (
            re.search(r"[A-Za-z]", password) and re.search(r"\d", password) and re.search(r"[^A-Za-z0-9]", password)):
        raise PartnerBadRequest("password must be 8-16 characters with letters, digits and symbols")
    return password


def pin_digest(value: Any, param: str = "pin") -> str:
    """PINs arrive raw (6 digits) or as their SHA-256 hex; both reduce to the hex."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:06d}"
    if not isinstance(value, str):
        raise PartnerBadRequest(f"{param} is required")
    text = value.strip()
    if _PIN.match(text):
        return sha256_hex(text)
    if _SHA256_HEX.match(text):
        return text.lower()
    raise PartnerBadRequest(f"{param} must be 6 digits (or their SHA-256 hex)")

