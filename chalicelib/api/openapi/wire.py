"""The BHEX OpenAPI wire format: error codes and the JSON shapes of every answer.

Typing follows BHEX's real servers (specs/bhex-openapi.md §2): on the OpenAPI server
(Gson) every Java `Long` (ids, times) is a JSON string and `Integer`s are numbers; on the
quote server (Jackson) times and counts are numbers. Decimals are always strings
without trailing zeros. Fields without a value are omitted, never null.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Optional

from chalicelib.api import rendering
from chalicelib.api.rendering import Family
from chalicelib.domain import errors as e
from chalicelib.domain import money
from chalicelib.domain.ledger import Subject


class BhexError(e.BrokerError):
    """An error whose BHEX code the API layer chose (codes that depend on the endpoint)."""

    def __init__(self, bhex_code: int, message: str, http_status: int = 400):
        super().__init__(message)
        self.bhex_code = bhex_code
        self.http_status = http_status


def invalid(param: str) -> BhexError:
    return BhexError(-1130, f"Data sent for paramter '{param}' is not valid.")


def missing(param: str) -> BhexError:
    return BhexError(-1004, f"Missing required parameter '{param}'")


# Internal error class -> (BHEX code, message or None to keep the internal message).
# The most specific class wins (looked up along the class's MRO).
_CODES: dict[type, tuple[int, Optional[str]]] = {
    e.InternalError: (-1001, "Internal error."),
    e.Unauthenticated: (-1002, "You are not authorized to execute this request."),
    e.InvalidSignature: (-1022, "Signature for this request is not valid."),
    e.UnknownApiKey: (-1022, "Signature for this request is not valid."),
    e.InvalidTimestamp: (-1021, None),
    e.Forbidden: (-1005, "No permission."),
    e.IpNotAllowed: (-2015, "Invalid API-key, IP, or permissions for action."),
    e.AccountDisabled: (-2015, "Invalid API-key, IP, or permissions for action."),
    e.AccountLocked: (-2015, "Invalid API-key, IP, or permissions for action."),
    e.IpWhitelistRequired: (-1023, "Please set IP whitelist before using API."),
    e.ReadOnlyKey: (-1020, "This operation is not supported."),
    e.RateLimited: (-1003, None),
    e.TooManyOrders: (-1015, None),
    e.InvalidParameter: (-1130, None),
    e.MissingParameter: (-1004, None),
    e.NotFound: (-1000, None),
    e.RouteNotFound: (-1000, "Not found"),
    e.MethodNotAllowed: (-1004, "Bad request"),
    e.PayloadTooLarge: (-1101, "Too many parameters sent for this endpoint."),
    e.InsufficientBalance: (-1131, "Balance insufficient "),
    e.UnknownToken: (-1130, None),
    e.UnknownAccount: (-1171, "Account not exist"),
    e.UnknownSymbol: (-1130, "Data sent for paramter 'symbol' is not valid."),
    e.SymbolNotTrading: (-1151, None),
    e.InvalidSide: (-1117, "Invalid side."),
    e.InvalidOrderType: (-1116, "Invalid orderType."),
    e.InvalidTimeInForce: (-1115, "Invalid timeInForce."),
    e.PriceOffTick: (-1134, None),
    e.QuantityOffStep: (-1137, None),
    e.QuantityTooSmall: (-1136, None),
    e.QuantityTooLarge: (-1135, None),
    e.PriceTooHigh: (-1132, None),
    e.PriceTooLow: (-1133, None),
    e.NotionalTooSmall: (-1140, None),
    e.AmountOffPrecision: (-1148, None),
    e.LimitMakerWouldTake: (-1158, None),
    e.OrderNotFound: (-2013, "Order does not exist."),
    e.OrderAlreadyFilled: (-1139, "Order has been filled."),
    e.OrderAlreadyCanceled: (-1142, "Order has been canceled"),
    e.DuplicateClientOrderId: (-1141, "Duplicate clientOrderId"),
    e.TradingFrozen: (-1151, None),
    e.WithdrawNotAllowed: (-1181, None),
    e.DepositNotAllowed: (-1182, None),
    e.InvalidAddress: (-1173, None),
    e.WithdrawQuotaExceeded: (-1178, None),
    e.WithdrawTooSmall: (-1179, None),
    e.IdempotencyMismatch: (-1141, "Duplicate clientOrderId"),
    e.OperationInProgress: (-1174, "Repeated submit, please retry later"),
    e.ConcurrentUpdate: (-1007, "Timeout waiting for response from backend server. Send status unknown; "
                                "execution status unknown."),
    e.TransactionTooLarge: (-1001, "Internal error."),
    e.WithdrawalNotFound: (-2013, "Order does not exist."),
    e.DepositNotFound: (-2013, "Order does not exist."),
    e.WithdrawalAddressNotSaved: (-1187, "Withdrawal address is not in the whitelist."),
    e.WithdrawalNotCancelable: (-1145, None),
    e.CustodyUnavailable: (-1007, "Timeout waiting for response from backend server. Send status unknown; "
                                  "execution status unknown."),
}


def bhex_code(failure: e.BrokerError) -> tuple[int, str]:
    if isinstance(failure, BhexError):
        return failure.bhex_code, failure.message
    for cls in type(failure).__mro__:
        if cls in _CODES:
            code, message = _CODES[cls]
            return code, message or failure.message
    return -1000, failure.message or "An unknown error occurred while processing the request."


def http_status(code: int, failure: e.BrokerError) -> int:
    if isinstance(failure, BhexError):
        return failure.http_status
    if code in (-1003, -1015):
        return 429
    if code == -1001:
        return 500
    if isinstance(failure, e.RouteNotFound):
        return 404
    return 400


def render_error(failure: e.BrokerError) -> tuple[int, dict, dict]:
    code, message = bhex_code(failure)
    return http_status(code, failure), {"code": code, "msg": message}, {"error_code": str(code)}


rendering.register_error_renderer(Family.OPENAPI, render_error)


# --- values -----------------------------------------------------------------------

def dec(value: Any) -> str:
    """A decimal as BHEX writes it: plain, no trailing zeros ("0", "0.1", "100")."""
    if value is None or value == "":
        return "0"
    return money.text(value if isinstance(value, Decimal) else Decimal(str(value)))


def long_text(value: Any) -> str:
    """A Java Long as the OpenAPI server's Gson writes it: a string."""
    return str(int(value)) if value not in (None, "") else "0"


