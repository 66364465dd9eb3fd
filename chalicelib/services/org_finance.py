"""The Org API's finance operations and the org's money settings.

Money leaves the org's operating account (`domain.ledger.operating_account`) unless the
caller names `from_uid`, one of its users, as the source. Every operation is a conserved
set of ledger postings staged with its org.* events and its idempotency record in one
transaction (the same id answers the first result; another payload under it is refused):

* airdrop: single or batch (up to MAX_AIRDROP_ITEMS), to the available balance or into
  lock-up (`position`). A batch larger than one transaction is cut into chunks, each an
  idempotent step of its own (`<operation id>#<n>`), then closed by a summary record; a
  retry after a failure part-way (say the source ran short) resumes where it stopped.
  Events: org.userReceiveAirdrop per item with its chunk, org.airdrop with the summary.
* lock / unlock: a user's available balance into lock-up and back (org.userLock,
  org.userUnLock).
* convert: source token to target token at the market's last price, refused when the
  result is below the caller's bound (`min_target_amount`, or `expected_rate` with
  `max_slippage`); the counterparty is the operating account or `from_uid` (org.convert).
* mapping: the same at the org's fixed rate (settings `mapping_rates`, "SRC/TGT" -> rate),
  optionally into lock-up (org.mapping).

Amounts must lie on the token's precision grid; results are rounded down to it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Callable, Optional

from chalicelib.domain import ledger as rules
from chalicelib.domain import money
from chalicelib.domain.errors import (
    AmountOffPrecision,
    InvalidParameter,
    MissingParameter,
    NoConversionRate,
    SlippageExceeded,
)
from chalicelib.domain.events import Event, org_stream
from chalicelib.domain.ledger import Movement, Posting, Subject
from chalicelib.services import catalog, idempotency, ledger, market_data, users
from chalicelib.store import org_users as store
from chalicelib.store.transaction import Transaction

MAX_AIRDROP_ITEMS = 500
# Items one transaction can take besides the idempotency record and the event outbox.
TRANSACTION_BUDGET = 96


@dataclass(frozen=True)
class AirdropItem:
    uid: str
    token: str
    amount: Decimal
    to_lock: bool = False


def _emit(tx: Transaction, org_id: str, kind: str, payload: dict, uid: Optional[str] = None) -> None:
    tx.emit(Event(org_stream(org_id), kind, payload, org_id, uid))


def _checked_amount(org: catalog.OrgView, token: str, amount: Decimal, param: str = "amount") -> Decimal:
    listing = org.token(token)
    rules.require_positive(amount, param)
    if listing.precision > 0 and not money.on_grid(amount, listing.precision):
        raise AmountOffPrecision(param)
    return amount


def _floor(org: catalog.OrgView, token: str, amount: Decimal) -> Decimal:
    precision = org.token(token).precision
    return amount.quantize(precision, rounding=ROUND_DOWN) if precision > 0 else amount


def _source(org_id: str, from_uid: Optional[str]) -> str:
    return users.get_user(org_id, from_uid).main_account_id if from_uid else rules.operating_account(org_id)


def _account(org_id: str, uid: str) -> str:
    return users.get_user(org_id, uid).main_account_id


def _text(amount: Decimal) -> str:
    return money.text(amount)


# --- airdrop ---------------------------------------------------------------------------------------

def _chunks(items: list[tuple[AirdropItem, str]], source: str) -> list[list[tuple[AirdropItem, str]]]:
    """Cuts the items so each chunk's writes (a balance per account and token, a flow per
    posting, the source's balance and flow per token) fit one transaction."""
    chunks: list[list[tuple[AirdropItem, str]]] = []
    current: list[tuple[AirdropItem, str]] = []
    balances: set[tuple[str, str]] = set()
    used = 0
    for item, account in items:
        cost = 1 + ((account, item.token) not in balances)
        if (source, item.token) not in balances:
            cost += 2
        if current and used + cost > TRANSACTION_BUDGET:
            chunks.append(current)
            current, balances, used = [], set(), 0
            cost = 1 + 1 + 2
        current.append((item, account))
        balances |= {(account, item.token), (source, item.token)}
        used += cost
    if current:
        chunks.append(current)
    return chunks


