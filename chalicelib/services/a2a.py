"""App2App: BApps prepare a request, a broker user approves or cancels it on our
approval page, the BApp polls the result (specs/klip.md §1; choices in docs/KLIP.md).

Effects of an approval, each committed with the request's state change (one
version-conditioned transaction, so a request takes effect once however often it is
approved):

* auth -> completed `{klaytn_address}` (the user's custodial wallet address);
* sign_message -> completed `{signature}`: EIP-191 personal-sign of the UTF-8 message;
* send_card -> the card changes owner (if it is the user's and sendable);
* execute_contract -> only a card contract's transferFrom / safeTransferFrom, which is a
  card transfer; counted against a per-user daily limit (6200);
* send_klay / send_token -> the token the configuration maps KLAY or the KIP-7 contract
  to. To another platform user's address: an internal ledger transfer, completed at
  once. To an outside address: a withdrawal through custody (`services.withdrawals`);
  the request is `requested` (tx pending) until the withdrawal is final, then
  completed with `success` or `fail` (checked whenever the result is read).

A refusal at approval time (insufficient funds 6412, `from` mismatch 6411, a card that
is not the user's 6406, ...) ends the request in `error` with that code.

Token map (KLAY and KIP-7 contract -> broker token): env `KLIP_TOKEN_MAP`, a JSON object
such as `{"KLAY": "KLAY", "0x5c74...": "USDT"}` (default `{"KLAY": "KLAY"}`, plus the
demo KIP-7 contract `DEMO_KIP7_CONTRACT` -> USDT on the local and test stages). An org
may override entries for its users with the org setting `klip_token_map` (same shape;
a null value disables an entry). Prepare accepts a KIP-7 contract only if the platform
map knows it; approval resolves it with the user's org's overrides and requires the
org to list the token.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import time
import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Optional

from chalicelib import settings
from chalicelib.auth import totp
from chalicelib.domain import ethereum
from chalicelib.domain import klip as rules
from chalicelib.domain import ledger as money
from chalicelib.domain.errors import (
    A2AInsufficientFunds,
    A2AInvalidCardId,
    A2AInvalidContract,
    A2AInvalidFromAddress,
    A2AInvalidParams,
    A2AInvalidRequestStatus,
    A2AInvalidToAddress,
    A2AInvalidTransaction,
    A2AInvalidUserStatus,
    A2ARequestKeyExpired,
    A2ARequestKeyNotFound,
    ApprovalSessionInvalid,
    BrokerError,
    CardNotFound,
    CardNotOwned,
    CardNotSendable,
    ConcurrentUpdate,
    InsufficientBalance,
    InvalidCredentials,
    InvalidSecondFactor,
    KlipError,
    PartnerBadRequest,
    SecondFactorRequired,
    Unauthenticated,
    UnknownToken,
)
from chalicelib.domain.klip import RequestType, Status
from chalicelib.domain.ledger import Subject
from chalicelib.services import cards, catalog, ledger, users, wallets
from chalicelib.store import a2a as store
from chalicelib.store.a2a import A2ARequest, ApprovalSession
from chalicelib.store.transaction import Transaction, run_with_retries

try:  # the User API's sessions (login guard, second factor, login history), when deployed
    from chalicelib.services import sessions as user_sessions
except ImportError:  # pragma: no cover - the built-in check below stands in
    user_sessions = None

log = logging.getLogger(__name__)

SESSION_LIFETIME = 600
DEMO_KIP7_CONTRACT = ethereum.checksum_address(
    ethereum.hex0x(ethereum.keccak256(b"broker-local-demo:kip7:USDT")[-20:]))


def _now(now: Optional[float]) -> float:
    return time.time() if now is None else now


# --- configuration -------------------------------------------------------------------------------

def platform_token_map() -> dict[str, str]:
    """`KLAY` and lower-case KIP-7 contract addresses -> broker token ids."""
    configured = os.environ.get("KLIP_TOKEN_MAP")
    if configured:
        raw = json.loads(configured)
    else:
        raw = {"KLAY": "KLAY"}
        if settings.is_local():
            raw[DEMO_KIP7_CONTRACT] = "USDT"
    return {(k if k == "KLAY" else k.lower()): v for k, v in raw.items() if isinstance(v, str) and v}


def _org_token_map(org_id: str) -> dict[str, Optional[str]]:
    mapping = dict(platform_token_map())
    overrides = catalog.org(org_id).settings.get("klip_token_map")
    if isinstance(overrides, dict):
        for key, value in overrides.items():
            mapping[key if key == "KLAY" else key.lower()] = value if isinstance(value, str) and value else None
    return mapping


def execute_daily_limit() -> int:
    return int(os.environ.get("KLIP_EXECUTE_DAILY_LIMIT", "100"))


# --- views -------------------------------------------------------------------------------------

def result_view(request: A2ARequest) -> dict:
    """The /result body: `result` only once there is one, `error` only in status error."""
    body = {"request_key": request.request_key, "expiration_time": request.expiration_time,
            "status": request.status.value}
    if request.result is not None:
        body["result"] = request.result
    if request.status is Status.ERROR:
        body["error"] = {"code": request.error_code or 400, "err": request.error_message or "error"}
    return body


def page_view(request: A2ARequest) -> dict:
    """What the approval page shows: the BApp, exactly what it asks, and the state."""
    source = request.message if request.type is RequestType.SIGN_MESSAGE else request.transaction
    view = {**result_view(request), "type": request.type.value, "bapp": {"name": request.bapp_name},
            "rows": [list(row) for row in rules.describe(request.type, request.transaction, request.message)],
            "from": source.get("from")}
    callback = request.callback_success if request.status is Status.COMPLETED else (
        request.callback_fail if request.status in (Status.ERROR, Status.CANCELED) else None)
    if callback:
        view["callback"] = callback
    return view


# --- prepare and result ------------------------------------------------------------------------

def prepare(body, now: Optional[float] = None) -> dict:
    parsed = rules.parse_prepare(body)
    tx = parsed.transaction
    if parsed.type in (RequestType.SEND_CARD, RequestType.EXECUTE_CONTRACT):
        address = tx["contract"] if parsed.type is RequestType.SEND_CARD else tx["to"]
        if cards.contract(address) is None:
            raise A2AInvalidContract("contract is not a card contract of this platform")
    if parsed.type is RequestType.SEND_TOKEN and tx["contract"].lower() not in platform_token_map():
        raise A2AInvalidContract("contract is not a supported KIP-7 token")
    at = int(_now(now))
    request = A2ARequest(str(uuid.uuid4()), parsed.type, parsed.bapp_name, parsed.callback_success,
                         parsed.callback_fail, dict(tx), dict(parsed.message), Status.PREPARED,
                         at + rules.REQUEST_KEY_LIFETIME, 0, at, at)
    store.create(request)
    return {"request_key": request.request_key, "status": request.status.value,
            "expiration_time": request.expiration_time}


def _known(request_key) -> A2ARequest:
    if not isinstance(request_key, str) or not request_key or len(request_key) > 64:
        raise A2ARequestKeyNotFound()
    request = store.get(request_key)
    if request is None:
        raise A2ARequestKeyNotFound(request_key=request_key)
    return request


def result(request_key, now: Optional[float] = None) -> dict:
    request = _known(request_key)
    if request.status is Status.REQUESTED:
        request = _drive_withdrawal(request)
    if rules.expired(request.status, request.expiration_time, _now(now)):
        raise A2ARequestKeyExpired(request_key=request.request_key, expiration_time=request.expiration_time)
    return result_view(request)


def request_for_page(request_key, now: Optional[float] = None) -> dict:
    request = _known(request_key)
    if request.status is Status.REQUESTED:
        request = _drive_withdrawal(request)
    view = page_view(request)
    view["expired"] = request.status is Status.PREPARED and _now(now) > request.expiration_time
    return view


def card_list(sca, eoa, cursor) -> dict:
    """GET /v2/a2a/cards: one page (100) of the cards `eoa` holds in contract `sca`."""
    if not ethereum.is_address(sca):
        raise A2AInvalidContract()
    contract = cards.contract(sca)
    if contract is None:
        raise A2AInvalidContract("contract is not a card contract of this platform")
    if not ethereum.is_address(eoa):
        raise PartnerBadRequest("eoa must be a 0x address")
    after = rules.decode_cursor(cursor)
    page, last = cards.owner_page(contract.address, eoa, after)
    return {"contract": contract, "cards": page, "next_cursor": rules.encode_cursor(last) if last else ""}


# --- approval sessions -------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def login(org_id: Optional[str], request_key, login_name, password, ga_code=None,
          now: Optional[float] = None, *, ip: str = "", user_agent: str = "") -> dict:
    """Logs a user of the page's org in for one request.

    The login is the User API's (`services.sessions.login`: failed-login guard, second
    factor when GA is bound, login history, `org.userLogin`); its session token goes back
    in the body only (the page keeps it in memory), and an approval binding ties that
    token to this request for 10 minutes at most (never past the request's expiration).
    The User API session is ended once the request is approved or canceled. Without the
    sessions module the password and GA code are checked here (`users`, `totp`)."""
    request = _known(request_key)
    rules.approvable(request.status, request.expiration_time, _now(now))
    if not org_id:
        raise InvalidCredentials("This site is not a broker's site")
    if not isinstance(login_name, str) or not isinstance(password, str) or not login_name or not password:
        raise InvalidCredentials()
    code = str(ga_code) if ga_code not in (None, "") else None
    if user_sessions is not None:
        outcome = user_sessions.login(org_id, login_name, password, ga_code=code,
                                      client=user_sessions.ClientInfo(ip, (user_agent or "")[:512], "H5"))
        if not isinstance(outcome, user_sessions.Issued):
            raise SecondFactorRequired("Enter the code of your authenticator app")
        token, user = outcome.token, outcome.user
    else:
        user = users.authenticate(org_id, login_name, password)
        if user is None:
            raise InvalidCredentials()
        if user.login_frozen:
            raise A2AInvalidUserStatus("this account cannot log in")
        if user.has_ga:
            if not code:
                raise SecondFactorRequired("Enter the code of your authenticator app")
            if totp.matching_step(users.ga_secret(user), code) is None:
                raise InvalidSecondFactor()
        token = secrets.token_urlsafe(32)
    valid_until = int(min(_now(now) + SESSION_LIFETIME, request.expiration_time + 1))
    store.put_session(_token_hash(token), ApprovalSession(user.uid, user.org_id, request.request_key, valid_until))
    return {"session": token, "valid_until": valid_until, "address": wallets.user_address(user.org_id, user.uid),
            "login": user.email or user.phone}


def _session(token: Optional[str], request_key: str, now: Optional[float]):
    """The approval binding of this request and, with User API sessions, the live session
    (revoked, expired, frozen or password-changed sessions are refused)."""
    session = store.get_session(_token_hash(token)) if token else None
    if session is None or session.request_key != request_key or _now(now) > session.valid_until:
        raise ApprovalSessionInvalid()
    principal = None
    if user_sessions is not None:
        try:
            principal = user_sessions.authenticate(session.org_id, token)
        except Unauthenticated:
            raise ApprovalSessionInvalid() from None
    return session, principal


def _end_user_session(principal) -> None:
    if principal is not None:
        try:
            user_sessions.logout(principal)
        except Exception:  # the approval stands; the session ends at its idle time anyway
            log.exception("could not end the approval page's user session")


# --- cancel and approve ---------------------------------------------------------------------------

def cancel(request_key, now: Optional[float] = None) -> dict:
    """Anyone holding the key may cancel a prepared request (the page offers it before login)."""
    def attempt() -> A2ARequest:
        request = _known(request_key)
        rules.approvable(request.status, request.expiration_time, _now(now))
        return store.update(request, replace(request, status=Status.CANCELED))

    return page_view(run_with_retries(attempt))


def approve(session_token: Optional[str], request_key, now: Optional[float] = None) -> dict:
    """Carries out what the request asks, as the session's user (retried on a race; a
    request that another approval or a cancel ended first answers 6011)."""
    request = _known(request_key)
    session, principal = _session(session_token, request.request_key, now)
    user = users.get_user(session.org_id, session.uid)
    if user.login_frozen:
        raise A2AInvalidUserStatus("this account cannot approve requests")
    address = wallets.user_address(user.org_id, user.uid)

    def attempt() -> A2ARequest:
        current = _known(request_key)
        rules.approvable(current.status, current.expiration_time, _now(now))
        actor = replace(current, org_id=user.org_id, uid=user.uid, address=address)
        source = current.message if current.type is RequestType.SIGN_MESSAGE else current.transaction
        if source.get("from") and source["from"].lower() != address.lower():
            raise A2AInvalidFromAddress("this request is for another account (from does not match)")
        return _EFFECTS[current.type](current, actor, user, _now(now))

    try:
        done = run_with_retries(attempt)
    except (A2AInvalidRequestStatus, A2ARequestKeyExpired):
        raise
    except KlipError as refused:
        done = _fail(request.request_key, user, address, refused, now)
    _end_user_session(principal)
    return page_view(done)


def _fail(request_key: str, user, address: str, refused: KlipError, now: Optional[float]) -> A2ARequest:
    """Ends the request in `error` with the refusal's Klip code (unless something else
    ended it first: then the stored state stands)."""
    def attempt() -> A2ARequest:
        current = _known(request_key)
        if current.status is not Status.PREPARED:
            return current
        return store.update(current, replace(current, org_id=user.org_id, uid=user.uid, address=address,
                                             status=Status.ERROR, result=None, error_code=refused.klip_code,
                                             error_message=refused.message))

    return run_with_retries(attempt)


def _complete(request: A2ARequest, actor: A2ARequest, result_: dict, stage=None) -> A2ARequest:
    """Commits the effect's writes with prepared -> completed (ConcurrentUpdate: retry)."""
    tx = Transaction()
    if stage is not None:
        stage(tx)
    written = store.stage_update(tx, request, replace(actor, status=Status.COMPLETED, result=result_))
    tx.commit()
    return written


