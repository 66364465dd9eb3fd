"""Deposits and withdrawals over the OpenAPI, against the custody simulator."""
from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from chalicelib.domain.custody import Holder
from chalicelib.gateways import custody
from chalicelib.services import deposits, withdrawals
from tests.functional.test_openapi_support import (  # noqa: F401  (fixtures)
    balances, body, http, new_key, seeded, user_client,
)


@pytest.fixture
def alice(seeded, http):
    custody.use(None)
    user = seeded["users"][0]
    yield user, user_client(http, user), new_key(seeded, 0, http, ip_whitelist=["127.0.0.1"], op="wd")
    custody.use(None)


def is_long_text(value) -> bool:
    return isinstance(value, str) and value.isdigit()


def test_a_deposit_address_then_a_credited_deposit(alice):
    user, client, _ = alice
    answer = client.get("/openapi/v1/depositAddress", {"tokenId": "USDT", "chainType": "TRC20"})
    assert answer.status_code == 200, answer.body
    address = body(answer)
    assert address["address"].startswith("T") and address["tokenType"] == "TRC20"
    assert address["allowDeposit"] is True and address["needAddressTag"] is False and address["minQuantity"] == "1"
    assert isinstance(address["requiredConfirmNum"], int)
    assert body(client.post("/openapi/v1/depositAddress", {"tokenId": "USDT", "chainType": "TRC20"})) == address

    report = custody.simulator().deposit_report(chain="TRC20", token="USDT", address=address["address"],
                                                amount="250.5", confirmations=address["requiredConfirmNum"])
    deposits.receive_callback(json.loads(report.body))
    assert balances(user["account_id"])["USDT"][0] == D("1000250.5")
    orders = body(client.get("/openapi/v1/depositOrders", {"token": "USDT"}))
    assert len(orders) == 1
    order = orders[0]
    assert order["quantity"] == "250.5" and order["tokenId"] == "USDT" and order["address"] == address["address"]
    assert order["status"] == 2 and order["statusCode"] == "DEPOSIT_CAN_WITHDRAW"
    assert is_long_text(order["orderId"]) and is_long_text(order["time"]) and isinstance(order["confirmNum"], int)
    assert body(client.get("/openapi/v1/depositOrders", {"token": "BTC"})) == []
    flows = body(client.get("/openapi/v1/balance_flow", {"tokenId": "USDT"}))
    assert (flows[0]["flowType"], flows[0]["change"]) == ("DEPOSIT", "250.5")


def test_a_withdrawal_to_a_saved_address(alice):
    user, plain, whitelisted = alice
    target = "0x" + "ab" * 20
    request = {"clientOrderId": "w-1", "tokenId": "USDT", "address": target, "withdrawQuantity": "100",
               "chainType": "ERC20"}
    assert body(plain.post("/openapi/v1/withdraw", request))["code"] == -1023  # no IP whitelist on this key
    refused = whitelisted.post("/openapi/v1/withdraw", request)
    assert body(refused)["code"] == -1187  # not a saved address
    assert balances(user["account_id"])["USDT"] == (D(1000000), D(0))

    holder = Holder("7002", user["uid"], user["account_id"])
    withdrawals.add_address(holder, token="USDT", address=target, chain="ERC20")
    placed = whitelisted.post("/openapi/v1/withdraw", request)
    assert placed.status_code == 200, placed.body
    answer = body(placed)
    assert answer["success"] is True and answer["needBrokerAudit"] is False and is_long_text(answer["orderId"])
    assert balances(user["account_id"])["USDT"] == (D(1000000) - D(101), D(101))  # amount + fee 1 locked
    assert body(whitelisted.post("/openapi/v1/withdraw", request))["orderId"] == answer["orderId"]
    conflicting = whitelisted.post("/openapi/v1/withdraw", {**request, "withdrawQuantity": "99"})
    assert body(conflicting)["code"] == -1174

    listed = body(plain.get("/openapi/v1/withdrawalOrders"))
    assert [w["orderId"] for w in listed] == [answer["orderId"]]
    item = listed[0]
    assert item["quantity"] == "100" and item["fee"] == "1" and item["feeTokenId"] == "USDT"
    assert isinstance(item["status"], int) and item["statusCode"] in (
        "BROKER_AUDITING_STATUS", "PROCESSING_STATUS", "AUDITING_STATUS")
    assert is_long_text(item["time"]) and is_long_text(item["accountId"]) and item["isInternalTransfer"] is False
    by_id = body(plain.get("/openapi/v1/withdraw/detail", {"orderId": answer["orderId"]}))
    by_client = body(plain.get("/openapi/v1/withdraw/detail", {"clientOrderId": "w-1"}))
    assert by_id == by_client == item
    assert body(plain.get("/openapi/v1/withdraw/detail", {"orderId": "42"}))["code"] == -2013


def test_a_read_only_key_cannot_withdraw(seeded, http):
    reader = new_key(seeded, 0, http, key_type=0, ip_whitelist=["127.0.0.1"], op="ro")
    response = reader.post("/openapi/v1/withdraw", {"clientOrderId": "w", "tokenId": "USDT", "address": "x",
                                                    "withdrawQuantity": "10"})
    assert body(response)["code"] == -1020