# --- general ------------------------------------------------------------------------

def symbol_info(listing) -> dict:
    rules = listing.rules
    trading = listing.can_trade and rules.trading
    return {
        "filters": [
            {"minPrice": dec(rules.min_price), "maxPrice": dec(rules.max_price), "tickSize": dec(rules.tick_size),
             "filterType": "PRICE_FILTER"},
            {"minQty": dec(rules.min_qty), "maxQty": dec(rules.max_qty), "stepSize": dec(rules.step_size),
             "filterType": "LOT_SIZE"},
            {"minNotional": dec(rules.min_notional), "filterType": "MIN_NOTIONAL"},
        ],
        "exchangeId": str(listing.exchange_id), "symbol": rules.symbol, "symbolName": rules.symbol,
        "status": "TRADING" if trading else "HALT",
        "baseAsset": rules.base_asset, "baseAssetName": rules.base_asset,
        "baseAssetPrecision": dec(rules.step_size),
        "quoteAsset": rules.quote_asset, "quoteAssetName": rules.quote_asset,
        "quotePrecision": dec(rules.market_quote_step),
        "icebergAllowed": False, "isAggregate": False, "allowMargin": False,
    }


def token_info(org_id: str, listing) -> dict:
    chains = [dict(chain) for chain in listing.chains]
    return {
        "orgId": str(org_id), "token": listing.token_id, "tokenId": listing.token_id,
        "tokenName": listing.name, "tokenFullName": listing.full_name, "iconUrl": listing.icon_url or "",
        "maxWithdrawQuota": dec(listing.max_withdraw_daily), "minWithdrawQuantity": dec(listing.min_withdraw),
        "minDepositQuantity": dec(listing.min_deposit),
        "feeToken": listing.token_id, "feeTokenId": listing.token_id, "feeTokenName": listing.name,
        "fee": dec(listing.withdraw_fee),
        "allowWithdraw": bool(listing.allow_withdraw), "allowDeposit": bool(listing.allow_deposit),
        "chainTypes": [{"chainType": chain.get("chainType", ""), "allowDeposit": bool(listing.allow_deposit),
                        "allowWithdraw": bool(listing.allow_withdraw)} for chain in chains],
    }


# --- orders and trades --------------------------------------------------------------

