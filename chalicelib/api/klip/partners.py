"""Klip Partners (card minting) routes, wire-compatible with api.klipwallet.com/v2.

    POST /v2/partner/auth               {email, password: sha256 hex} -> account + access_token
    PUT  /v2/partner?opt=password       {old_password, new_password} (sha256 hex) -> {}
    PUT  /v2/partner/pin                {old_pin, new_pin} -> {}
    POST /v2/wallet/image               multipart part `upload` -> {image: url}
    POST /v2/wallet/mint                mint_info -> {hash, contract_address, cards, mint_count, mint_limit}
    GET  /v2/wallet/bapp?cursor=        {bapps: [...], next_cursor}
    GET  /v2/wallet/nft/{nft_id}?cursor= {cards: [...], next_cursor}
    GET  /v2/card/{sca}/{card_id}       the card's metadata JSON (its card_uri; public)
    GET  /card_asset/{partner}/{file}   an uploaded image (public)

The token comes raw in `Authorization` (a `Bearer ` prefix is tolerated). Errors:
`{code, err}` (api/klip/errors.py).
"""
from __future__ import annotations

import time
from email.parser import BytesParser
from email.policy import HTTP
from typing import Optional

from chalice import Blueprint, Response

from chalicelib.api import rendering
from chalicelib.api.klip import errors as _klip_errors  # noqa: F401  (registers the renderers)
from chalicelib.api.klip import links
from chalicelib.api.rendering import Family
from chalicelib.api.routing import json_body, route
from chalicelib.domain import klip as rules
from chalicelib.domain.errors import NotFound, PartnerBadRequest
from chalicelib.services import cards, partners

partners_api = Blueprint(__name__)
P = Family.PARTNER
# Tests freeze time by replacing this (the token verifier takes `now`).
clock = time.time


def _partner(allow_inactive: bool = False):
    request = partners_api.current_request
    return partners.authenticate(request.headers.get("authorization"), clock(), allow_inactive=allow_inactive)


def _body() -> dict:
    try:
        return json_body(partners_api.current_request)
    except Exception:
        raise PartnerBadRequest("request body must be a JSON object") from None


def _time_text(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def card_json(base: str, card: cards.Card, *, formatted: bool = False) -> dict:
    view = {"card_id": card.card_id, "card_uri": links.card_uri(base, card.contract, card.card_id),
            "owner": card.owner, "sender": card.sender, "transaction_hash": card.transaction_hash,
            "created_at": card.created_at, "updated_at": card.updated_at}
    if formatted:
        view.update(created_at_formatted=_time_text(card.created_at), updated_at_formatted=_time_text(card.updated_at))
    return view


@route(partners_api, "/v2/partner/auth", family=P, methods=["POST"])
def partner_auth():
    body = _body()
    return partners.login(body.get("email"), body.get("password"), clock())


@route(partners_api, "/v2/partner", family=P, methods=["PUT"])
def partner_update():
    request = partners_api.current_request
    option = (request.query_params or {}).get("opt")
    if option != "password":
        raise PartnerBadRequest("opt must be 'password'")
    body = _body()
    return partners.change_password(_partner(), body.get("old_password"), body.get("new_password"))


@route(partners_api, "/v2/partner/pin", family=P, methods=["PUT"])
def partner_pin():
    body = _body()
    return partners.change_pin(_partner(allow_inactive=True), body.get("old_pin", body.get("pin")),
                               body.get("new_pin"))


def _multipart_file(request, name: str) -> Optional[bytes]:
    content_type = request.headers.get("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        raise PartnerBadRequest("send the image as multipart/form-data")
    raw = request.raw_body or b""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + raw)
    if not message.is_multipart():
        raise PartnerBadRequest("multipart body could not be read")
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == name:
            return part.get_payload(decode=True) or b""
    return None


@route(partners_api, "/v2/wallet/image", family=P, methods=["POST"])
def wallet_image():
    partner = _partner()
    request = partners_api.current_request
    data = _multipart_file(request, "upload")
    if data is None:
        raise PartnerBadRequest("multipart part 'upload' is required")
    key = partners.upload_image(partner, data)
    return {"image": links.image_url(links.base_url(request), key)}


@route(partners_api, "/card_asset/{partner_id}/{name}", family=P, cors=True)
def card_asset(partner_id, name):
    data, content_type = partners.image(partner_id, name)
    return Response(body=data, status_code=200,
                    headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"})


@route(partners_api, "/v2/wallet/mint", family=P, methods=["POST"])
def wallet_mint():
    partner = _partner()
    request = partners_api.current_request
    operation = request.headers.get("idempotency-key") or None
    if operation is not None and not 1 <= len(operation) <= 128:
        raise PartnerBadRequest("Idempotency-Key must be 1-128 characters")
    return partners.mint(partner, _body(), operation_id=operation, now=clock())


def _cursor() -> Optional[int]:
    return rules.decode_cursor((partners_api.current_request.query_params or {}).get("cursor"))


@route(partners_api, "/v2/wallet/bapp", family=P)
def wallet_bapps():
    partner = _partner()
    base = links.base_url(partners_api.current_request)
    contracts, last_nft = cards.partner_contracts(partner.partner_id, _cursor())
    bapps = []
    for contract in contracts:
        page, last_card = cards.contract_page(contract.address, None)
        bapps.append({
            "id": contract.bapp_id, "name": contract.bapp_name, "bapp_img": contract.bapp_img,
            "category_id": contract.category_id, "summary": contract.summary, "nft_id": contract.nft_id,
            "nft_order_no": contract.nft_order_no, "card_count": contract.last_card_id,
            "contract_address": contract.address,
            "cards": [card_json(base, card, formatted=True) for card in page],
            "cards_next_cursor": rules.encode_cursor(last_card) if last_card else ""})
    return {"bapps": bapps, "next_cursor": rules.encode_cursor(last_nft) if last_nft else ""}


@route(partners_api, "/v2/wallet/nft/{nft_id}", family=P)
def wallet_nft_cards(nft_id):
    partner = _partner()
    contract = cards.contract_by_nft_id(nft_id)
    if contract is None or contract.partner_id != partner.partner_id:
        raise PartnerBadRequest("nft_id is not one of this partner's card types")
    base = links.base_url(partners_api.current_request)
    page, last = cards.contract_page(contract.address, _cursor())
    return {"cards": [card_json(base, card, formatted=True) for card in page],
            "next_cursor": rules.encode_cursor(last) if last else ""}


@route(partners_api, "/v2/card/{sca}/{card_id}", family=P, cors=True)
def card_metadata(sca, card_id):
    try:
        metadata = cards.metadata_of(sca, card_id)
    except NotFound:
        raise PartnerBadRequest("card does not exist") from None
    return Response(body=rendering.dumps(metadata), status_code=200,
                    headers={"Content-Type": "application/json; charset=utf-8",
                             "Cache-Control": "public, max-age=60"})
