"""3.1 Org paths: getInfo, getTokens, getSymbols (listType simple and full), updateSettings."""
from __future__ import annotations

from chalicelib.services import catalog
from tests.functional.test_org_api_support import (  # noqa: F401  (fixtures)
    body, http, org_a, org_b, seeded,
)

TOKEN_FULL = {"org_id", "org_name", "exchange_id", "exchange_name", "token_id", "token_name", "token_full_name",
              "icon_url", "allow_withdraw", "allow_deposit", "min_deposit_quantity", "updated_at"}
SYMBOL_FULL = {"org_id", "org_name", "exchange_id", "exchange_name", "symbol_id", "symbol_name", "base_token_id",
               "base_token_name", "quote_token_id", "quote_token_name", "base_precision", "quote_precision",
               "min_trade_quantity", "min_trade_amount", "min_price_precision", "digit_merge", "can_trade",
               "can_buy", "can_sell", "updated_at"}


def test_get_info_describes_the_org_of_the_key(org_a, org_b):
    info = org_a.read.ok("/getInfo", method="GET")
    assert (info["org_id"], info["org_name"], info["org_type"]) == ("7002", "Demo Broker", "BROKER")
    assert isinstance(info["updated_at"], int)
    assert info["settings"]["tokens"]["BTC"]["withdraw_fee"] == "0.0005"
    assert org_b.read.ok("/getInfo")["org_id"] == "7003"


def test_get_tokens_lists_ids_or_the_full_token_objects(org_a):
    listed = sorted(catalog.org("7002").tokens)
    assert {"BTC", "ETH", "USDT"} <= set(listed)
    assert org_a.read.ok("/getTokens", {"listType": "simple"}, method="GET") == listed
    full = org_a.read.ok("/getTokens", {"listType": "full"})
    assert [t["token_id"] for t in full] == listed
    assert TOKEN_FULL <= set(full[0])
    btc = full[0]
    assert (btc["token_full_name"], btc["min_deposit_quantity"], btc["org_id"]) == ("Bitcoin", "0.0001", "7002")
    assert org_a.read.ok("/basic/tokens", {"token_id": "ETH"})[0]["token_id"] == "ETH"  # alias of the real system


def test_get_symbols_lists_ids_or_the_full_symbol_objects(org_a):
    assert org_a.read.ok("/getSymbols", {"listType": "simple"}) == sorted(catalog.org("7002").symbols)
    full = {s["symbol_id"]: s for s in org_a.read.ok("/getSymbols", {"listType": "full"}, method="GET")}
    assert SYMBOL_FULL <= set(full["BTCUSDT"])
    btc = full["BTCUSDT"]
    assert (btc["base_token_id"], btc["quote_token_id"], btc["min_price_precision"], btc["min_trade_quantity"]) == \
        ("BTC", "USDT", "0.01", "0.000001")
    assert btc["can_trade"] is True


def test_a_bad_list_type_is_a_business_error(org_a):
    response = org_a.read.post("/getTokens", {"listType": "everything"})
    assert response.status_code == 400 and body(response)["code"] == 2001


def test_update_settings_sets_fees_thresholds_switches_and_mapping_rates(org_a):
    changed = org_a.asset.ok("/updateSettings", {"token_id": "USDT", "withdraw_fee": "2.5",
                                                 "withdraw_review_threshold": "5000", "client_order_id": "s-1"})
    assert changed["settings"]["tokens"]["USDT"]["withdraw_fee"] == "2.5"
    assert changed["settings"]["withdraw_review_threshold"] == {"USDT": "5000"}
    org_a.asset.ok("/updateSettings", {"notify_place_order": "true", "second_factor_withdraw": "1",
                                       "session_hours": "12", "client_order_id": "s-2"})
    org_a.asset.ok("/updateSettings", {"token_id": "BTC", "target_token_id": "USDT", "mapping_rate": "20000",
                                       "client_order_id": "s-3"})
    settings = catalog.org("7002").settings
    assert settings["notify_place_order"] is True and settings["session_hours"] == 12
    assert settings["mapping_rates"] == {"BTC/USDT": "20000"}
    assert catalog.org("7002").token("USDT").withdraw_fee == 2.5
    org_a.asset.ok("/updateSettings", {"token_id": "USDT", "withdraw_review_threshold": "", "client_order_id": "s-4"})
    assert catalog.org("7002").settings["withdraw_review_threshold"] == {}


def test_update_settings_refuses_unknown_values_and_a_read_key(org_a):
    response = org_a.asset.post("/updateSettings", {"withdraw_fee": "1", "client_order_id": "s-9"})
    assert response.status_code == 400 and body(response)["code"] == 2002  # per token: token_id is missing
    response = org_a.asset.post("/updateSettings", {"session_hours": "0", "client_order_id": "s-10"})
    assert response.status_code == 400
    response = org_a.read.post("/updateSettings", {"notify_place_order": "1", "client_order_id": "s-11"})
    assert response.status_code == 403 and body(response)["code"] == 1013
    assert "notify_place_order" not in catalog.org("7002").settings