def _auth(request, actor, user, now) -> A2ARequest:
    return _complete(request, actor, {"klaytn_address": actor.address})


def _sign(request, actor, user, now) -> A2ARequest:
    signature = wallets.sign_personal_message(user.org_id, user.uid, request.message["value"].encode("utf-8"))
    return _complete(request, actor, {"signature": signature})


def _card_transfer(request, actor, user, now, contract, card_id, receiver, *, count_execute=False) -> A2ARequest:
    receiver_owner = wallets.owner_of(receiver)
    tx_hash: list[str] = []

    def stage(tx: Transaction) -> None:
        if count_execute:
            store.stage_execute_count(tx, user.uid, time.strftime("%Y%m%d", time.gmtime(now)), execute_daily_limit())
        moved = cards.stage_transfer(
            tx, contract, card_id, actor.address, receiver, reference=f"a2a:{request.request_key}",
            sender_uid=user.uid, sender_org=user.org_id,
            receiver_uid=receiver_owner.uid if receiver_owner and receiver_owner.kind == "user" else None,
            receiver_org=receiver_owner.org_id if receiver_owner and receiver_owner.kind == "user" else None)
        tx_hash.append(moved.transaction_hash)

    try:
        tx = Transaction()
        stage(tx)
        written = store.stage_update(tx, request, replace(actor, status=Status.COMPLETED,
                                                          result={"tx_hash": tx_hash[-1], "status": "success"}))
        tx.commit()
        return written
    except CardNotFound:
        raise A2AInvalidCardId("card does not exist") from None
    except CardNotOwned:
        raise A2AInvalidCardId("card is not owned by this account") from None
    except CardNotSendable:
        raise A2AInvalidCardId("card is not sendable") from None


