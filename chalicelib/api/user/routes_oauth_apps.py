"""Third-party apps the user has let act for them (OAuth 2.0 grants): which ones, with
which permissions, and taking that back. A revocation ends every access and refresh
token the app holds for this user at once (checked on each of the app's calls).

Parameters are validated with one pydantic model per operation."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.user.http import READ, WRITE, Context, endpoint
from chalicelib.services import oauth_tokens

LIST_PATH, REVOKE_PATH = "/api/user/oauth_apps", "/api/user/oauth_apps/revoke"


class AuthorizedAppsParams(BaseModel):
    """No parameters; whatever else a client sends is ignored, as before."""

    model_config = ConfigDict(extra="ignore")


class RevokeAppParams(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    client_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")


def _row(row: dict) -> dict:
    return {"clientId": row["client_id"], "appName": row["name"], "scopes": row["scopes"],
            "authorizedAt": str(row["authorized_at"]), "grants": row["grants"]}


@endpoint(LIST_PATH, params=AuthorizedAppsParams, access=READ, summary="Apps the user has authorized, with their scopes")
def authorized_apps(ctx: Context):
    return [_row(row) for row in oauth_tokens.authorized_apps(ctx.org_id, ctx.uid)]


@endpoint(REVOKE_PATH, params=RevokeAppParams, access=WRITE,
          summary="Revoke every grant of one app; answers how many grants ended")
def revoke_app(ctx: Context):
    ended = oauth_tokens.revoke_app(ctx.org_id, ctx.uid, ctx.args.client_id)
    return {"success": True, "revoked": ended}
