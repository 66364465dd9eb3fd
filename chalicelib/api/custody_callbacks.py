"""Callback routes of the custody platform, and the simulator's controls on the local stack.

Custody POSTs signed JSON reports (`gateways.custody` documents the headers and bodies):

    POST /custody/callbacks/deposit      a deposit seen on chain, with its confirmations
    POST /custody/callbacks/withdrawal   a withdrawal's progress: auditing, audit_rejected,
                                         broadcast (tx id), confirmed, failed

Answers: 200 `{"code": 0, "msg": "success", "data": <deposit or withdrawal>}` once the
report is applied (also when it changed nothing); errors as `{"code", "msg"}` with the
platform family's statuses: 401 bad signature, stale timestamp or replayed nonce (custody
must re-sign and resend), 400 unusable report, 409 contradicting report, 503 retry.

Local stack only (404 elsewhere), the simulator on command; each produces a signed
report and delivers it through the same check as a real callback:

    POST /custody/simulator/deposit      {chain, token, address, address_tag?, amount,
                                          confirmations, tx_hash?, output_index?}
    POST /custody/simulator/withdrawal   {withdrawal_id, status, tx_id?, confirmations?, reason?}
"""
from __future__ import annotations

from typing import Callable

from chalice import Blueprint

from chalicelib import settings
from chalicelib.api.routing import json_body, route
from chalicelib.api.rendering import Family
from chalicelib.domain.errors import InvalidParameter, RouteNotFound
from chalicelib.gateways import custody as gateway
from chalicelib.services import deposits, withdrawals

custody_callbacks = Blueprint(__name__)

_RECEIVERS: dict[str, Callable[..., dict]] = {
    gateway.DEPOSIT_CALLBACK_PATH: deposits.receive_callback,
    gateway.WITHDRAWAL_CALLBACK_PATH: withdrawals.receive_callback,
}


def accept(path: str, headers, body: bytes) -> dict:
    """Checks a callback's signature and timestamp, then applies it once per nonce."""
    verified = gateway.verify_callback("POST", path, headers, body)
    data = _RECEIVERS[path](verified.payload, nonce=verified.nonce)
    return {"code": 0, "msg": "success", "data": data}


@route(custody_callbacks, gateway.DEPOSIT_CALLBACK_PATH, family=Family.PLATFORM, methods=["POST"])
def deposit_reported():
    request = custody_callbacks.current_request
    return accept(gateway.DEPOSIT_CALLBACK_PATH, request.headers, request.raw_body or b"")


@route(custody_callbacks, gateway.WITHDRAWAL_CALLBACK_PATH, family=Family.PLATFORM, methods=["POST"])
def withdrawal_reported():
    request = custody_callbacks.current_request
    return accept(gateway.WITHDRAWAL_CALLBACK_PATH, request.headers, request.raw_body or b"")


@route(custody_callbacks, "/custody/simulator/deposit", family=Family.PLATFORM, methods=["POST"])
def simulate_deposit():
    body = _local_body()
    try:
        report = gateway.simulator().deposit_report(
            chain=str(body["chain"]).upper(), token=str(body["token"]).upper(), address=str(body["address"]),
            address_tag=body.get("address_tag"), amount=str(body["amount"]),
            confirmations=int(body.get("confirmations", 0)), tx_hash=body.get("tx_hash"),
            output_index=int(body.get("output_index", 0)))
    except (KeyError, TypeError, ValueError):
        raise InvalidParameter("body", "chain, token, address, amount and confirmations are required") from None
    return accept(report.path, report.headers, report.body)


@route(custody_callbacks, "/custody/simulator/withdrawal", family=Family.PLATFORM, methods=["POST"])
def simulate_withdrawal_report():
    body = _local_body()
    try:
        report = gateway.simulator().withdrawal_report(
            str(body["withdrawal_id"]), str(body["status"]), tx_id=body.get("tx_id"),
            confirmations=int(body.get("confirmations", 0)), reason=body.get("reason"))
    except (KeyError, TypeError, ValueError):
        raise InvalidParameter("body", "withdrawal_id and status are required") from None
    return accept(report.path, report.headers, report.body)


def _local_body() -> dict:
    if not settings.is_local():
        raise RouteNotFound()
    return json_body(custody_callbacks.current_request)
