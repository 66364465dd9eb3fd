"""The User API's asset, order and public routes validate their parameters with their
params models: a bad value answers 400 `{code, msg}` before anything changes, a blank
value still counts as absent, and the services keep answering their own codes for
values the models leave to them (side, symbol, second factor)."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from chalicelib.api.apidocs import generator
from chalicelib.api.rendering import Family
from chalicelib.api.user.params import MAX_ID
from chalicelib.store import orders as order_store
from tests.functional.test_user_api_support import (  # noqa: F401  (fixtures)
    Browser, balances, http, log_in, seeded,
)

ORDER = {"symbol_id": "BTCUSDT", "side": "buy", "type": "limit", "price": "100", "quantity": "0.01"}


def refused(answer, code: int = 2001) -> bool:
    return answer.status == 400 and answer.code == code and isinstance(answer.json.get("msg"), str)


def test_an_order_placed_with_valid_params_works_from_a_form_or_json_with_numbers(seeded, http):
    alice = log_in(http, "alice@demo.local")
    placed = alice.post("/api/order/create", {**ORDER, "client_order_id": "p-1", "time_in_force": ""})
    assert placed.status == 200 and placed.json["clientOrderId"] == "p-1", placed
    by_json = alice.post("/api/order/create", {**ORDER, "price": 100, "quantity": "0.02", "client_order_id": 7},
                         as_json=True)
    assert by_json.status == 200 and by_json.json["clientOrderId"] == "7", by_json  # a JSON number read as its text
    by_json = alice.post("/api/order/create", {**ORDER, "price": 100, "quantity": "0.02", "client_order_id": "p-2"},
                         as_json=True)
    assert by_json.status == 200 and by_json.json["price"] == "100", by_json
    # `symbol` is the other name of `symbol_id`; `type` defaults to LIMIT
    other_name = alice.post("/api/order/create", {"symbol": "btcusdt", "side": "BUY", "price": "100",
                                                  "quantity": "0.01"})
    assert other_name.status == 200 and other_name.json["type"] == "LIMIT", other_name
    assert [o["orderId"] for o in alice.get("/api/order/open_orders", {"symbol": "BTCUSDT", "limit": 2}).json] == [
        other_name.json["orderId"], by_json.json["orderId"]]
    found = alice.get("/api/order/get", {"order_id": placed.json["orderId"], "client_order_id": ""})
    assert found.json["clientOrderId"] == "p-1"


def test_a_malformed_quantity_or_price_answers_400_and_places_nothing(seeded, http):
    alice = log_in(http, "alice@demo.local")
    account = seeded["users"][0]["account_id"]
    before = balances(account)
    for bad in ({"quantity": "1e3"}, {"quantity": "abc"}, {"quantity": "-1"}, {"price": "1,5"},
                {"quantity": "9" * 80}):
        assert refused(alice.post("/api/order/create", {**ORDER, **bad})), bad
    assert refused(alice.post("/api/order/create", {**ORDER, "quantity": 0.5}, as_json=True))  # a float is lossy
    assert refused(alice.post("/api/order/create", {**ORDER, "quantity": ""}), 2002)
    assert list(order_store.of_account(account)) == [] and balances(account) == before
    # the services still answer their own codes for what the models leave to them
    assert alice.post("/api/order/create", {**ORDER, "side": "up"}).code == 4003
    assert alice.post("/api/order/create", {**ORDER, "symbol_id": "NOPE"}).code == 4001
    assert alice.post("/api/order/create", {**ORDER, "type": "stop"}).code == 4004
    assert alice.post("/api/order/create", {**{k: v for k, v in ORDER.items() if k != "symbol_id"}}).code == 2002


@pytest.mark.parametrize("path, params", [
    ("/api/order/open_orders", {"limit": str(10**30)}),
    ("/api/order/my_trades", {"limit": "501"}),
    ("/api/asset/balance_flow", {"limit": "0"}),
    ("/api/asset/deposit/order_list", {"limit": str(MAX_ID + 1)}),
    ("/api/order/my_trades", {"from_id": "abc"}),
    ("/api/order/trade_orders", {"from_order_id": "12x"}),
    ("/api/asset/withdrawal/order_list", {"from_id": "0"}),
    ("/api/asset/balance_flow", {"end_time": str(MAX_ID + 1)}),
    ("/api/asset/balance_flow", {"token_id": "US DT"}),
    ("/api/order/get", {"order_id": "-1"}),
])
def test_a_bad_paging_value_answers_400(seeded, http, path, params):
    alice = log_in(http, "alice@demo.local")
    answer = alice.get(path, params)
    assert refused(answer), answer
    assert answer.json["msg"].startswith(f"Parameter '{next(iter(params))}'")


def test_blank_values_count_as_absent_and_the_largest_values_answer_without_a_server_error(seeded, http):
    alice = log_in(http, "alice@demo.local")
    blank = {"from_id": "", "end_id": "", "start_time": "", "end_time": "", "limit": "", "token_id": ""}
    for path in ("/api/asset/balance_flow", "/api/asset/deposit/order_list", "/api/asset/withdrawal/order_list",
                 "/api/order/my_trades", "/api/order/trade_orders", "/api/order/open_orders"):
        assert alice.get(path, blank).status == 200, path
    largest = {"from_id": MAX_ID, "end_id": MAX_ID, "start_time": MAX_ID, "end_time": MAX_ID, "limit": 500}
    for path in ("/api/asset/balance_flow", "/api/asset/deposit/order_list", "/api/asset/withdrawal/order_list",
                 "/api/order/my_trades", "/api/order/trade_orders"):
        assert alice.get(path, largest).json == [], path
    assert alice.get("/api/order/get", {"order_id": MAX_ID}).code == 4030
    assert alice.get("/api/asset/withdrawal/order", {"order_id": MAX_ID}).code == 5007
    assert alice.get("/api/asset/deposit/order", {"order_id": MAX_ID}).code == 5008
    public = Browser(http)
    assert public.get("/api/quote/v1/klines", {"symbol": "BTCUSDT", "from": MAX_ID, "to": MAX_ID}).json == []
    assert public.get("/api/quote/v1/klines", {"symbol": "BTCUSDT", "interval": "7m"}).code == 2001
    assert public.get("/api/quote/v1/depth", {"symbol": "301.BTCUSDT", "limit": ""}).json["symbol"] == "BTCUSDT"
    assert refused(public.get("/api/quote/v1/trades", {"symbol": "BTCUSDT", "limit": "1001"}))
    assert refused(public.get("/s_api/basic/banners", {"limit": "101"}))


def test_a_withdrawal_with_a_malformed_amount_is_refused_before_the_second_factor(seeded, http):
    alice = log_in(http, "alice@demo.local")
    account = seeded["users"][0]["account_id"]
    before = balances(account)
    request = {"token_id": "USDT", "chain_type": "ERC20", "address": "0x" + "12" * 20, "client_order_id": "w-1"}
    assert refused(alice.post("/api/asset/withdrawal/create", {**request, "withdraw_quantity": "ten"}))
    assert refused(alice.post("/api/asset/withdrawal/create", request), 2002)
    assert refused(alice.post("/api/asset/withdrawal/create", {**request, "withdraw_quantity": "10",
                                                               "client_order_id": ""}), 2002)
    # a whole number from a JSON client is an amount; then the second factor is asked for
    assert alice.post("/api/asset/withdrawal/create", {**request, "withdraw_quantity": 10}, as_json=True).code == 1016
    assert balances(account) == before and before["USDT"][0] > D(0)


def test_the_document_lists_every_parameter_the_views_read():
    document = generator.document(Family.USER)
    schemas, paths = document["components"]["schemas"], document["paths"]
    placed = schemas["CreateOrder"]
    assert {"symbol_id", "symbol", "side", "type", "price", "quantity", "time_in_force", "client_order_id"} == set(
        placed["properties"]) and set(placed["required"]) == {"side", "quantity"}
    assert {branch["type"] for branch in placed["properties"]["quantity"]["anyOf"]} == {"string", "integer"}
    withdrawal = schemas["WithdrawalCreate"]["properties"]
    assert {"ga_code", "verify_code", "order_id", "auth_type", "withdraw_quantity", "quantity", "address_ext"} <= set(
        withdrawal)
    klines = {p["name"]: p for p in paths["/api/quote/v1/klines"]["get"]["parameters"]}
    assert set(klines) == {"symbol", "symbol_id", "interval", "from", "to", "limit"}
    assert klines["limit"]["schema"]["maximum"] == 1000 and klines["from"]["schema"]["minimum"] == 0
    flows = {p["name"]: p for p in paths["/api/asset/balance_flow"]["get"]["parameters"]}
    assert flows["from_id"]["schema"] == {"minimum": 1, "maximum": MAX_ID, "type": "integer", "title": "From Id"}
    assert paths["/api/order/create"]["post"]["summary"] == "Place an order"
