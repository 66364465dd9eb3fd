"""Klip App2App routes, wire-compatible with a2a-api.klipwallet.com/v2/a2a (klip-sdk 2.3.3).

    POST /v2/a2a/prepare                   {bapp, type, transaction | message} -> {request_key, status, expiration_time}
    GET  /v2/a2a/result?request_key=       {request_key, expiration_time, status, result?, error?}
    GET  /v2/a2a/cards?sca=&eoa=&cursor=   {name, symbol_img, cards, next_cursor}

No authentication (the user approves on the approval page). Browsers call these from any
origin: CORS is on (OPTIONS preflight answered, `Access-Control-Allow-Origin: *`). Every
answer is JSON: prepare/result errors in the seed's envelope plus top-level `code`/`err`
(HTTP 400), card-list errors flat `{code, err}`. Parameters are validated with the models
in klip/params.py; a bad one gets the App2App code of its field.
"""
from __future__ import annotations

from chalice import Blueprint, CORSConfig

from chalicelib.api.klip import errors as klip_errors
from chalicelib.api.klip import http, links
from chalicelib.api.klip import params as p
from chalicelib.api.klip.partners import card_json
from chalicelib.api.rendering import Family
from chalicelib.domain.errors import (
    A2AInvalidContract, A2AInvalidTransaction, A2ARequestKeyNotFound, InvalidParameter, PartnerBadRequest,
)
from chalicelib.services import a2a

a2a_api = Blueprint(__name__)
A = Family.A2A
CORS = CORSConfig(allow_origin="*", allow_headers=["Content-Type"], max_age=600)


def prepare_failure(problem: InvalidParameter):
    """Only what the domain's checks (run first) let through reaches here: the bapp name and
    the type are good, so the shape of a callback, transaction or message is not (6402)."""
    return A2AInvalidTransaction(problem.message)


def unknown_key(problem: InvalidParameter):
    return A2ARequestKeyNotFound()


def card_list_failure(problem: InvalidParameter):
    if problem.param == "sca":
        return A2AInvalidContract()
    return PartnerBadRequest(problem.message)


@http.operation(a2a_api, "/v2/a2a/prepare", family=A, methods=("POST",), params=p.Prepare, read=http.any_json,
                failure=prepare_failure, cors=CORS,
                summary="Prepare a request for the user to approve; answers its key (valid 5 minutes)")
def a2a_prepare(params):
    return a2a.prepare(params.model_dump(by_alias=True, exclude_unset=True))


@http.operation(a2a_api, "/v2/a2a/result", family=A, params=p.RequestKey, failure=unknown_key, cors=CORS,
                summary="The request's status, and its result once there is one")
def a2a_result(params: p.RequestKey):
    return a2a.result(params.request_key)


@http.operation(a2a_api, "/v2/a2a/cards", family=A, params=p.CardList, failure=card_list_failure, cors=CORS,
                renderer=klip_errors.flat, headers={"Access-Control-Allow-Origin": "*"},
                summary="The cards an address holds in a card contract, 100 a page")
def a2a_cards(params: p.CardList):
    page = a2a.card_list(params.sca, params.eoa, params.cursor)
    base = links.base_url(a2a_api.current_request)
    contract = page["contract"]
    return {"name": contract.name, "symbol_img": contract.symbol_img or "",
            "cards": [card_json(base, card) for card in page["cards"]], "next_cursor": page["next_cursor"]}