def airdrop(org_id: str, items: list[AirdropItem], *, from_uid: Optional[str] = None, desc: str = "",
            operation_id: str) -> dict:
    if not items:
        raise MissingParameter("items")
    if len(items) > MAX_AIRDROP_ITEMS:
        raise InvalidParameter("items", f"At most {MAX_AIRDROP_ITEMS} items per airdrop")
    org = catalog.org(org_id)
    for item in items:
        _checked_amount(org, item.token, item.amount)
    accounts = {uid: _account(org_id, uid) for uid in {item.uid for item in items}}
    source = _source(org_id, from_uid)
    desc = (desc or "")[:200]
    payload = {"from_uid": from_uid, "desc": desc,
               "items": [[i.uid, i.token, str(i.amount), bool(i.to_lock)] for i in items]}
    chunks = _chunks([(item, accounts[item.uid]) for item in items], source)
    totals: dict[str, Decimal] = {}
    for item in items:
        totals[item.token] = totals.get(item.token, Decimal(0)) + item.amount

    def run_chunk(index: int, chunk: list[tuple[AirdropItem, str]]) -> None:
        def build(tx: Transaction) -> dict:
            entries: list[Posting] = []
            for token in dict.fromkeys(item.token for item, _ in chunk):
                total = sum((item.amount for item, _ in chunk if item.token == token), Decimal(0))
                entries.append(Posting(Movement(source, token, available=-total), Subject.AIRDROP))
            for item, account in chunk:
                part = "position" if item.to_lock else "available"
                entries.append(Posting(Movement(account, item.token, **{part: item.amount}), Subject.AIRDROP))
                _emit(tx, org_id, "org.userReceiveAirdrop", {
                    "uid": item.uid, "token_id": item.token, "amount": _text(item.amount), "to_lock": item.to_lock,
                    "airdrop_id": operation_id, "desc": desc}, item.uid)
            ledger.stage(tx, entries, reference=f"airdrop:{operation_id}")
            return {"chunk": index, "items": len(chunk)}

        idempotency.run(f"orgairdropchunk:{org_id}", f"{operation_id}#{index}",
                        {"items": [[i.uid, i.token, str(i.amount), bool(i.to_lock)] for i, _ in chunk],
                         "source": source}, build)

    def close(tx: Transaction) -> dict:
        for index, chunk in enumerate(chunks):
            run_chunk(index, chunk)
        summary = {"airdrop_id": operation_id, "client_order_id": operation_id, "status": 1, "desc": desc,
                   "from_uid": from_uid or "", "item_count": len(items), "chunks": len(chunks),
                   "totals": {token: _text(total) for token, total in sorted(totals.items())}}
        _emit(tx, org_id, "org.airdrop", summary)
        return summary

    return idempotency.run(f"orgairdrop:{org_id}", operation_id, payload, close)


# --- lock-up -------------------------------------------------------------------------------------------

def _lock_op(org_id: str, uid: str, token: str, amount: Decimal, desc: str, operation_id: str, *,
             locking: bool) -> dict:
    org = catalog.org(org_id)
    _checked_amount(org, token, amount)
    account = _account(org_id, uid)
    desc = (desc or "")[:200]
    movements = (rules.lock_up if locking else rules.unlock_up)(account, token, amount)
    subject = Subject.LOCK_UP if locking else Subject.UNLOCK_UP
    kind = "org.userLock" if locking else "org.userUnLock"
    payload = {"uid": uid, "token": token, "amount": str(amount), "desc": desc}

    def build(tx: Transaction) -> dict:
        ledger.stage(tx, rules.postings(subject, movements), reference=f"org{'lock' if locking else 'unlock'}:"
                                                                      f"{operation_id}")
        view = {"uid": uid, "token_id": token, "amount": _text(amount), "desc": desc,
                "client_order_id": operation_id, "success": True}
        _emit(tx, org_id, kind, view, uid)
        return view

    scope = f"org{'lock' if locking else 'unlock'}:{org_id}"
    return idempotency.run(scope, operation_id, payload, build)


def lock(org_id: str, uid: str, token: str, amount: Decimal, *, desc: str = "", operation_id: str) -> dict:
    return _lock_op(org_id, uid, token, amount, desc, operation_id, locking=True)


def unlock(org_id: str, uid: str, token: str, amount: Decimal, *, desc: str = "", operation_id: str) -> dict:
    return _lock_op(org_id, uid, token, amount, desc, operation_id, locking=False)


# --- convert and mapping ------------------------------------------------------------------------------

# A rate is a fraction (target units, per source units), so that dividing by a price
# stays exact until the one rounding down to the target's precision.
Rate = tuple[Decimal, Decimal]


def market_rate(org: catalog.OrgView, source_token: str, target_token: str) -> Rate:
    """Target units per source unit at the last price of a symbol the org lists."""
    for symbol, invert in ((f"{source_token}{target_token}", False), (f"{target_token}{source_token}", True)):
        listing = org.symbols.get(symbol)
        if listing is None or {listing.rules.base_asset, listing.rules.quote_asset} != {source_token, target_token}:
            continue
        price = market_data.last_price(symbol)
        if price > 0:
            return (Decimal(1), price) if invert else (price, Decimal(1))
    raise NoConversionRate()


