"""OAuth client apps of the org (docs/OAUTH_API.md): register, list, disable, enable.

The client secret is in the answer to `oauth_apps/create` only (and never in the audit
row); a retry with the same `operation_id` answers the same app without it. Disabling
an app ends every token it holds, for good."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.api.admin.http import AdminContext, action
from chalicelib.api.admin.shapes import CsvList, Operation, Params
from chalicelib.services import oauth_clients

PERMISSION = "oauth_apps.write"


class CreateAppParams(Operation):
    name: str = Field(min_length=1, max_length=64)
    client_type: Literal["confidential", "public"]
    redirect_uris: CsvList = Field(min_length=1, max_length=10)
    scopes: CsvList = Field(min_length=1, max_length=5)


class AppParams(Params):
    client_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")


@action("oauth_apps/list", permission=PERMISSION, mutating=False, summary="The org's OAuth apps")
def list_apps(ctx: AdminContext, p: None):
    return {"list": [oauth_clients.app_view(app) for app in oauth_clients.list_apps(ctx.org_id)]}


@action("oauth_apps/create", permission=PERMISSION, params=CreateAppParams,
        summary="Register an OAuth app (the secret is shown once; idempotent on operation_id)")
def create_app(ctx: AdminContext, p: CreateAppParams):
    created = oauth_clients.create_app(ctx.org_id, name=p.name, client_type=p.client_type,
                                       redirect_uris=p.redirect_uris, scopes=p.scopes, created_by=ctx.admin_id,
                                       operation_id=p.operation_id)
    view = oauth_clients.app_view(created.app)
    ctx.audit(target=f"oauth_app:{created.app.client_id}", before=None, after=view)
    return {**view, "client_secret": created.client_secret}


def _switch(ctx: AdminContext, client_id: str, enabled: bool) -> dict:
    before = oauth_clients.app_view(oauth_clients.get_app(ctx.org_id, client_id))
    app = (oauth_clients.enable_app if enabled else oauth_clients.disable_app)(ctx.org_id, client_id)
    after = oauth_clients.app_view(app)
    ctx.audit(target=f"oauth_app:{client_id}", before=before, after=after)
    return after


@action("oauth_apps/disable", permission=PERMISSION, params=AppParams,
        summary="Disable an app: its tokens stop working at once and for good")
def disable_app(ctx: AdminContext, p: AppParams):
    return _switch(ctx, p.client_id, False)


@action("oauth_apps/enable", permission=PERMISSION, params=AppParams,
        summary="Enable an app again (tokens from before the disable stay dead)")
def enable_app(ctx: AdminContext, p: AppParams):
    return _switch(ctx, p.client_id, True)
