"""Deposits and withdrawals: depositOrders, withdrawalOrders, withdraw/detail, depositAddress, withdraw.

BHEX documents these only in its Chinese REST doc; the shapes follow its real server.
A withdrawal over the OpenAPI goes only to an address in the user's saved address list
(BHEX: "the withdrawal address must be in the current tag list") and only with a key
bound to an IP whitelist.
"""
from __future__ import annotations

from typing import Optional

from pydantic import Field

from chalicelib.api.openapi import wire
from chalicelib.api.openapi.auth import Caller, Endpoint, signed
from chalicelib.api.openapi.http import ANY, Params, account_paths, endpoint, request
from chalicelib.api.openapi.params import (
    Address, AddressTag, Chain, ClientId, DecimalText, Id, Limit, Millis, Signed, Token,
)
from chalicelib.api.openapi.wire import BhexError
from chalicelib.api.operations import HMAC
from chalicelib.domain.custody import Holder
from chalicelib.domain.errors import IdempotencyMismatch
from chalicelib.services import deposits, withdrawals


class FundsPage(Signed):
    """Newest first; `fromId` keeps the larger ids."""

    token: Optional[Token] = Field(None, description="only this token (`tokenId` is read too)")
    tokenId: Optional[Token] = None
    fromId: Optional[Id] = Field(None, description="only records with a larger id")
    startTime: Optional[Millis] = None
    endTime: Optional[Millis] = None
    limit: Optional[Limit] = Field(None, description="page size: default 500; above 1000 means the default")


class WithdrawalRef(Signed):
    """One of the caller's withdrawals, by id or by the client order id it was made with."""

    orderId: Optional[Id] = None
    clientOrderId: Optional[ClientId] = None


class DepositAddressQuery(Signed):
    tokenId: Token
    chainType: Optional[Chain] = None


class NewWithdrawal(Signed):
    """A withdrawal to one of the caller's saved addresses; `clientOrderId` makes a retry
    answer the first withdrawal."""

    clientOrderId: ClientId
    tokenId: Token
    address: Address
    addressExt: Optional[AddressTag] = None
    withdrawQuantity: DecimalText = Field(description="the amount to arrive; the fee comes on top")
    chainType: Optional[Chain] = None


def _holder(caller: Caller) -> Holder:
    return Holder(caller.org_id, caller.uid, caller.account_id)


def _history_window(params: Params) -> dict:
    limit = params.integer("limit", 500)
    token = params.get("token") or params.get("tokenId")
    return {"token": token.upper() if token else None, "to_id": params.integer("fromId"),
            "start_ms": params.integer("startTime"), "end_ms": params.integer("endTime"),
            "limit": 500 if limit is None or limit <= 0 or limit > 1000 else limit}


def deposit_order(view: dict) -> dict:
    return {
        "time": wire.long_text(view["created_at"]), "orderId": view["deposit_id"], "token": view["token"],
        "tokenId": view["token"], "tokenName": view["token"], "address": view["address"],
        "addressTag": view.get("address_tag") or "", "fromAddress": view.get("from_address") or "",
        "fromAddressTag": view.get("from_address_tag") or "", "quantity": wire.dec(view["amount"]),
        "status": int(view["status"]), "statusCode": view["status_code"],
        "requiredConfirmNum": int(view["required_confirmations"]), "confirmNum": int(view["confirmations"]),
        "txid": "" if view.get("internal") else view.get("tx_hash") or "", "txidUrl": "",
    }


def withdrawal_order(view: dict) -> dict:
    return {
        "time": wire.long_text(view["created_at"]), "orderId": view["withdrawal_id"],
        "accountId": str(view["account_id"]), "token": view["token"], "tokenId": view["token"],
        "tokenName": view["token"], "address": view["address"], "addressExt": view.get("address_tag") or "",
        "quantity": wire.dec(view["amount"]), "arriveQuantity": wire.dec(view["arrive_amount"]),
        "status": int(view["status"]), "statusCode": view["status_code"], "txid": view.get("tx_id") or "",
        "txidUrl": "", "walletHandleTime": wire.long_text(view.get("handed_at") or 0), "addressUrl": "",
        "requiredConfirmNum": int(view.get("required_confirmations") or 0),
        "confirmNum": int(view.get("confirmations") or 0), "kernelId": "",
        "isInternalTransfer": bool(view.get("internal")), "feeTokenId": view["fee_token"],
        "feeTokenName": view["fee_token"], "fee": wire.dec(view["fee"]),
    }


@endpoint(account_paths("depositOrders"), verbs=ANY, params=FundsPage, auth=HMAC, summary="The caller's deposits")
def deposit_orders():
    caller = signed(request(), Endpoint(weight=5))
    views = deposits.deposit_history(_holder(caller), **_history_window(caller.params))
    return [deposit_order(view) for view in views]


@endpoint(account_paths("withdrawalOrders"), verbs=ANY, params=FundsPage, auth=HMAC,
          summary="The caller's withdrawals")
def withdrawal_orders():
    caller = signed(request(), Endpoint(weight=5))
    views = withdrawals.withdrawal_history(_holder(caller), **_history_window(caller.params))
    return [withdrawal_order(view) for view in views]


@endpoint(account_paths("withdraw/detail"), verbs=ANY, params=WithdrawalRef, auth=HMAC,
          summary="One withdrawal, by id or client order id")
def withdrawal_detail():
    caller = signed(request(), Endpoint(weight=2))
    params = caller.params
    view = withdrawals.withdrawal_detail(_holder(caller), withdrawal_id=params.get("orderId"),
                                         client_order_id=params.get("clientOrderId"))
    return withdrawal_order(view)


@endpoint(account_paths("depositAddress"), verbs=("GET", "POST"), params=DepositAddressQuery, auth=HMAC,
          summary="The caller's deposit address for a token and chain")
def deposit_address():
    caller = signed(request(), Endpoint(weight=1))
    params = caller.params
    answer = deposits.deposit_address(_holder(caller), params.require("tokenId").upper(), params.get("chainType"))
    return {
        "allowDeposit": bool(answer["allow_deposit"]), "address": answer["address"],
        "addressExt": answer.get("address_tag") or "", "minQuantity": wire.dec(answer["min_deposit"]),
        "needAddressTag": bool(answer["need_address_tag"]),
        "requiredConfirmNum": int(answer["required_confirmations"]),
        "canWithdrawConfirmNum": int(answer["can_withdraw_confirmations"]), "tokenType": answer["chain"],
    }


@endpoint(account_paths("withdraw"), verbs=("GET", "POST"), params=NewWithdrawal, auth=HMAC,
          summary="Withdraw to a saved address (the key needs an IP whitelist)")
def withdraw():
    caller = signed(request(), Endpoint(weight=1, write=True, needs_ip_whitelist=True))
    params = caller.params
    client_order_id = params.require("clientOrderId")
    address = params.require("address")
    token = params.require("tokenId").upper()
    amount = params.decimal("withdrawQuantity")
    try:
        view = withdrawals.create_withdrawal(
            _holder(caller), token=token, amount=amount, address=address, address_tag=params.get("addressExt"),
            chain=params.get("chainType"), client_order_id=client_order_id, require_saved_address=True)
    except IdempotencyMismatch:
        raise BhexError(-1174, "Repeated submit: this clientOrderId was used with other terms.") from None
    return {"success": True, "needBrokerAudit": bool(view["needs_review"]), "orderId": view["withdrawal_id"],
            "allowWithdraw": True, "refuseReason": "", "status": 0}
