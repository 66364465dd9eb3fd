"""BHEX signatures: the spec's vectors, both clients' orderings, escaped values, timing."""
from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode

import pytest

from chalicelib.auth.bhex_signature import (
    body_parts, candidate_messages, check_timing, query_orderings, sign, verify,
)

SECRET = "lH3ELTNiFxCQTmi9pPcWWikhsjO04Yoqw3euoHUuOLC3GYBW64ZqzQsiOEHXQS76"
ORDER = "symbol=ETHBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1538323200000"
AWKWARD = "a,b/c:d@e+f g"


def pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def test_the_spec_vectors():
    assert sign(SECRET, ORDER) == "5f2750ad7589d1d40757a55342e621a44037dad23b5128cc70e18ec1d1c3f4c6"
    mixed = ("symbol=ETHBTC&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=0.1&recvWindow=5000"
             "&timestamp=1538323200000")
    assert sign(SECRET, mixed) == "885c9e3dd89ccd13408b25e6d54c2330703759d7494bea6dd5a3d1fd16ba3afa"


def test_a_query_signed_in_received_order_verifies():
    signature = sign(SECRET, ORDER)
    assert verify(SECRET, signature, pairs(ORDER + "&signature=" + signature))


def test_query_and_body_mixed_verify_against_the_raw_body():
    query = "symbol=ETHBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1538323200000"
    signature = "885c9e3dd89ccd13408b25e6d54c2330703759d7494bea6dd5a3d1fd16ba3afa"
    assert verify(SECRET, signature, pairs(query), (body + "&signature=" + signature).encode())


def sdk_signed(params: dict) -> tuple[list, str]:
    """What the bhex SDK sends: params, then timestamp last, signed over urlencode."""
    data = {**params, "timestamp": 1538323200000}
    signature = hmac.new(SECRET.encode(), urlencode(data).encode(), hashlib.sha256).hexdigest()
    return [(k, str(v)) for k, v in data.items()], signature


def ccxt_signed(params: dict) -> tuple[list, str]:
    data = {"timestamp": 1538323200000, **params}
    signature = hmac.new(SECRET.encode(), urlencode(data).encode(), hashlib.sha256).hexdigest()
    return [(k, str(v)) for k, v in data.items()], signature


PARAMS = {"symbol": "BTCUSDT", "origClientOrderId": AWKWARD, "orderId": "", "limit": "10"}


@pytest.mark.parametrize("signed", [sdk_signed, ccxt_signed])
def test_each_clients_query_verifies_however_the_gateway_orders_it(signed):
    sent, signature = signed(PARAMS)
    decoded = pairs(urlencode(sent))  # what API Gateway hands over: decoded values
    assert dict(decoded)["origClientOrderId"] == AWKWARD
    assert verify(SECRET, signature, decoded + [("signature", signature)])
    # The other parameters in the client's order, the timestamp anywhere among them.
    others = [p for p in decoded if p[0] != "timestamp"]
    stamp = [p for p in decoded if p[0] == "timestamp"]
    for delivered in (stamp + others, others + stamp, others[:2] + stamp + others[2:]):
        assert verify(SECRET, signature, delivered)


def test_a_client_that_signs_sorted_parameters_verifies_in_any_delivered_order():
    data = sorted({**PARAMS, "timestamp": "1538323200000"}.items())
    signature = sign(SECRET, urlencode(data))
    assert verify(SECRET, signature, list(reversed(data)))


@pytest.mark.parametrize("signed", [sdk_signed, ccxt_signed])
def test_each_clients_form_body_verifies_byte_for_byte(signed):
    sent, signature = signed({"symbol": "BTCUSDT", "newClientOrderId": AWKWARD, "quantity": "1"})
    raw = (urlencode(sent) + "&signature=" + signature).encode()
    assert b"a%2Cb%2Fc%3Ad%40e%2Bf+g" in raw
    assert verify(SECRET, signature, [], raw)


def test_the_decoded_re_join_that_bhex_itself_signs_is_accepted_for_bodies():
    data = [("newClientOrderId", AWKWARD), ("timestamp", "1538323200000")]
    decoded_message = "&".join(f"{k}={v}" for k, v in data)
    signature = sign(SECRET, decoded_message)
    assert verify(SECRET, signature, [], urlencode(data).encode())


def test_a_signature_over_other_values_or_by_another_secret_fails():
    sent, signature = sdk_signed(PARAMS)
    tampered = [(k, "11" if k == "limit" else v) for k, v in sent]
    assert not verify(SECRET, signature, tampered)
    assert not verify(SECRET[::-1], signature, sent)
    assert not verify(SECRET, signature.upper(), sent)
    assert not verify(SECRET, "", sent)


def test_a_permutation_outside_the_candidates_is_not_accepted():
    sent, signature = sdk_signed(PARAMS)
    reordered = [sent[2], sent[0], sent[3], sent[1], sent[4]]
    assert not verify(SECRET, signature, reordered)


def test_candidates_are_few_and_unique():
    sent, _ = sdk_signed(PARAMS)
    assert len(query_orderings(sent)) <= 4
    assert len(candidate_messages(sent, b"a=1&b=%2C")) <= 8
    assert len(set(candidate_messages(sent))) == len(candidate_messages(sent))


def test_the_signature_segment_is_dropped_by_name_only():
    raw = b"clientOrderId=signature-1&timestamp=1&signature=abc"
    assert body_parts(raw)[0] == "clientOrderId=signature-1&timestamp=1"
    assert body_parts(b"") == [""]
    assert body_parts(b"\xff") == []


@pytest.mark.parametrize("timestamp, window, ok", [
    (10_000, None, True),  # now
    (5_000, None, True),  # exactly recvWindow behind
    (4_999, None, False),
    (11_000, None, True),  # 1000 ms ahead
    (11_001, None, False),
    (1_000, 9_000, True),
    (999, 9_000, False),
    (-50_001, 10_000_000, False),  # the window is capped at 60 s
])
def test_timing(timestamp, window, ok):
    assert check_timing(timestamp, 10_000, window).ok is ok

