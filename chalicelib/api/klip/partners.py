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

The token comes raw in `Authorization` (a `Bearer ` prefix is tolerated) and is checked
before the parameters (klip/http.py), which the models in klip/params.py validate; a bad
one is Klip's 400. Errors: `{code, err}` (api/klip/errors.py).
"""
from __future__ import annotations

import time

from chalice import Blueprint, Response

from chalicelib.api import rendering
from chalicelib.api.klip import errors as _klip_errors  # noqa: F401  (registers the renderers)
from chalicelib.api.klip import http, links
from chalicelib.api.klip import params as p
from chalicelib.api.operations import NONE, PARTNER_JWT
from chalicelib.api.rendering import Family
from chalicelib.domain import klip as rules
from chalicelib.domain.errors import InvalidParameter, MissingParameter, NotFound, PartnerBadRequest
from chalicelib.services import cards, partners

partners_api = Blueprint(__name__)
P = Family.PARTNER
# Tests freeze time by replacing this (the token verifier takes `now`).
clock = time.time


def _partner(allow_inactive: bool = False):
    request = partners_api.current_request
    return partners.authenticate(request.headers.get("authorization"), clock(), allow_inactive=allow_inactive)


def _active_partner():
    return _partner()


def _any_partner():
    return _partner(allow_inactive=True)


def bad_request(problem: InvalidParameter) -> PartnerBadRequest:
    """Every malformed Partners parameter is Klip's plain 400, naming the field."""
    if problem.param == "body":
        return PartnerBadRequest(problem.message)
    verb = "is required" if isinstance(problem, MissingParameter) else "is not valid"
    return PartnerBadRequest(f"{problem.param} {verb}")


def _json(request) -> dict:
    try:
        return http.body(request)
    except InvalidParameter:
        raise InvalidParameter("body", "request body must be a JSON object") from None


def _body_and_query(request) -> dict:
    return {**_json(request), **http.query(request)}


def endpoint(path: str, summary: str, params, *, methods=("GET",), caller=_active_partner, **options):
    return http.operation(partners_api, path, family=P, summary=summary, params=params, methods=methods,
                          failure=bad_request, auth=PARTNER_JWT if caller else NONE, caller=caller, **options)


def _time_text(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def card_json(base: str, card: cards.Card, *, formatted: bool = False) -> dict:
    view = {"card_id": card.card_id, "card_uri": links.card_uri(base, card.contract, card.card_id),
            "owner": card.owner, "sender": card.sender, "transaction_hash": card.transaction_hash,
            "created_at": card.created_at, "updated_at": card.updated_at}
    if formatted:
        view.update(created_at_formatted=_time_text(card.created_at), updated_at_formatted=_time_text(card.updated_at))
    return view


def _raw(params) -> dict:
    """The body as the client sent it (the services read the wire names)."""
    return params.model_dump(by_alias=True, exclude_unset=True)


@endpoint("/v2/partner/auth", "Log in: the account and a 24-hour access token", p.PartnerLogin,
          methods=("POST",), caller=None, read=_json)
def partner_auth(params: p.PartnerLogin):
    return partners.login(params.email, params.password, clock())


@endpoint("/v2/partner", "Change the password (`?opt=password`); earlier tokens stop working", p.PasswordChange,
          methods=("PUT",), read=_body_and_query)
def partner_update(partner, params: p.PasswordChange):
    return partners.change_password(partner, params.old_password, params.new_password)


@endpoint("/v2/partner/pin", "Change the PIN (an inactive account sets its new PIN without the old one)",
          p.PinChange, methods=("PUT",), caller=_any_partner, read=_json)
def partner_pin(partner, params: p.PinChange):
    return partners.change_pin(partner, params.old_pin, params.new_pin)


@endpoint("/v2/wallet/image", "Upload a card image (multipart part `upload`); answers its URL", p.ImageUpload,
          methods=("POST",), read=http.multipart, body_media=(http.MULTIPART,))
def wallet_image(partner, params: p.ImageUpload):
    key = partners.upload_image(partner, params.upload)
    return {"image": links.image_url(links.base_url(partners_api.current_request), key)}


@endpoint("/card_asset/{partner_id}/{name}", "An uploaded card image (public)", p.CardAssetRef, caller=None,
          produces="image/*", cors=True)
def card_asset(params: p.CardAssetRef, partner_id, name):
    data, content_type = partners.image(params.partner_id, params.name)
    return Response(body=data, status_code=200,
                    headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"})


@endpoint("/v2/wallet/mint", "Mint one card per `to_address` (header `Idempotency-Key`: mint once)", p.MintInfo,
          methods=("POST",), read=_json)
def wallet_mint(partner, params: p.MintInfo):
    request = partners_api.current_request
    operation = request.headers.get("idempotency-key") or None
    if operation is not None and not 1 <= len(operation) <= 128:
        raise PartnerBadRequest("Idempotency-Key must be 1-128 characters")
    return partners.mint(partner, _raw(params), operation_id=operation, now=clock())


@endpoint("/v2/wallet/bapp", "The partner's BApps (one card type each) with their first 100 cards", p.BappPage)
def wallet_bapps(partner, params: p.BappPage):
    base = links.base_url(partners_api.current_request)
    contracts, last_nft = cards.partner_contracts(partner.partner_id, rules.decode_cursor(params.cursor))
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


@endpoint("/v2/wallet/nft/{nft_id}", "One card type's cards, 100 a page", p.NftCardPage)
def wallet_nft_cards(partner, params: p.NftCardPage, nft_id):
    contract = cards.contract_by_nft_id(params.nft_id)
    if contract is None or contract.partner_id != partner.partner_id:
        raise PartnerBadRequest("nft_id is not one of this partner's card types")
    base = links.base_url(partners_api.current_request)
    page, last = cards.contract_page(contract.address, rules.decode_cursor(params.cursor))
    return {"cards": [card_json(base, card, formatted=True) for card in page],
            "next_cursor": rules.encode_cursor(last) if last else ""}


@endpoint("/v2/card/{sca}/{card_id}", "A card's metadata JSON: its `card_uri` (public)", p.CardRef, caller=None,
          cors=True)
def card_metadata(params: p.CardRef, sca, card_id):
    try:
        metadata = cards.metadata_of(params.sca, params.card_id)
    except NotFound:
        raise PartnerBadRequest("card does not exist") from None
    return Response(body=rendering.dumps(metadata), status_code=200,
                    headers={"Content-Type": "application/json; charset=utf-8",
                             "Cache-Control": "public, max-age=60"})
