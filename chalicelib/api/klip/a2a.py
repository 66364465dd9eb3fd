"""Klip App2App routes, wire-compatible with a2a-api.klipwallet.com/v2/a2a (klip-sdk 2.3.3).

    POST /v2/a2a/prepare                   {bapp, type, transaction | message} -> {request_key, status, expiration_time}
    GET  /v2/a2a/result?request_key=       {request_key, expiration_time, status, result?, error?}
    GET  /v2/a2a/cards?sca=&eoa=&cursor=   {name, symbol_img, cards, next_cursor}

No authentication (the user approves on the approval page). Browsers call these from any
origin: CORS is on (OPTIONS preflight answered, `Access-Control-Allow-Origin: *`). Every
answer is JSON: prepare/result errors in the seed's envelope plus top-level `code`/`err`
(HTTP 400), card-list errors flat `{code, err}`.
"""
from __future__ import annotations

from chalice import Blueprint, CORSConfig

from chalicelib.api.klip import errors as klip_errors
from chalicelib.api.klip import links
from chalicelib.api.klip.partners import card_json
from chalicelib.api.rendering import Family
from chalicelib.api.routing import route
from chalicelib.domain.errors import A2AInvalidTransaction
from chalicelib.services import a2a

a2a_api = Blueprint(__name__)
A = Family.A2A
CORS = CORSConfig(allow_origin="*", allow_headers=["Content-Type"], max_age=600)


@route(a2a_api, "/v2/a2a/prepare", family=A, methods=["POST"], cors=CORS)
def a2a_prepare():
    import json

    request = a2a_api.current_request
    try:
        body = json.loads(request.raw_body or b"{}")
    except ValueError:
        raise A2AInvalidTransaction("body is not valid JSON") from None
    return a2a.prepare(body)


@route(a2a_api, "/v2/a2a/result", family=A, cors=CORS)
def a2a_result():
    params = a2a_api.current_request.query_params or {}
    return a2a.result(params.get("request_key"))


@route(a2a_api, "/v2/a2a/cards", family=A, cors=CORS)
@klip_errors.rendered_with(klip_errors.flat, {"Access-Control-Allow-Origin": "*"})
def a2a_cards():
    request = a2a_api.current_request
    params = request.query_params or {}
    page = a2a.card_list(params.get("sca"), params.get("eoa"), params.get("cursor"))
    base = links.base_url(request)
    contract = page["contract"]
    return {"name": contract.name, "symbol_img": contract.symbol_img or "",
            "cards": [card_json(base, card) for card in page["cards"]], "next_cursor": page["next_cursor"]}
