"""Account endpoints: account, balance_flow, subAccount/query, transfer, checkApiKey, userDataStream.

Users have one account for now: the main spot account (type 1, index 0). Sub-accounts
are not supported yet; subAccount/query lists the main account only, and a transfer
can only name that account on both sides, which BHEX answers `{"success": false}`.
"""
from __future__ import annotations

import time
from typing import Optional

from pydantic import Field

from chalicelib.api.openapi import wire
from chalicelib.api.openapi.auth import Endpoint, signed
from chalicelib.api.openapi.http import ANY, Params, account_paths, endpoint, request
from chalicelib.api.openapi.params import (
    MAX_INT, AccountIndex, AccountType, DecimalText, Id, Limit, ListenKey, Millis, Signed, Token,
)
from chalicelib.api.operations import HMAC
from chalicelib.domain.errors import UnknownAccount
from chalicelib.services import catalog, ledger, listen_keys

SPOT, MAIN_INDEX = 1, 0


class FlowPage(Signed):
    """Newest first below `fromFlowId`, or above `endFlowId`; lock and unlock rows are left out."""

    accountType: AccountType = SPOT
    accountIndex: AccountIndex = MAIN_INDEX
    tokenId: Optional[Token] = None
    flowType: Optional[int] = Field(None, ge=0, le=MAX_INT,
                                    description="only this business subject (1 trade, 2 fee, ...)")
    fromFlowId: Optional[Id] = Field(None, description="only flows with a smaller id")
    endFlowId: Optional[Id] = Field(None, description="only flows with a larger id")
    startTime: Optional[Millis] = None
    endTime: Optional[Millis] = None
    limit: Optional[Limit] = Field(None, description="page size: default 50, at most 100")


class Transfer(Signed):
    """A transfer between the caller's accounts (only the main spot account exists)."""

    fromAccountType: AccountType = SPOT
    fromAccountIndex: AccountIndex = MAIN_INDEX
    toAccountType: AccountType = SPOT
    toAccountIndex: AccountIndex = MAIN_INDEX
    tokenId: Token
    amount: DecimalText


class ListenKeyRef(Signed):
    listenKey: Optional[ListenKey] = None


def _account(params: Params, type_name: str, index_name: str) -> tuple[int, int]:
    account_type = params.integer(type_name, SPOT)
    account_index = params.integer(index_name, MAIN_INDEX)
    return account_type, account_index


def _require_main(account: tuple[int, int]) -> None:
    if account != (SPOT, MAIN_INDEX):
        raise UnknownAccount()


@endpoint(account_paths("account"), verbs=ANY, params=Signed, auth=HMAC, summary="Balances and permissions")
def account():
    caller = signed(request(), Endpoint(weight=5))
    balances = sorted(ledger.balances(caller.account_id), key=lambda entry: entry.token)
    return {
        "canTrade": not caller.key.trade_frozen, "canWithdraw": not caller.key.withdraw_frozen,
        "canDeposit": True, "updateTime": str(int(time.time() * 1000)),
        "balances": [wire.balance(entry) for entry in balances],
    }


@endpoint(account_paths("balance_flow") + account_paths("balanceFlow"), verbs=ANY, params=FlowPage, auth=HMAC,
          summary="Balance changes (the ledger), newest first")
def balance_flow():
    caller = signed(request(), Endpoint(weight=5))
    params = caller.params
    _require_main(_account(params, "accountType", "accountIndex"))
    visible = wire.visible_flow_subjects()
    flow_type = params.integer("flowType")
    if flow_type is not None:
        if flow_type not in visible:
            return []
        visible = {flow_type}
    limit = params.integer("limit", 50)
    limit = 50 if limit is None or limit <= 0 else min(limit, 100)
    token = params.get("tokenId")
    flows = ledger.flows(caller.account_id, token=token.upper() if token else None,
                         before_id=params.integer("fromFlowId"), after_id=params.integer("endFlowId"),
                         start_ms=params.integer("startTime"), end_ms=params.integer("endTime"),
                         subjects=visible, limit=limit)
    return [wire.balance_flow(flow) for flow in flows]


@endpoint(account_paths("subAccount/query"), verbs=ANY, params=Signed, auth=HMAC,
          summary="The caller's accounts (the main spot account only)")
def sub_accounts():
    caller = signed(request(), Endpoint(weight=5))
    return [{"accountId": str(caller.account_id), "accountName": "", "accountType": SPOT,
             "accountIndex": MAIN_INDEX}]


@endpoint(account_paths("transfer") + account_paths("subAccount/transfer"), verbs=ANY, params=Transfer, auth=HMAC,
          summary="Move funds between the caller's accounts")
def transfer():
    caller = signed(request(), Endpoint(weight=1, write=True))
    params = caller.params
    source = _account(params, "fromAccountType", "fromAccountIndex")
    target = _account(params, "toAccountType", "toAccountIndex")
    catalog.org(caller.org_id).token(params.require("tokenId").upper())
    amount = params.decimal("amount")
    if amount <= 0:
        raise wire.invalid("amount")
    _require_main(source)
    _require_main(target)
    return {"success": False}  # the only account is both source and target


@endpoint(account_paths("checkApiKey"), verbs=ANY, params=Signed, auth=HMAC, summary="Check the API key")
def check_api_key():
    signed(request(), Endpoint(weight=1))
    return {"accountType": "master"}


@endpoint(account_paths("userDataStream"), verbs=("POST", "PUT", "DELETE"), auth=HMAC,
          params={"POST": Signed, "PUT": ListenKeyRef, "DELETE": ListenKeyRef},
          summary="Open (POST), keep alive (PUT) or close (DELETE) a user data stream's listen key")
def user_data_stream():
    caller = signed(request(), Endpoint(weight=1))
    method = request().method.upper()
    if method == "POST":
        key = listen_keys.create(org_id=caller.org_id, uid=caller.uid, account_id=caller.account_id,
                                 api_key=caller.key.api_key)
        return {"listenKey": key.listen_key}
    listen_key = caller.params.text("listenKey")
    if method == "PUT":
        listen_keys.keep_alive(listen_key, caller.uid)
    else:
        listen_keys.close(listen_key, caller.uid)
    return {}
