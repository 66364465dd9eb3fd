"""3.3 A user's account: balances, flows, freezes, deposits and withdrawals (by uid only)."""
from __future__ import annotations

from chalicelib.api.org import shapes
from chalicelib.api.org.http import ASSET, OrgRequest, endpoint
from chalicelib.domain.errors import MissingParameter
from chalicelib.services import catalog, deposits, ledger, org_users, withdrawals


def _tokens(request: OrgRequest) -> set[str]:
    raw = request.text("token_ids", "token_id")
    return {part.strip() for part in raw.split(",") if part.strip()}


@endpoint(["/account/frozenUser"], level=ASSET)
def org_account_frozen(request: OrgRequest):
    frozen = request.flag("frozen")
    if frozen is None:
        raise MissingParameter("frozen")
    return org_users.set_assets_frozen(request.org_id, request.uid(), frozen=frozen, token=request.get("token_id"),
                                       amount=request.decimal("amount"), operation_id=request.operation_id())


@endpoint(["/account/getInfo"])
def org_account_info(request: OrgRequest):
    uid = request.uid()
    state = org_users.freeze_state(request.org_id, uid)
    return shapes.listing(request.list_type(), org_users.accounts_of(request.org_id, uid),
                          lambda account: account["account_id"],
                          lambda account: {**account, "frozen": org_users.freeze_view(state)})


@endpoint(["/account/getAsset", "/account/balance"])
def org_account_asset(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    wanted = _tokens(request)
    listed = catalog.org(request.org_id).tokens
    found = [b for b in ledger.balances(holder.account_id) if (not wanted or b.token in wanted) and b.token in listed]
    return shapes.listing(request.list_type(), sorted(found, key=lambda b: b.token), lambda b: b.token,
                          shapes.balance)


@endpoint(["/account/getBalanceFlow", "/account/balance_flow"])
def org_account_flows(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    found = ledger.flows(holder.account_id, token=request.get("token_id"), before_id=request.id_param("from_id"),
                         after_id=request.id_param("to_id"), start_ms=request.integer("start_time"),
                         end_ms=request.integer("end_time"), limit=request.limit(20, 500))
    return shapes.listing(request.list_type(), found, lambda f: f.flow_id, shapes.flow)


@endpoint(["/account/getDepositAddress"], level=ASSET)
def org_account_deposit_address(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    return {"uid": holder.uid, **deposits.deposit_address(holder, request.require("token_id"),
                                                          request.get("chain_type", "chain"))}


@endpoint(["/account/getDepositHistory"])
def org_account_deposits(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    found = deposits.deposit_history(holder, token=request.get("token_id"), from_id=request.id_param("from_id"),
                                     to_id=request.id_param("to_id"), start_ms=request.integer("start_time"),
                                     end_ms=request.integer("end_time"), limit=request.limit(20, 500))
    return shapes.listing(request.list_type(), found, lambda d: d["deposit_id"], lambda d: d)


@endpoint(["/account/getWithdrawQuota"])
def org_account_withdraw_quota(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    return {"uid": holder.uid, **withdrawals.withdrawal_quota(holder, request.require("token_id"),
                                                              request.get("chain_type", "chain"))}


@endpoint(["/account/createWithdraw"], level=ASSET)
def org_account_create_withdraw(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    return withdrawals.create_withdrawal(
        holder, token=request.require("token_id"), amount=request.required_decimal("amount"),
        address=request.require("address"), address_tag=request.get("address_tag"),
        chain=request.get("chain_type", "chain"), client_order_id=request.operation_id())


@endpoint(["/account/getWithdrawHistory"])
def org_account_withdrawals(request: OrgRequest):
    holder = org_users.holder(request.org_id, request.uid())
    found = withdrawals.withdrawal_history(holder, token=request.get("token_id"), from_id=request.id_param("from_id"),
                                           to_id=request.id_param("to_id"), start_ms=request.integer("start_time"),
                                           end_ms=request.integer("end_time"), limit=request.limit(20, 500))
    return shapes.listing(request.list_type(), found, lambda w: w["withdrawal_id"], lambda w: w)
