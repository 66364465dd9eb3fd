"""Admin accounts (owner only), the admin IP whitelist and the audit log search.

There is deliberately no action that edits or deletes an audit row.
"""
from __future__ import annotations

from typing import Optional

from pydantic import Field

from chalicelib.api.admin.http import SIGNED_IN, AdminContext, action
from chalicelib.api.admin.shapes import CsvList, CursorParams, Operation, Params
from chalicelib.api.admin.views import admin_view
from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.services import admin_accounts, admin_audit, admin_whitelist, admins


class UsernameParams(Params):
    username: str = Field(min_length=1, max_length=64)


class CreateAdminParams(Operation):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    roles: CsvList


class PasswordResetParams(UsernameParams):
    password: str = Field(min_length=1, max_length=256)


class RolesParams(UsernameParams):
    roles: CsvList


class WhitelistAddParams(Params):
    ip: str = Field(min_length=1, max_length=64)
    note: str = Field("", max_length=200)


class WhitelistDeleteParams(Params):
    ip: str = Field(min_length=1, max_length=64)


class AuditQueryParams(CursorParams):
    admin: Optional[str] = Field(None, max_length=64, description="username or admin id")
    action: Optional[str] = Field(None, max_length=64)
    start_time: Optional[int] = Field(None, ge=0, description="ms since the epoch, inclusive")
    end_time: Optional[int] = Field(None, ge=0, description="ms since the epoch, inclusive")


@action("admins/list", permission="admins.read", mutating=False, summary="The org's admins")
def list_admins(ctx: AdminContext, p: None):
    return {"list": [admin_view(a) for a in admins.list_admins(ctx.org_id)]}


@action("admins/create", permission="admins.write", params=CreateAdminParams,
        summary="Create an admin with roles (idempotent on operation_id)")
def create_admin(ctx: AdminContext, p: CreateAdminParams):
    admin = admins.create_admin(ctx.org_id, p.username, p.password, p.roles, p.operation_id)
    ctx.audit(target=f"admin:{admin.username}", before=None, after=admin_view(admin))
    return admin_view(admin)


def _change(ctx: AdminContext, username: str, change) -> dict:
    before = admin_view(admins.get_admin(ctx.org_id, username))
    after = admin_view(change())
    ctx.audit(target=f"admin:{after['username']}", before=before, after=after)
    return after


@action("admins/disable", permission="admins.write", params=UsernameParams,
        summary="Disable an admin (their sessions end)")
def disable_admin(ctx: AdminContext, p: UsernameParams):
    return _change(ctx, p.username, lambda: admin_accounts.set_enabled(ctx.org_id, ctx.username, p.username, False))


@action("admins/enable", permission="admins.write", params=UsernameParams, summary="Enable an admin again")
def enable_admin(ctx: AdminContext, p: UsernameParams):
    return _change(ctx, p.username, lambda: admin_accounts.set_enabled(ctx.org_id, ctx.username, p.username, True))


@action("admins/reset_password", permission="admins.write", params=PasswordResetParams,
        summary="Set an admin's password (their sessions end)")
def reset_password(ctx: AdminContext, p: PasswordResetParams):
    return _change(ctx, p.username, lambda: admin_accounts.reset_password(ctx.org_id, p.username, p.password))


@action("admins/set_roles", permission="admins.write", params=RolesParams,
        summary="Replace an admin's roles (an org keeps at least one enabled owner)")
def set_roles(ctx: AdminContext, p: RolesParams):
    return _change(ctx, p.username, lambda: admin_accounts.set_roles(ctx.org_id, p.username, p.roles))


@action("admins/reset_totp", permission="admins.write", params=UsernameParams,
        summary="Unbind an admin's TOTP (they bind a new one at next login)")
def reset_totp(ctx: AdminContext, p: UsernameParams):
    return _change(ctx, p.username, lambda: admin_accounts.reset_totp(ctx.org_id, p.username))


@action("admins/unlock", permission="admins.write", params=UsernameParams,
        summary="End a failed-login lock of an admin")
def unlock_admin(ctx: AdminContext, p: UsernameParams):
    return _change(ctx, p.username, lambda: admin_accounts.unlock(ctx.org_id, p.username))


@action("whitelist/list", permission="admins.read", mutating=False,
        summary="The admin IP whitelist (empty: every address may reach the back office)")
def whitelist_list(ctx: AdminContext, p: None):
    return {"list": admin_whitelist.list_entries(ctx.org_id)}


@action("whitelist/my_ip", permission=SIGNED_IN, mutating=False, summary="The address this call came from")
def whitelist_my_ip(ctx: AdminContext, p: None):
    return {"ip": ctx.source_ip, "allowed": admin_whitelist.allowed(ctx.org_id, ctx.source_ip)}


@action("whitelist/add", permission="admins.write", params=WhitelistAddParams,
        summary="Add an address or CIDR network (the first entry must admit your own address)")
def whitelist_add(ctx: AdminContext, p: WhitelistAddParams):
    entry = admin_whitelist.add(ctx.org_id, p.ip, p.note, ctx.username, ctx.source_ip)
    ctx.audit(target=f"whitelist:{entry['network']}", before=None, after=entry)
    return entry


@action("whitelist/delete", permission="admins.write", params=WhitelistDeleteParams,
        summary="Remove an entry (not the last one that admits your own address)")
def whitelist_delete(ctx: AdminContext, p: WhitelistDeleteParams):
    entry = admin_whitelist.remove(ctx.org_id, p.ip, ctx.source_ip)
    ctx.audit(target=f"whitelist:{entry['network']}", before=entry, after=None)
    return {"deleted": entry["network"]}


@action("audit/query", permission="audit.read", params=AuditQueryParams, mutating=False,
        summary="Search the audit log by admin, action and time, newest first (cursor: before_id)")
def audit_query(ctx: AdminContext, p: AuditQueryParams):
    admin_id = None
    if p.admin:
        found = [a for a in admins.list_admins(ctx.org_id) if p.admin.lower() in (a.username, a.admin_id)]
        if not found:
            raise NotFound("No such admin")
        admin_id = found[0].admin_id
    if p.start_time is not None and p.end_time is not None and p.start_time > p.end_time:
        raise InvalidParameter("start_time", "start_time is after end_time")
    return admin_audit.search(ctx.org_id, admin_id=admin_id, action=p.action, start_ms=p.start_time,
                              end_ms=p.end_time, before_id=p.before_id, limit=p.limit)
