"""The User OpenAPI's parameter models: bad values are BHEX 400s, and the document lists them."""
from __future__ import annotations

import pytest

from chalicelib.api.apidocs import generator
from chalicelib.api.rendering import Family
from tests.functional.test_openapi_support import (  # noqa: F401  (fixtures)
    HOST, body, http, openapi_app, seeded, user_client,
)

TOO_BIG = str(2**64)


@pytest.fixture
def alice(seeded, http):
    return user_client(http, seeded["users"][0])


def bhex_error(response, code: int) -> dict:
    answer = body(response)
    assert (response.status_code, answer.get("code")) == (400, code), response.body
    assert set(answer) == {"code", "msg"} and answer["msg"]
    return answer


def test_a_huge_limit_or_id_on_a_signed_endpoint_is_a_1130(alice):
    bhex_error(alice.get("/openapi/v1/balance_flow", {"limit": TOO_BIG}), -1130)
    bhex_error(alice.get("/openapi/v1/balance_flow", {"fromFlowId": TOO_BIG}), -1130)
    bhex_error(alice.get("/openapi/v1/withdrawalOrders", {"startTime": "-1"}), -1130)
    answer = bhex_error(alice.get("/openapi/v1/depositOrders", {"limit": TOO_BIG}), -1130)
    assert answer["msg"] == "Data sent for paramter 'limit' is not valid."


def test_a_non_numeric_id_is_a_1130(alice):
    bhex_error(alice.get("/openapi/v1/depositOrders", {"fromId": "abc"}), -1130)
    bhex_error(alice.get("/openapi/v1/withdraw/detail", {"orderId": "12x"}), -1130)
    bhex_error(alice.post("/openapi/v1/transfer", {"tokenId": "USDT", "amount": "1", "toAccountIndex": "-1"}),
               -1130)


def test_a_token_or_listen_key_of_the_wrong_shape_is_a_1130_and_a_missing_one_a_1004(alice):
    bhex_error(alice.get("/openapi/v1/depositAddress", {"tokenId": "US DT"}), -1130)
    bhex_error(alice.post("/openapi/v1/transfer", {"tokenId": "USDT", "amount": "one"}), -1130)
    bhex_error(alice.put("/openapi/v1/userDataStream", {"listenKey": "k" * 129}), -1130)
    assert bhex_error(alice.get("/openapi/v1/depositAddress"), -1004)["msg"] == \
        "Missing required parameter 'tokenId'"


def test_an_unknown_listen_key_of_any_shape_still_answers_an_empty_object(alice):
    assert body(alice.put("/openapi/v1/userDataStream", {"listenKey": "not a key!"})) == {}


def test_the_signature_is_checked_before_the_parameters(alice):
    bhex_error(alice.get("/openapi/v1/depositOrders", {"fromId": "abc"}, signature="0" * 64), -1022)


def test_quote_parameters_keep_the_quote_servers_codes(http, seeded):
    def get(path):
        return http.get(path, headers=HOST)

    assert bhex_error(get(f"/openapi/quote/v1/trades?symbol=BTCUSDT&limit={TOO_BIG}"), -100002)["msg"] == \
        "Param limit should be int."
    bhex_error(get("/openapi/quote/v1/depth?symbol=" + "B" * 33), -100002)
    bhex_error(get("/openapi/quote/v1/ticker/price?symbol=BTC/USDT"), -100002)
    bhex_error(get("/openapi/quote/v1/klines?symbol=BTCUSDT&interval=1m&startTime=soon"), -100002)
    bhex_error(get("/openapi/quote/v1/depth/merged?symbol=BTCUSDT&scale=-1"), -100002)
    bhex_error(get("/openapi/quote/v1/klines?symbol=BTCUSDT&interval=" + "m" * 17), -100002)
    assert bhex_error(get("/openapi/quote/v1/klines?symbol=BTCUSDT"), -100012)["msg"] == \
        "Parameter interval [null] missing!"


def test_a_bad_broker_info_type_is_still_a_1130(http, seeded):
    bhex_error(http.get("/openapi/v1/brokerInfo?type=" + "X" * 17, headers=HOST), -1130)
    assert http.get("/openapi/v1/brokerInfo?type=margin", headers=HOST).status_code == 200


def parameters(document: dict, path: str, method: str = "get") -> dict[str, dict]:
    return {p["name"]: p for p in document["paths"][path][method]["parameters"]}


def schema_of(document: dict, path: str, method: str) -> dict:
    reference = document["paths"][path][method]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    name = reference["schema"]["$ref"].rsplit("/", 1)[-1]
    return document["components"]["schemas"][name]


def test_the_document_lists_every_endpoints_parameters_with_their_bounds():
    openapi_app()
    document = generator.document(Family.OPENAPI)
    flow = parameters(document, "/openapi/v1/balance_flow")
    assert {"timestamp", "accountType", "accountIndex", "tokenId", "flowType", "fromFlowId", "endFlowId",
            "startTime", "endTime", "limit"} <= set(flow)
    assert flow["timestamp"]["required"] is True and flow["fromFlowId"]["schema"]["maximum"] == 2**63 - 1
    assert flow["accountType"]["schema"]["default"] == 1
    assert document["paths"]["/openapi/balanceFlow"]["get"]["x-alias-of"] == "/openapi/v1/balance_flow"
    funds = parameters(document, "/openapi/v1/depositOrders")
    assert {"token", "tokenId", "fromId", "startTime", "endTime", "limit"} <= set(funds)
    withdraw = parameters(document, "/openapi/v1/withdraw")
    assert {name for name, p in withdraw.items() if p["required"]} == {
        "timestamp", "clientOrderId", "tokenId", "address", "withdrawQuantity"}
    assert set(schema_of(document, "/openapi/v1/withdraw", "post")["required"]) == {
        "timestamp", "clientOrderId", "tokenId", "address", "withdrawQuantity"}
    assert "listenKey" in schema_of(document, "/openapi/v1/userDataStream", "delete")["properties"]
    assert "listenKey" not in schema_of(document, "/openapi/v1/userDataStream", "post")["properties"]
    assert document["paths"]["/openapi/v1/transfer"]["post"]["security"] == \
        document["paths"]["/openapi/v1/order"]["post"]["security"] != []

    merged = parameters(document, "/openapi/quote/v1/depth/merged")
    assert merged["symbol"]["required"] is True and merged["symbol"]["schema"]["pattern"]
    assert (merged["scale"]["schema"]["minimum"], merged["scale"]["schema"]["maximum"]) == (0, 18)
    klines = parameters(document, "/openapi/quote/v1/klines")
    assert {name for name, p in klines.items() if p["required"]} == {"symbol", "interval"}
    assert parameters(document, "/openapi/quote/v1/trades")["limit"]["schema"]["default"] == 500
    assert parameters(document, "/openapi/v1/brokerInfo")["type"]["required"] is False
    assert "parameters" not in document["paths"]["/openapi/v1/pairs"]["get"]
    assert document["paths"]["/openapi/quote/v1/depth"]["get"]["security"] == []
