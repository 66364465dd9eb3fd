"""Card (Klip) partners: the hook the Klip issue needs to create a partner account."""
from __future__ import annotations

from pydantic import Field

from chalicelib.api.admin.http import AdminContext, action
from chalicelib.api.admin.shapes import Operation
from chalicelib.services import partners


class PartnerParams(Operation):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)
    pin: str = Field(pattern=r"^\d{6}$")
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field("", max_length=32)
    service_name: str = Field("", max_length=100)
    mint_limit: int = Field(1000, ge=0, le=10_000_000)


@action("partners/list", permission="partners.write", mutating=False, summary="The org's card partners")
def list_partners(ctx: AdminContext, p: None):
    return {"list": partners.partners_of_org(ctx.org_id)}


@action("partners/create", permission="partners.write", params=PartnerParams,
        summary="Create a card partner (wallet address and card contract; idempotent on operation_id)")
def create_partner(ctx: AdminContext, p: PartnerParams):
    created = partners.create_partner(ctx.org_id, email=p.email, password=p.password, pin=p.pin, name=p.name,
                                      phone=p.phone, service_name=p.service_name, mint_limit=p.mint_limit,
                                      operation_id=p.operation_id)
    ctx.audit(target=f"partner:{created['partner_id']}", before=None, after=created)
    return created
