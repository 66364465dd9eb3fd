"""Reviews: the KYC queue and the withdrawal queue (four eyes above `four_eyes_threshold`)."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from pydantic import Field

from chalicelib.api.admin.http import AdminContext, action
from chalicelib.api.admin.shapes import Params
from chalicelib.services import admin_reviews, kyc, withdrawals

UID = Field(min_length=1, max_length=32, pattern=r"^\d+$")
WITHDRAWAL_ID = Field(min_length=1, max_length=20, pattern=r"^\d+$")


class QueueParams(Params):
    limit: int = Field(100, ge=1, le=500)


class WithdrawalQueueParams(QueueParams):
    from_id: Optional[str] = Field(None, pattern=r"^\d{1,20}$", description="ids below this one")


class UserParams(Params):
    uid: str = UID


class KycApproveParams(UserParams):
    level: Optional[int] = Field(None, ge=1, le=3, description="grant a lower level than applied for")


class KycRejectParams(UserParams):
    reason: str = Field(min_length=1, max_length=500)


class WithdrawalParams(Params):
    withdrawal_id: str = WITHDRAWAL_ID


class WithdrawalRejectParams(WithdrawalParams):
    reason: str = Field(min_length=1, max_length=500)


class ThresholdParams(Params):
    token_id: str = Field(min_length=1, max_length=32, description='a token, or "*" for every other token')
    review_threshold: Optional[Decimal] = Field(None, ge=0, description="above it one admin approves; absent: none")
    four_eyes_threshold: Optional[Decimal] = Field(None, ge=0,
                                                   description="above it two different admins approve; absent: none")


@action("reviews/kyc_queue", permission="kyc.review", params=QueueParams, mutating=False,
        summary="KYC applications waiting for review, oldest first")
def kyc_queue(ctx: AdminContext, p: QueueParams):
    return {"list": kyc.pending_applications(ctx.org_id, limit=p.limit)}


@action("reviews/kyc_detail", permission="kyc.review", params=UserParams, mutating=False,
        summary="One application with short-lived links to its images")
def kyc_detail(ctx: AdminContext, p: UserParams):
    return kyc.application(ctx.org_id, p.uid)


@action("reviews/kyc_approve", permission="kyc.review", params=KycApproveParams,
        summary="Pass an application (at the level applied for, or a lower `level`)")
def kyc_approve(ctx: AdminContext, p: KycApproveParams):
    before = kyc.status(ctx.org_id, p.uid)
    after = kyc.approve(ctx.org_id, p.uid, ctx.admin_id, level=p.level)
    ctx.audit(target=f"user:{p.uid}", before=before, after=after)
    return after


@action("reviews/kyc_reject", permission="kyc.review", params=KycRejectParams,
        summary="Reject an application with a reason the user sees")
def kyc_reject(ctx: AdminContext, p: KycRejectParams):
    before = kyc.status(ctx.org_id, p.uid)
    after = kyc.reject(ctx.org_id, p.uid, ctx.admin_id, p.reason)
    ctx.audit(target=f"user:{p.uid}", before=before, after=after)
    return after


@action("reviews/withdrawal_queue", permission="withdrawals.review", params=WithdrawalQueueParams, mutating=False,
        summary="Withdrawals waiting for review, with the approvals they have and need")
def withdrawal_queue(ctx: AdminContext, p: WithdrawalQueueParams):
    return {"list": withdrawals.review_queue(ctx.org_id, from_id=int(p.from_id) if p.from_id else None,
                                             limit=p.limit)}


@action("reviews/withdrawal_approve", permission="withdrawals.review", params=WithdrawalParams,
        summary="Approve; above the four-eyes threshold a second, different admin must approve too")
def withdrawal_approve(ctx: AdminContext, p: WithdrawalParams):
    before = withdrawals.org_withdrawal(ctx.org_id, p.withdrawal_id)
    after = withdrawals.approve(ctx.org_id, p.withdrawal_id, ctx.admin_id)
    ctx.audit(target=f"withdrawal:{p.withdrawal_id}", before=before, after=after)
    return {**after, "waiting_for_another_admin": after["state"] == "REVIEW"}


@action("reviews/withdrawal_reject", permission="withdrawals.review", params=WithdrawalRejectParams,
        summary="Reject with a reason; the locked amount and fee go back to the user")
def withdrawal_reject(ctx: AdminContext, p: WithdrawalRejectParams):
    before = withdrawals.org_withdrawal(ctx.org_id, p.withdrawal_id)
    after = withdrawals.reject(ctx.org_id, p.withdrawal_id, ctx.admin_id, p.reason)
    ctx.audit(target=f"withdrawal:{p.withdrawal_id}", before=before, after=after)
    return after


@action("reviews/thresholds", permission="withdrawals.review", mutating=False,
        summary="The org's withdrawal review and four-eyes thresholds per token (token units)")
def thresholds(ctx: AdminContext, p: None):
    return admin_reviews.thresholds(ctx.org_id)


@action("reviews/set_thresholds", permission="admins.write", params=ThresholdParams,
        summary="Set a token's review and four-eyes thresholds (owner only: it governs the reviewers)")
def set_thresholds(ctx: AdminContext, p: ThresholdParams):
    before = admin_reviews.thresholds(ctx.org_id)
    after = admin_reviews.set_thresholds(ctx.org_id, p.token_id, p.review_threshold, p.four_eyes_threshold)
    ctx.audit(target=f"org:{ctx.org_id}", before=before, after=after)
    return after
