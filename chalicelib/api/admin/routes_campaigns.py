"""Campaigns: bonus rules (register bonus, invite referral bonus) paid from the operating
account within a budget. Rules pay on a schedule (`campaigns.catch_up_all`); `campaigns/run`
pays what is due for this org right away."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from chalicelib.api.admin.http import AdminContext, action
from chalicelib.api.admin.shapes import Amount, NoParams, Operation, Params, token_field
from chalicelib.services import campaigns

RULE_ID = dict(min_length=1, max_length=20, pattern=r"^\d+$")


class RuleListParams(Params):
    status: Optional[Literal["ACTIVE", "PAUSED", "EXHAUSTED", "ENDED"]] = None


class RuleParams(Params):
    rule_id: str = Field(**RULE_ID)


class PayoutParams(RuleParams):
    after_uid: Optional[str] = Field(None, max_length=20, pattern=r"^\d+$")
    limit: int = Field(50, ge=1, le=200)


class CreateRuleParams(Operation):
    name: str = Field(min_length=1, max_length=100)
    trigger: Literal["register", "invite"] = Field(description="register: the new user; invite: the inviter")
    token_id: str = token_field()
    amount: Amount = Field(description="bonus per payout")
    budget: Amount = Field(description="most the rule may pay in all")
    to_lock: bool = Field(False, description="pay into lock-up instead of the available balance")
    starts_at: Optional[int] = Field(None, ge=0, description="ms; default now")
    ends_at: Optional[int] = Field(None, ge=0, description="ms; default open-ended")


class UpdateRuleParams(RuleParams):
    name: Optional[str] = Field(None, min_length=1, max_length=100)
    budget: Optional[Amount] = None
    ends_at: Optional[int] = Field(None, ge=0)
    status: Optional[Literal["ACTIVE", "PAUSED"]] = None


@action("campaigns/list", permission="campaigns.read", params=RuleListParams, mutating=False,
        summary="The org's bonus rules with budget, spent and status")
def list_rules(ctx: AdminContext, p: RuleListParams):
    return {"list": campaigns.list_rules(ctx.org_id, status=p.status)}


@action("campaigns/detail", permission="campaigns.read", params=RuleParams, mutating=False, summary="One rule")
def rule_detail(ctx: AdminContext, p: RuleParams):
    return campaigns.get_rule(ctx.org_id, p.rule_id)


@action("campaigns/payouts", permission="campaigns.read", params=PayoutParams, mutating=False,
        summary="Bonuses a rule paid, by triggering user, cursor-paged (next_after_uid)")
def payouts(ctx: AdminContext, p: PayoutParams):
    return campaigns.payouts(ctx.org_id, p.rule_id, after_uid=p.after_uid, limit=p.limit)


@action("campaigns/create", permission="campaigns.write", params=CreateRuleParams,
        summary="Create a bonus rule (idempotent on operation_id)")
def create_rule(ctx: AdminContext, p: CreateRuleParams):
    rule = campaigns.create_rule(ctx.org_id, name=p.name, trigger=p.trigger, token=p.token_id, amount=p.amount,
                                 budget=p.budget, to_lock=p.to_lock, starts_at=p.starts_at, ends_at=p.ends_at,
                                 operation_id=p.operation_id)
    ctx.audit(target=f"campaign:{rule['rule_id']}", before=None, after=rule)
    return rule


@action("campaigns/update", permission="campaigns.write", params=UpdateRuleParams,
        summary="Rename, re-budget, re-time, pause or resume a rule")
def update_rule(ctx: AdminContext, p: UpdateRuleParams):
    before, after = campaigns.update_rule(ctx.org_id, p.rule_id, name=p.name, budget=p.budget, ends_at=p.ends_at,
                                          status=p.status)
    ctx.audit(target=f"campaign:{p.rule_id}", before=before, after=after)
    return after


@action("campaigns/run", permission="campaigns.write", params=NoParams,
        summary="Pay what the org's active rules owe now (the schedule does the same every minute)")
def run_rules(ctx: AdminContext, p: NoParams):
    before = campaigns.list_rules(ctx.org_id)
    read = campaigns.catch_up(ctx.org_id)
    after = campaigns.list_rules(ctx.org_id)
    ctx.audit(target="campaigns", before=[r for r in before if r not in after], after=[r for r in after
                                                                                       if r not in before])
    return {"events_read": read}