def _order_qty(view: dict) -> str:
    """What the client asked for: base quantity, or a MARKET BUY's quote amount."""
    if view["type"] == "MARKET" and view["side"] == "BUY" and view.get("quote_amount") is not None:
        return dec(view["quote_amount"])
    return dec(view["quantity"])


def _order_price(view: dict) -> str:
    return dec(view["price"]) if view.get("price") is not None and view["type"] != "MARKET" else "0"


def new_order(view: dict) -> dict:
    """POST order (BHEX `NewOrderResult`)."""
    return {
        "accountId": view["account_id"], "symbol": view["symbol"], "symbolName": view["symbol"],
        "clientOrderId": view["client_order_id"], "orderId": view["order_id"],
        "transactTime": long_text(view["created_at"]), "price": _order_price(view), "origQty": _order_qty(view),
        "executedQty": dec(view["executed_qty"]), "status": view["status"],
        "timeInForce": view["time_in_force"], "type": view["type"], "side": view["side"],
    }


def query_order(view: dict) -> dict:
    """GET order, openOrders, historyOrders (BHEX `QueryOrderResult`)."""
    shape = {
        "accountId": view["account_id"], "exchangeId": str(view.get("exchange_id") or ""),
        "symbol": view["symbol"], "symbolName": view["symbol"],
        "clientOrderId": view["client_order_id"], "orderId": view["order_id"],
        "price": _order_price(view), "origQty": _order_qty(view), "executedQty": dec(view["executed_qty"]),
        "cummulativeQuoteQty": dec(view["executed_quote"]),
        "avgPrice": dec(view["average_price"]) if view.get("average_price") else "0",
        "status": view["status"], "timeInForce": view["time_in_force"], "type": view["type"],
        "side": view["side"], "stopPrice": "0.0", "icebergQty": "0.0",
        "time": long_text(view["created_at"]), "updateTime": long_text(view.get("updated_at") or view["created_at"]),
        "isWorking": True,
    }
    if view.get("fee_asset"):
        shape["fees"] = [{"feeToken": view["fee_asset"], "fee": dec(view.get("fee_paid"))}]
    return shape


def canceled_order(view: dict) -> dict:
    """DELETE order (BHEX `CancelOrderResult`)."""
    return {
        "accountId": view["account_id"], "symbol": view["symbol"], "clientOrderId": view["client_order_id"],
        "orderId": view["order_id"], "transactTime": long_text(view.get("updated_at") or view["created_at"]),
        "price": _order_price(view), "origQty": _order_qty(view), "executedQty": dec(view["executed_qty"]),
        "status": view["status"], "timeInForce": view["time_in_force"], "type": view["type"],
        "side": view["side"],
    }


def my_trade(view: dict, with_is_normal: bool = False) -> dict:
    """myTrades item (BHEX `TradeResult`): the caller's side of a trade only."""
    fee = Decimal(view["fee"] or "0")
    fee_asset = view.get("fee_asset") or ""
    shape = {
        "id": view["trade_id"], "symbol": view["symbol"], "symbolName": view["symbol"],
        "orderId": view["order_id"], "matchOrderId": view["match_order_id"],
        "price": dec(view["price"]), "qty": dec(view["qty"]),
        "commission": dec(max(fee, Decimal(0))), "commissionAsset": fee_asset,
        "time": long_text(view["time"]), "isBuyer": bool(view["is_buyer"]), "isMaker": bool(view["is_maker"]),
        "fee": {"feeTokenId": fee_asset, "feeTokenName": fee_asset, "fee": dec(max(fee, Decimal(0)))},
        "feeTokenId": fee_asset, "feeAmount": dec(max(fee, Decimal(0))),
        "makerRebate": dec(-fee if fee < 0 else Decimal(0)),
    }
    if with_is_normal:
        shape["isNormal"] = True
    return shape


# --- account and ledger ----------------------------------------------------------------

def balance(entry) -> dict:
    """One balance; BHEX has no lock-up part, so it is shown as locked (total = free + locked)."""
    locked = entry.locked + entry.position
    return {"asset": entry.token, "assetId": entry.token, "assetName": entry.token,
            "total": dec(entry.total), "free": dec(entry.available), "locked": dec(locked)}


