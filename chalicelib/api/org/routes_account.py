"""3.3 A user's account: balances, flows, freezes, deposits and withdrawals (by uid only)."""
from __future__ import annotations

from typing import Optional

from pydantic import Field

from chalicelib.api.org import shapes
from chalicelib.api.org.http import ASSET, OrgRequest, endpoint
from chalicelib.api.org.params import Amount, Flag, OneUser, OrgParams, Page, Uid, Uplink, UserListing, named
from chalicelib.domain.errors import MissingParameter
from chalicelib.services import catalog, deposits, ledger, org_users, withdrawals


class AssetFreeze(Uplink):
    frozen: Flag
    uid: Uid = named("uid", "user_id")
    token_id: Optional[str] = Field(None, description="absent: every token, and withdrawals")
    amount: Optional[Amount] = Field(None, description="default: all available (freeze) or all frozen (unfreeze)")


class Balances(UserListing):
    token_ids: Optional[str] = named("token_ids", "token_id", default=None,
                                     description="comma-separated tokens (default all)")


class Chain(OrgParams):
    uid: Uid = named("uid", "user_id")
    token_id: str
    chain_type: Optional[str] = named("chain_type", "chain", default=None)


class Withdrawal(Uplink):
    uid: Uid = named("uid", "user_id")
    token_id: str
    amount: Amount
    address: str
    address_tag: Optional[str] = None
    chain_type: Optional[str] = named("chain_type", "chain", default=None)


def _tokens(request: OrgRequest) -> set[str]:
    raw = request.text("token_ids", "token_id")
    return {part.strip() for part in raw.split(",") if part.strip()}


@endpoint(["/account/frozenUser"], level=ASSET, params=AssetFreeze, summary="Freeze or unfreeze a user's assets")
def org_account_frozen(request: OrgRequest):
    frozen = request.flag("frozen")
    if frozen is None:
        raise MissingParameter("frozen")
    return org_users.set_assets_frozen(request.org_id, request.uid(), frozen=frozen, token=request.get("token_id"),
                                       amount=request.decimal("amount"), operation_id=request.operation_id())


@endpoint(["/account/getInfo"], params=OneUser, summary="A user's accounts and freeze state")
def org_account_info(request: OrgRequest):
    uid = request.uid()
    state = org_users.freeze_state(request.org_id, uid)
    return shapes.listing(request.list_type(), org_users.accounts_of(request.org_id, uid),
                          lambda account: account["account_id"],
                          lambda account: {**account, "frozen": org_users.freeze_view(state)})


@endpoint(["/account/getAsset", "/account/balance"], params=Balances, summary="A user's balances")
def org_account_asset(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    wanted = _tokens(request)
    listed = catalog.org(request.org_id).tokens
    found = [b for b in ledger.balances(holder.account_id) if (not wanted or b.token in wanted) and b.token in listed]
    return shapes.listing(request.list_type(), sorted(found, key=lambda b: b.token), lambda b: b.token,
                          shapes.balance)


@endpoint(["/account/getBalanceFlow", "/account/balance_flow"], params=Page, summary="A user's balance changes")
def org_account_flows(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    found = ledger.flows(holder.account_id, token=request.get("token_id"), before_id=request.id_param("from_id"),
                         after_id=request.id_param("to_id"), start_ms=request.integer("start_time"),
                         end_ms=request.integer("end_time"), limit=request.limit(20, 500))
    return shapes.listing(request.list_type(), found, lambda f: f.flow_id, shapes.flow)


@endpoint(["/account/getDepositAddress"], level=ASSET, params=Chain, summary="A user's deposit address")
def org_account_deposit_address(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    return {"uid": holder.uid, **deposits.deposit_address(holder, request.require("token_id"),
                                                          request.get("chain_type", "chain"))}


@endpoint(["/account/getDepositHistory"], params=Page, summary="A user's deposits")
def org_account_deposits(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    found = deposits.deposit_history(holder, token=request.get("token_id"), from_id=request.id_param("from_id"),
                                     to_id=request.id_param("to_id"), start_ms=request.integer("start_time"),
                                     end_ms=request.integer("end_time"), limit=request.limit(20, 500))
    return shapes.listing(request.list_type(), found, lambda d: d["deposit_id"], lambda d: d)


@endpoint(["/account/getWithdrawQuota"], params=Chain, summary="What a user can withdraw now, and the fee")
def org_account_withdraw_quota(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    return {"uid": holder.uid, **withdrawals.withdrawal_quota(holder, request.require("token_id"),
                                                              request.get("chain_type", "chain"))}


@endpoint(["/account/createWithdraw"], level=ASSET, params=Withdrawal, summary="Withdraw for a user")
def org_account_create_withdraw(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    return withdrawals.create_withdrawal(
        holder, token=request.require("token_id"), amount=request.required_decimal("amount"),
        address=request.require("address"), address_tag=request.get("address_tag"),
        chain=request.get("chain_type", "chain"), client_order_id=request.operation_id())


@endpoint(["/account/getWithdrawHistory"], params=Page, summary="A user's withdrawals")
def org_account_withdrawals(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    found = withdrawals.withdrawal_history(holder, token=request.get("token_id"), from_id=request.id_param("from_id"),
                                           to_id=request.id_param("to_id"), start_ms=request.integer("start_time"),
                                           end_ms=request.integer("end_time"), limit=request.limit(20, 500))
    return shapes.listing(request.list_type(), found, lambda w: w["withdrawal_id"], lambda w: w)