def mapping_rate(org: catalog.OrgView, source_token: str, target_token: str) -> Rate:
    table = org.settings.get("mapping_rates") or {}
    value = table.get(f"{source_token}/{target_token}") if isinstance(table, dict) else None
    if value in (None, ""):
        raise NoConversionRate("No mapping rate is configured for this token pair")
    return money.parse(value, "mapping_rate"), Decimal(1)


def _rate_text(rate: Rate) -> str:
    return _text((rate[0] / rate[1]).quantize(Decimal("1e-18"), rounding=ROUND_DOWN))


def _exchange(org_id: str, uid: str, *, source_token: str, source_amount: Decimal, target_token: str,
              rate_of: Callable[[catalog.OrgView], Rate], counterparty: str, subject: Subject, kind: str,
              to_lock: bool, scope: str, payload: dict, operation_id: str,
              check: Optional[Callable[[Decimal, Rate], None]] = None) -> dict:
    """Source token from the user to the counterparty, target token back at the rate. The
    rate is read inside the operation, so a replay answers the first result whatever the
    market did since."""
    org = catalog.org(org_id)
    if source_token == target_token:
        raise InvalidParameter("target_token_id", "Source and target tokens must differ")
    _checked_amount(org, source_token, source_amount, "source_amount")
    org.token(target_token)
    account = _account(org_id, uid)
    if counterparty == account:
        raise InvalidParameter("from_uid", "from_uid must be another user than uid")
    part = "position" if to_lock else "available"

    def build(tx: Transaction) -> dict:
        rate = rate_of(org)
        target_amount = _floor(org, target_token, source_amount * rate[0] / rate[1])
        if target_amount <= 0:
            raise InvalidParameter("source_amount", "Amount is too small to convert")
        if check:
            check(target_amount, rate)
        ledger.stage(tx, rules.postings(subject, [
            Movement(account, source_token, available=-source_amount),
            Movement(counterparty, source_token, available=source_amount),
            Movement(counterparty, target_token, available=-target_amount),
            Movement(account, target_token, **{part: target_amount})]), reference=f"{kind}:{operation_id}")
        view = {"uid": uid, "source_token_id": source_token, "source_amount": _text(source_amount),
                "target_token_id": target_token, "target_amount": _text(target_amount), "rate": _rate_text(rate),
                "to_lock": to_lock, "client_order_id": operation_id}
        _emit(tx, org_id, kind, view, uid)
        return view

    return idempotency.run(scope, operation_id, payload, build)


def convert(org_id: str, uid: str, *, source_token: str, source_amount: Decimal, target_token: str,
            min_target_amount: Optional[Decimal] = None, expected_rate: Optional[Decimal] = None,
            max_slippage: Optional[Decimal] = None, from_uid: Optional[str] = None,
            operation_id: str) -> dict:
    if min_target_amount is None and (expected_rate is None or max_slippage is None):
        raise MissingParameter("min_target_amount",
                               "Give min_target_amount, or expected_rate with max_slippage, to bound the rate")
    if max_slippage is not None and not Decimal(0) <= max_slippage < Decimal(1):
        raise InvalidParameter("max_slippage", "Slippage is a fraction from 0 to below 1")
    payload = {"uid": uid, "source": source_token, "amount": str(source_amount), "target": target_token,
               "min": None if min_target_amount is None else str(min_target_amount),
               "expected_rate": None if expected_rate is None else str(expected_rate),
               "max_slippage": None if max_slippage is None else str(max_slippage), "from_uid": from_uid}

    def check(target_amount: Decimal, rate: Rate) -> None:
        if min_target_amount is not None and target_amount < min_target_amount:
            raise SlippageExceeded(target_amount=_text(target_amount), rate=_rate_text(rate))
        if expected_rate is not None and max_slippage is not None \
                and rate[0] < expected_rate * (Decimal(1) - max_slippage) * rate[1]:
            raise SlippageExceeded(rate=_rate_text(rate))

    return _exchange(org_id, uid, source_token=source_token, source_amount=source_amount,
                     target_token=target_token, rate_of=lambda org: market_rate(org, source_token, target_token),
                     counterparty=_source(org_id, from_uid), subject=Subject.CONVERT, kind="org.convert",
                     to_lock=False, scope=f"orgconvert:{org_id}", payload=payload, operation_id=operation_id,
                     check=check)


def mapping(org_id: str, uid: str, *, source_token: str, source_amount: Decimal, target_token: str,
            to_lock: bool = False, from_uid: Optional[str] = None, operation_id: str) -> dict:
    payload = {"uid": uid, "source": source_token, "amount": str(source_amount), "target": target_token,
               "to_lock": bool(to_lock), "from_uid": from_uid}
    return _exchange(org_id, uid, source_token=source_token, source_amount=source_amount,
                     target_token=target_token, rate_of=lambda org: mapping_rate(org, source_token, target_token),
                     counterparty=_source(org_id, from_uid), subject=Subject.INEX_MAPPING, kind="org.mapping",
                     to_lock=bool(to_lock), scope=f"orgmapping:{org_id}", payload=payload,
                     operation_id=operation_id)