# BusinessSubject names (specs/bhex-openapi.md §13) and English labels of the flows shown.
FLOW_TYPES: dict[int, tuple[str, str]] = {
    Subject.TRADE: ("TRADE", "Trade"),
    Subject.FEE: ("FEE", "Fee"),
    Subject.TRANSFER: ("TRANSFER", "Transfer"),
    Subject.DEPOSIT: ("DEPOSIT", "Deposit"),
    Subject.TRADE_FEE_RECEIVED: ("TRADE_FEE_RECEIVED", "Trade fee received"),
    Subject.WITHDRAWAL: ("WITHDRAWAL_ACTUAL_ARRIVE", "Withdrawal"),
    Subject.WITHDRAWAL_FEE: ("WITHDRAWAL_BROKER_FEE", "Withdrawal fee"),
    Subject.WITHDRAWAL_ROLLBACK: ("WITHDRAWAL_ROLLBACK_ACTUAL_ARRIVE", "Withdrawal rollback"),
    Subject.USER_ACCOUNT_TRANSFER: ("USER_ACCOUNT_TRANSFER", "User account transfer"),
    Subject.ACTIVITY_AWARD: ("ACTIVITY_AWARD", "Activity award"),
    Subject.INVITATION_REFERRAL_BONUS: ("INVITATION_REFERRAL_BONUS", "Invitation referral bonus"),
    Subject.REGISTER_BONUS: ("REGISTER_BONUS", "Register bonus"),
    Subject.AIRDROP: ("AIRDROP", "Airdrop"),
    Subject.INEX_MAPPING: ("INEX_MAPPING", "Mapping"),
    Subject.CONVERT: ("CONVERT", "Convert"),
}
# Lock and unlock flows (>= 900) move money between available and locked: total does
# not change, and BHEX's balance flow shows changes of the total only.
HIDDEN_FLOW_SUBJECT_FLOOR = 900


def visible_flow_subjects() -> set[int]:
    return {int(subject) for subject in Subject if int(subject) < HIDDEN_FLOW_SUBJECT_FLOOR}


def balance_flow(flow) -> dict:
    name, label = FLOW_TYPES.get(flow.subject, (f"SUBJECT_{flow.subject}", f"Subject {flow.subject}"))
    return {
        "id": long_text(flow.flow_id), "accountId": str(flow.account_id), "token": flow.token,
        "tokenId": flow.token, "tokenName": flow.token, "flowTypeValue": int(flow.subject), "flowType": name,
        "flowName": label, "change": dec(flow.change), "total": dec(flow.total_after),
        "created": long_text(flow.created_at),
    }


# --- market data (quote-server typing: numbers for times and counts) -------------------

def levels(levels_: Iterable) -> list[list[str]]:
    return [[dec(level.price), dec(level.qty)] for level in levels_]


def kline_row(kline) -> list:
    return [kline.open_time, dec(kline.open), dec(kline.high), dec(kline.low), dec(kline.close),
            dec(kline.volume), kline.close_time, dec(kline.quote_volume), int(kline.trade_count),
            dec(kline.taker_buy_volume), dec(kline.taker_buy_quote_volume)]


def public_trade(trade) -> dict:
    # BHEX's `isBuyerMaker` is true when the taker BOUGHT ("is buy"), the opposite of
    # Binance's meaning; it is reproduced as the real server sends it.
    return {"time": int(trade.time), "price": dec(trade.price), "qty": dec(trade.qty),
            "isBuyerMaker": not trade.buyer_is_maker}


def ticker_24h(ticker: dict, with_best: bool = True) -> dict:
    shape = {
        "time": int(ticker["time"]), "symbol": ticker["symbol"],
        "lastPrice": dec(ticker["last"]), "highPrice": dec(ticker["high"]), "lowPrice": dec(ticker["low"]),
        "openPrice": dec(ticker["open"]), "volume": dec(ticker["volume"]), "quoteVolume": dec(ticker["quote_volume"]),
    }
    if with_best:
        shape["bestBidPrice"] = dec(ticker["best_bid"])
        shape["bestAskPrice"] = dec(ticker["best_ask"])
    return shape


def ticker_price(ticker: dict) -> dict:
    return {"symbol": ticker["symbol"], "price": dec(ticker["last"])}


def book_ticker(ticker: dict) -> dict:
    return {"symbol": ticker["symbol"], "bidPrice": dec(ticker["best_bid"]), "bidQty": dec(ticker["best_bid_qty"]),
            "askPrice": dec(ticker["best_ask"]), "askQty": dec(ticker["best_ask_qty"]), "time": int(ticker["time"])}