def _send_card(request, actor, user, now) -> A2ARequest:
    tx = request.transaction
    return _card_transfer(request, actor, user, now, tx["contract"], int(tx["card_id"]), tx["to"])


def _execute(request, actor, user, now) -> A2ARequest:
    tx = request.transaction
    if tx["call_from"].lower() != actor.address.lower():
        raise A2AInvalidParams("the from param must be your own address")
    return _card_transfer(request, actor, user, now, tx["to"], int(tx["card_id"]), tx["call_to"],
                          count_execute=True)


def _token_of(request: A2ARequest, org_id: str) -> str:
    key = "KLAY" if request.type is RequestType.SEND_KLAY else request.transaction["contract"].lower()
    token = _org_token_map(org_id).get(key)
    if not token:
        raise A2AInvalidContract("this token is not supported for your account")
    try:
        catalog.org(org_id).token(token)
    except UnknownToken:
        raise A2AInvalidContract(f"{token} is not listed by your broker") from None
    return token


def _send_value(request, actor, user, now) -> A2ARequest:
    token = _token_of(request, user.org_id)
    amount = Decimal(request.transaction["amount"])
    receiver = request.transaction["to"]
    if receiver.lower() == actor.address.lower():
        raise A2AInvalidToAddress("you cannot send to your own address")
    owner = wallets.owner_of(receiver)
    if owner is not None and owner.kind == "user" and owner.account_id:
        return _internal_transfer(request, actor, user, token, amount, owner)
    return _withdraw(request, actor, user, token, amount)


