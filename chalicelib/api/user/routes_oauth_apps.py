"""Third-party apps the user has let act for them (OAuth 2.0 grants): which ones, with
which permissions, and taking that back. A revocation ends every access and refresh
token the app holds for this user at once (checked on each of the app's calls)."""
from __future__ import annotations

from chalicelib.api.user.http import READ, WRITE, Context, endpoint
from chalicelib.services import oauth_tokens


def _row(row: dict) -> dict:
    return {"clientId": row["client_id"], "appName": row["name"], "scopes": row["scopes"],
            "authorizedAt": str(row["authorized_at"]), "grants": row["grants"]}


@endpoint("/api/user/oauth_apps", access=READ)
def authorized_apps(ctx: Context):
    return [_row(row) for row in oauth_tokens.authorized_apps(ctx.org_id, ctx.uid)]


@endpoint("/api/user/oauth_apps/revoke", access=WRITE)
def revoke_app(ctx: Context):
    """`client_id` of the app; answers how many grants ended."""
    ended = oauth_tokens.revoke_app(ctx.org_id, ctx.uid, ctx.require("client_id"))
    return {"success": True, "revoked": ended}
