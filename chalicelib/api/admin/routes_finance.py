"""Finance: totals, fee income, the operating account, airdrops, lock-up, flows, reconciliation.

Money actions take an `operation_id`: the same id and parameters answer the first result
and move nothing again; the same id with other parameters is refused.
"""
from __future__ import annotations

import json
import time
from typing import Annotated, Any, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from chalicelib.api.admin.http import AdminContext, action
from chalicelib.api.admin.shapes import Amount, NoParams, Operation, Params, Window, token_field, uid_field
from chalicelib.services import admin_finance


def _json_list(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("items must be a JSON array") from None
    return value


class FeeIncomeParams(Window):
    token_id: Optional[str] = token_field(None)


class FundParams(Operation):
    token_id: str = token_field()
    amount: Amount
    from_uid: Optional[str] = Field(None, max_length=20, pattern=r"^\d+$",
                                    description="a user of the org; default: the custody account")


class AirdropParams(Operation):
    uid: str = uid_field()
    token_id: str = token_field()
    amount: Amount
    to_lock: bool = False
    desc: str = Field("", max_length=200)


class AirdropRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    uid: str = uid_field()
    token_id: str = token_field()
    amount: Amount
    to_lock: bool = False


class AirdropBatchParams(Operation):
    items: Annotated[list[AirdropRow], BeforeValidator(_json_list)] = Field(
        min_length=1, max_length=admin_finance.MAX_AIRDROP_ITEMS)
    desc: str = Field("", max_length=200)


class LockParams(Operation):
    uid: str = uid_field()
    token_id: str = token_field()
    amount: Amount
    desc: str = Field("", max_length=200)


class FlowParams(Params):
    uid: Optional[str] = uid_field(None)
    account: Optional[str] = Field(None, max_length=16, description="operating, custody or fee:<shard>")
    token_id: Optional[str] = token_field(None)
    before_id: Optional[int] = Field(None, ge=1)
    start_time: Optional[int] = Field(None, ge=0)
    end_time: Optional[int] = Field(None, ge=0)
    limit: int = Field(50, ge=1, le=200)


def _now() -> int:
    return int(time.time() * 1000)


@action("finance/totals", permission="finance.read", params=NoParams, mutating=False,
        summary="Per token: users' balances, fee accounts, operating account, custody")
def totals(ctx: AdminContext, p: NoParams):
    return {"list": admin_finance.token_totals(ctx.org_id)}


@action("finance/fee_income", permission="finance.read", params=FeeIncomeParams, mutating=False,
        summary="Fees received per bucket, token and source (symbol or withdrawal)")
def fee_income(ctx: AdminContext, p: FeeIncomeParams):
    return {"list": admin_finance.fee_income(ctx.org_id, granularity=p.granularity, start_ms=p.start_time,
                                             end_ms=p.end_time, now_ms=_now(), token=p.token_id)}


@action("finance/operating", permission="finance.read", params=NoParams, mutating=False,
        summary="The operating account's balances")
def operating(ctx: AdminContext, p: NoParams):
    return {"list": admin_finance.operating_balances(ctx.org_id)}


@action("finance/operating_fund", permission="finance.write", params=FundParams,
        summary="Move funds into the operating account from custody or a user")
def operating_fund(ctx: AdminContext, p: FundParams):
    before = admin_finance.operating_balance(ctx.org_id, p.token_id)
    result = admin_finance.fund_operating(ctx.org_id, token=p.token_id, amount=p.amount, from_uid=p.from_uid,
                                          operation_id=p.operation_id)
    ctx.audit(target=f"account:operating:{p.token_id}", before=before,
              after=admin_finance.operating_balance(ctx.org_id, p.token_id))
    return result


def _airdrop(ctx: AdminContext, rows: list[admin_finance.AirdropItem], desc: str, operation_id: str) -> dict:
    tokens = sorted({row.token for row in rows})
    before = {t: admin_finance.operating_balance(ctx.org_id, t) for t in tokens}
    result = admin_finance.airdrop(ctx.org_id, rows, desc=desc, operation_id=operation_id)
    ctx.audit(target=f"airdrop:{operation_id}", before={"operating": before},
              after={"operating": {t: admin_finance.operating_balance(ctx.org_id, t) for t in tokens}, **result})
    return result


@action("finance/airdrop", permission="finance.write", params=AirdropParams,
        summary="Airdrop to one user from the operating account, to the balance or into lock-up")
def airdrop(ctx: AdminContext, p: AirdropParams):
    row = admin_finance.AirdropItem(p.uid, p.token_id, p.amount, p.to_lock)
    return _airdrop(ctx, [row], p.desc, p.operation_id)


@action("finance/airdrop_batch", permission="finance.write", params=AirdropBatchParams,
        summary=f"Airdrop up to {admin_finance.MAX_AIRDROP_ITEMS} rows from the operating account")
def airdrop_batch(ctx: AdminContext, p: AirdropBatchParams):
    rows = [admin_finance.AirdropItem(r.uid, r.token_id, r.amount, r.to_lock) for r in p.items]
    return _airdrop(ctx, rows, p.desc, p.operation_id)


def _lock_op(ctx: AdminContext, p: LockParams, operation) -> dict:
    before = admin_finance.user_balance(ctx.org_id, p.uid, p.token_id)
    result = operation(ctx.org_id, p.uid, p.token_id, p.amount, desc=p.desc, operation_id=p.operation_id)
    ctx.audit(target=f"user:{p.uid}:{p.token_id}", before=before,
              after=admin_finance.user_balance(ctx.org_id, p.uid, p.token_id))
    return result


@action("finance/lock", permission="finance.write", params=LockParams,
        summary="Move a user's available balance into lock-up")
def lock(ctx: AdminContext, p: LockParams):
    return _lock_op(ctx, p, admin_finance.lock)


@action("finance/unlock", permission="finance.write", params=LockParams,
        summary="Release a user's lock-up back to the available balance")
def unlock(ctx: AdminContext, p: LockParams):
    return _lock_op(ctx, p, admin_finance.unlock)


@action("finance/flows", permission="finance.read", params=FlowParams, mutating=False,
        summary="Balance flows of a user (uid) or a system account (account), newest first, cursor-paged")
def flows(ctx: AdminContext, p: FlowParams):
    return admin_finance.flows(ctx.org_id, uid=p.uid, account=p.account, token=p.token_id, before_id=p.before_id,
                               start_ms=p.start_time, end_ms=p.end_time, limit=p.limit)


@action("finance/reconciliation", permission="finance.read", params=NoParams, mutating=False,
        summary="Zero sum per token and every balance of the org whose flows do not add up")
def reconciliation(ctx: AdminContext, p: NoParams):
    return admin_finance.reconciliation(ctx.org_id)