def _internal_transfer(request, actor, user, token, amount, owner) -> A2ARequest:
    if owner.org_id != user.org_id and token not in catalog.org(owner.org_id).tokens:
        raise A2AInvalidToAddress(f"the receiver's broker does not list {token}")
    sender, receiver = user.main_account_id, owner.account_id
    if owner.org_id == user.org_id:
        entries = money.postings(Subject.TRANSFER, money.transfer(sender, receiver, token, amount))
    else:  # across orgs the value leaves through one custody account and enters through the other
        entries = (money.postings(Subject.TRANSFER, money.transfer(sender, money.custody_account(user.org_id),
                                                                   token, amount))
                   + money.postings(Subject.TRANSFER, money.transfer(money.custody_account(owner.org_id),
                                                                     receiver, token, amount)))
    tx_hash = rules.operation_hash(f"a2a:{request.request_key}")

    def stage(tx: Transaction) -> None:
        ledger.stage(tx, entries, reference=f"a2a:{request.request_key}")

    try:
        return _complete(request, actor, {"tx_hash": tx_hash, "status": "success"}, stage)
    except InsufficientBalance:
        raise A2AInsufficientFunds() from None


def _withdraw(request, actor, user, token, amount) -> A2ARequest:
    listing = catalog.org(user.org_id).token(token)
    if ledger.balance(user.main_account_id, token).available < amount + listing.withdraw_fee:
        raise A2AInsufficientFunds(f"insufficient funds: {amount} {token} plus a fee of {listing.withdraw_fee}")
    pending = {"tx_hash": rules.operation_hash(f"a2a:{request.request_key}"), "status": "pending"}
    requested = store.update(request, replace(actor, status=Status.REQUESTED, result=pending))
    return _drive_withdrawal(requested)


