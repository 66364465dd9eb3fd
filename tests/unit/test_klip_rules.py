"""Pure Klip rules: amounts, addresses, execute_contract policy, prepare parsing, states,
cursors, credentials digests, and the Ethereum helpers checked against eth-account."""
from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import given, strategies as st

from chalicelib.domain import ethereum
from chalicelib.domain import klip as rules
from chalicelib.domain.errors import (
    A2AInvalidAbi, A2AInvalidAmount, A2AInvalidParams, A2AInvalidRequestStatus, A2ARequestKeyExpired,
    A2AUnknownRequestType, PartnerBadRequest,
)
from chalicelib.domain.klip import RequestType, Status

ADDR = "0x" + "12" * 20


@pytest.mark.parametrize("text,expected", [("13.2", D("13.2")), ("0.000001", D("0.000001")), ("1", D(1)),
                                           ("1000000", D(1000000))])
def test_amounts_take_up_to_six_decimals(text, expected):
    assert rules.parse_amount(text) == expected


@pytest.mark.parametrize("text", ["0", "0.0", "1.0000001", "-1", "1e3", "abc", "", " ", ".5", "5.", "1,5", "NaN"])
def test_other_amounts_are_6404(text):
    with pytest.raises(A2AInvalidAmount):
        rules.parse_amount(text)


def test_a_number_instead_of_a_string_is_refused():
    with pytest.raises(A2AInvalidAmount):
        rules.parse_amount(1.5)


def test_prepare_keeps_only_normalized_strings_and_optional_from():
    parsed = rules.parse_prepare({"bapp": {"name": " b ", "callback": {"success": "a://ok"}}, "type": "send_card",
                                  "transaction": {"to": ADDR, "card_id": 7, "contract": ADDR, "extra": 1}})
    assert parsed.type is RequestType.SEND_CARD and parsed.bapp_name == "b"
    assert parsed.transaction == {"to": ADDR, "card_id": "7", "contract": ADDR}
    assert parsed.callback_success == "a://ok" and parsed.from_address is None


def test_an_unknown_type_is_6410():
    with pytest.raises(A2AUnknownRequestType):
        rules.parse_prepare({"bapp": {"name": "b"}, "type": "AUTH"})


def _abi(name, *types):
    return json.dumps({"name": name, "type": "function", "inputs": [{"type": t} for t in types]})


def test_the_card_transfer_functions_are_the_only_executable_calls():
    for name, types, params in [
        ("transferFrom", ("address", "address", "uint256"), [ADDR, ADDR, "5"]),
        ("safeTransferFrom", ("address", "address", "uint256"), [ADDR, ADDR, 5]),
        ("safeTransferFrom", ("address", "address", "uint256", "bytes"), [ADDR, ADDR, "5", "0x"]),
    ]:
        assert rules.card_transfer_call(_abi(name, *types), json.dumps(params))[3] == 5
    with pytest.raises(A2AInvalidAbi):
        rules.card_transfer_call(_abi("mint", "address", "uint256"), json.dumps([ADDR, "1"]))
    with pytest.raises(A2AInvalidAbi):
        rules.card_transfer_call(json.dumps([{"name": "transferFrom"}]), "[]")
    with pytest.raises(A2AInvalidParams):
        rules.card_transfer_call(_abi("transferFrom", "address", "address", "uint256"), json.dumps([ADDR, ADDR]))
    with pytest.raises(A2AInvalidParams):
        rules.card_transfer_call(_abi("safeTransferFrom", "address", "address", "uint256", "bytes"),
                                 json.dumps([ADDR, ADDR, "1", "zz"]))


def test_states_move_forward_only():
    rules.check_transition(Status.PREPARED, Status.REQUESTED)
    rules.check_transition(Status.REQUESTED, Status.COMPLETED)
    for current, target in [(Status.COMPLETED, Status.CANCELED), (Status.CANCELED, Status.COMPLETED),
                            (Status.REQUESTED, Status.CANCELED), (Status.ERROR, Status.COMPLETED)]:
        with pytest.raises(A2AInvalidRequestStatus):
            rules.check_transition(current, target)


def test_expiry_rules():
    assert not rules.expired(Status.PREPARED, 100, 100) and rules.expired(Status.PREPARED, 100, 101)
    assert not rules.expired(Status.COMPLETED, 100, 100 + rules.RESULT_RETENTION)
    assert rules.expired(Status.CANCELED, 100, 101 + rules.RESULT_RETENTION)
    assert not rules.expired(Status.REQUESTED, 100, 10 ** 10)
    with pytest.raises(A2ARequestKeyExpired):
        rules.approvable(Status.PREPARED, 100, 101)
    with pytest.raises(A2AInvalidRequestStatus):
        rules.approvable(Status.COMPLETED, 100, 50)


@given(st.integers(min_value=0, max_value=10 ** 18))
def test_cursors_are_url_safe_and_round_trip(position):
    cursor = rules.encode_cursor(position)
    assert all(ch.isalnum() or ch in "-_" for ch in cursor)
    assert rules.decode_cursor(cursor) == position


@pytest.mark.parametrize("cursor", ["%%%", "abc", rules.encode_cursor(1)[:-1] + "!"])
def test_forged_cursors_are_bad_requests(cursor):
    with pytest.raises(PartnerBadRequest):
        rules.decode_cursor(cursor)


def test_pins_reduce_to_their_sha256_hex_and_passwords_compare_case_insensitively():
    digest = rules.sha256_hex("123456")
    assert rules.pin_digest("123456") == rules.pin_digest(digest.upper()) == digest
    assert rules.password_digest(digest.upper()) == digest
    for bad in ("12345", "abcdef", None, "1234567"):
        with pytest.raises(PartnerBadRequest):
            rules.pin_digest(bad)


def test_mint_months_are_utc_months():
    assert rules.month_of(1706745599) == "202401" and rules.month_of(1706745600) == "202402"


def test_card_hashes_are_deterministic_and_distinct_per_transfer():
    first = rules.card_transfer_hash(ADDR, 1, ADDR, ADDR, 0)
    assert first == rules.card_transfer_hash(ADDR.upper().replace("0X", "0x"), 1, ADDR, ADDR, 0)
    assert first != rules.card_transfer_hash(ADDR, 1, ADDR, ADDR, 1) and len(first) == 66


# --- Ethereum helpers against eth-account -------------------------------------------------------

@given(st.binary(min_size=32, max_size=32).filter(lambda b: 0 < int.from_bytes(b, "big") < ethereum.SECP256K1_N),
       st.text(min_size=1, max_size=200))
def test_personal_sign_matches_eth_account(key, message):
    address = ethereum.address_of(key)
    assert address == Account.from_key(key).address
    signature = ethereum.sign_personal_message(key, message.encode("utf-8"))
    assert Account.recover_message(encode_defunct(text=message), signature=signature) == address
    assert signature == Account.sign_message(encode_defunct(text=message), key).signature.to_0x_hex()
    assert ethereum.recover_personal_signer(message.encode("utf-8"), signature) == address


def test_checksum_addresses_follow_eip55():
    assert ethereum.checksum_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed") == \
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_selectors():
    assert ethereum.function_selector("transferFrom(address,address,uint256)") == "0x23b872dd"