# --- the org's money settings ---------------------------------------------------------------------------

TOKEN_LISTING_FIELDS = ("withdraw_fee", "min_withdraw", "max_withdraw_daily")
THRESHOLD_FIELDS = ("withdraw_review_threshold", "withdraw_four_eyes_threshold")
FLAG_FIELDS = ("notify_place_order", "notify_cancel_order", "second_factor_withdraw", "second_factor_api_key")
INTEGER_FIELDS = {"login_lock_minutes": (1, 24 * 60), "session_hours": (1, 24 * 30),
                  "session_idle_minutes": (5, 24 * 60 * 30)}
SETTING_FIELDS = TOKEN_LISTING_FIELDS + THRESHOLD_FIELDS + FLAG_FIELDS + tuple(INTEGER_FIELDS) + ("mapping_rate",)


def _flag(name: str, value: str) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidParameter(name, f"Parameter '{name}' must be true or false")


def settings_view(org_id: str) -> dict:
    org = catalog.org(org_id)
    current = org.settings
    view = {name: current.get(name) for name in THRESHOLD_FIELDS + FLAG_FIELDS + tuple(INTEGER_FIELDS)}
    view["mapping_rates"] = current.get("mapping_rates") or {}
    view["tokens"] = {token: {"withdraw_fee": _text(t.withdraw_fee), "min_withdraw": _text(t.min_withdraw),
                              "max_withdraw_daily": _text(t.max_withdraw_daily)}
                      for token, t in sorted(org.tokens.items())}
    return view


def update_org_settings(org_id: str, values: dict[str, str], *, token: Optional[str] = None,
                        target_token: Optional[str] = None, operation_id: str) -> dict:
    """Sets the org's withdrawal fee, minimum and daily maximum of a token, its review
    thresholds (per token, "*" for every other; "" removes), order notification switches,
    second-factor switches, login and session limits, and mapping rates (token -> target
    token; "" removes)."""
    unknown = set(values) - set(SETTING_FIELDS)
    if unknown:
        raise InvalidParameter(sorted(unknown)[0], "Not an org setting")
    if not values:
        raise MissingParameter("settings", "Nothing to update")
    org = catalog.org(org_id)
    if token and token != "*":
        org.token(token)
    listing_changes, setting_changes = {}, {}
    for name, raw in values.items():
        if name in TOKEN_LISTING_FIELDS:
            if not token or token == "*":
                raise MissingParameter("token_id", f"'{name}' is set per token")
            amount = money.parse(raw, name)
            if amount < 0:
                raise InvalidParameter(name)
            listing_changes[name] = amount
        elif name in THRESHOLD_FIELDS:
            key = token or "*"
            if str(raw).strip() and money.parse(raw, name) < 0:
                raise InvalidParameter(name)
            setting_changes[(name, key)] = money.text(money.parse(raw, name)) if str(raw).strip() else None
        elif name in FLAG_FIELDS:
            setting_changes[(name, None)] = _flag(name, raw)
        elif name in INTEGER_FIELDS:
            low, high = INTEGER_FIELDS[name]
            try:
                number = int(raw)
            except (TypeError, ValueError):
                raise InvalidParameter(name) from None
            if not low <= number <= high:
                raise InvalidParameter(name, f"Parameter '{name}' must be {low} to {high}")
            setting_changes[(name, None)] = number
        else:  # mapping_rate
            if not token or not target_token or token == "*":
                raise MissingParameter("token_id", "A mapping rate needs token_id and target_token_id")
            org.token(target_token)
            if str(raw).strip() and money.parse(raw, name) <= 0:
                raise InvalidParameter(name)
            setting_changes[("mapping_rates", f"{token}/{target_token}")] = \
                money.text(money.parse(raw, name)) if str(raw).strip() else None
    payload = {"values": {name: str(value) for name, value in sorted(values.items())}, "token": token,
               "target_token": target_token}

    def build(tx: Transaction) -> dict:
        record = store.org_record(org_id)
        settings = json.loads(record.settings or "{}")
        for (name, key), value in setting_changes.items():
            if key is None:
                settings[name] = value
                continue
            table = dict(settings.get(name) or {})
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value
            settings[name] = table
        if setting_changes:
            store.stage_org_settings(tx, record, settings)
        if listing_changes:
            listing = store.org_token(org_id, token)
            if listing is None:
                raise InvalidParameter("token_id", f"Token '{token}' is not listed")
            store.stage_org_token(tx, listing, listing_changes)
        return {"updated": sorted(values)}

    result = idempotency.run(f"orgsettings:{org_id}", operation_id, payload, build)
    catalog.invalidate()
    return result