def _drive_withdrawal(request: A2ARequest) -> A2ARequest:
    """Moves a `requested` send to its end: creates the withdrawal (idempotent on the
    request key, so a crash before recording it is repaired by the next read), then
    completes the request once the withdrawal is final."""
    if request.status is not Status.REQUESTED or not request.uid:
        return request
    try:
        from chalicelib.domain.custody import Holder, WithdrawalState
        from chalicelib.services import withdrawals
    except ImportError:  # custody not deployed: nothing can leave the platform
        return _end_requested(request, status=Status.ERROR,
                              refused=A2AInvalidTransaction("withdrawals to outside addresses are not available"))
    user = users.get_user(request.org_id, request.uid)
    holder = Holder(user.org_id, user.uid, user.main_account_id)
    try:
        if request.withdrawal_id is None:
            view = withdrawals.create_withdrawal(
                holder, token=_token_of(request, user.org_id), amount=Decimal(request.transaction["amount"]),
                address=request.transaction["to"], client_order_id=f"a2a-{request.request_key}")
            request = _record_withdrawal(request, view["withdrawal_id"])
        else:
            view = withdrawals.withdrawal_detail(holder, withdrawal_id=request.withdrawal_id)
    except InsufficientBalance:
        return _end_requested(request, status=Status.ERROR, refused=A2AInsufficientFunds())
    except KlipError as refused:
        return _end_requested(request, status=Status.ERROR, refused=refused)
    except BrokerError as refused:
        if getattr(refused, "retryable", False):
            return request
        return _end_requested(request, status=Status.ERROR, refused=A2AInvalidTransaction(refused.message))
    state = WithdrawalState(view["state"])
    if not state.is_final:
        return request
    outcome = "success" if state is WithdrawalState.SUCCESS else "fail"
    return _end_requested(request, status=Status.COMPLETED, outcome=outcome)


def _record_withdrawal(request: A2ARequest, withdrawal_id: str) -> A2ARequest:
    try:
        return store.update(request, replace(request, withdrawal_id=str(withdrawal_id)))
    except ConcurrentUpdate:
        return store.get(request.request_key)


def _end_requested(request: A2ARequest, *, status: Status, outcome: Optional[str] = None,
                   refused: Optional[KlipError] = None) -> A2ARequest:
    if status is Status.COMPLETED:
        after = replace(request, status=status, result={**(request.result or {}), "status": outcome})
    else:
        after = replace(request, status=status, result=None, error_code=refused.klip_code,
                        error_message=refused.message)
    try:
        return store.update(request, after)
    except ConcurrentUpdate:
        return store.get(request.request_key)


_EFFECTS = {
    RequestType.AUTH: _auth, RequestType.SIGN_MESSAGE: _sign, RequestType.SEND_CARD: _send_card,
    RequestType.EXECUTE_CONTRACT: _execute, RequestType.SEND_KLAY: _send_value, RequestType.SEND_TOKEN: _send_value,
}
