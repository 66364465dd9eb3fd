"""Proof of liabilities in the User API: the published roots, and the session user's own
inclusion proof, which docs/verify_liability_proof.py checks against a root fetched
separately (docs/PROOF_OF_LIABILITIES.md).

Two static paths under the existing `/api/asset` resource: two API Gateway resources.
Parameters are validated with one pydantic model per operation.
"""
from __future__ import annotations

from typing import Optional

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from chalicelib.api.user.http import PUBLIC, READ, Context, endpoint
from chalicelib.domain import merkle
from chalicelib.services import liabilities
from chalicelib.store.liabilities import StoredRoot

PROOF_FORMAT = "broker-liability-proof/1"
TOKEN_PATTERN = r"^[A-Za-z0-9]{1,32}$"


class RootParams(BaseModel):
    """Latest root of each token the org's users hold, or of one token."""

    model_config = ConfigDict(extra="forbid")
    token: Optional[str] = Field(None, pattern=TOKEN_PATTERN, validation_alias=AliasChoices("token", "token_id"))


class ProofParams(BaseModel):
    """The session user's proof in the latest root of a token, or in an earlier root still kept."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(pattern=TOKEN_PATTERN, validation_alias=AliasChoices("token", "token_id"))
    root_id: Optional[int] = Field(None, gt=0)


def root_wire(root: StoredRoot) -> dict:
    return {"rootId": str(root.root_id), "token": root.token, "rootHash": root.root_hash,
            "total": merkle.amount_text(root.total), "leafCount": root.leaf_count, "createdAt": root.created_at,
            "snapshotStartedAt": root.scan_started_at, "snapshotFinishedAt": root.scan_finished_at}


def proof_wire(proof: liabilities.Proof) -> dict:
    return {
        "format": PROOF_FORMAT, "rootId": str(proof.root.root_id), "token": proof.token,
        "leaf": {"uid": proof.uid, "token": proof.token, "balance": merkle.amount_text(proof.amount),
                 "salt": proof.salt},
        "path": [{"side": step.side, "hash": step.hash.hex(), "sum": merkle.amount_text(step.sum)}
                 for step in proof.path],
        "root": root_wire(proof.root),
        "balances": [{"accountId": account_id, "version": version} for account_id, version in proof.balances],
    }


@endpoint("/api/asset/liability_root", params=RootParams, access=PUBLIC,
          summary="Latest proof-of-liabilities roots of this broker, one per token")
def liability_roots(ctx: Context):
    params: RootParams = ctx.args
    roots = liabilities.latest_roots(ctx.org_id)
    return [root_wire(root) for root in roots if params.token is None or root.token == params.token.upper()]


@endpoint("/api/asset/liability_proof", params=ProofParams, access=READ,
          summary="The session user's inclusion proof for one token's liability root")
def liability_proof(ctx: Context):
    params: ProofParams = ctx.args
    return proof_wire(liabilities.proof(ctx.org_id, ctx.uid, params.token.upper(), params.root_id))
