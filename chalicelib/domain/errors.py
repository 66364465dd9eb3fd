"""The error vocabulary: one class per failure mode, each with a stable code.

Codes are grouped in bands by subsystem (1xxx auth, 2xxx request, 3xxx ledger,
4xxx trading, 5xxx custody, 6xxx idempotency and concurrency, 110 internal).
Each API family translates them into its own wire format at the edge
(`chalicelib/api/rendering.py`); nothing below the API layer knows a wire format.
"""
from __future__ import annotations


class BrokerError(Exception):
    """Base of every error the platform raises on purpose."""

    code = 2000
    http_status = 400
    default_message = "Bad request"
    retryable = False

    def __init__(self, message: str | None = None, **details):
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


# --- 110 internal ----------------------------------------------------------

class InternalError(BrokerError):
    code = 110
    http_status = 500
    default_message = "Internal server error"


# --- 1xxx authentication and authorization ---------------------------------

class Unauthenticated(BrokerError):
    code = 1001
    http_status = 401
    default_message = "Authentication required"


class InvalidCredentials(Unauthenticated):
    code = 1105
    http_status = 400
    default_message = "Username or password is incorrect"


class InvalidSignature(Unauthenticated):
    code = 1002
    default_message = "Signature for this request is not valid"


class InvalidTimestamp(Unauthenticated):
    code = 1003
    default_message = "Timestamp for this request is outside of the receive window"


class UnknownApiKey(Unauthenticated):
    code = 1004
    default_message = "API key is not valid"


class Forbidden(BrokerError):
    code = 1010
    http_status = 403
    default_message = "Not allowed"


class IpNotAllowed(Forbidden):
    code = 1011
    default_message = "Request IP is not in the whitelist"


class IpWhitelistRequired(Forbidden):
    code = 1012
    default_message = "Bind an IP whitelist to this key first"


class ReadOnlyKey(Forbidden):
    code = 1013
    default_message = "This key cannot perform write operations"


class AccountDisabled(Forbidden):
    code = 1014
    default_message = "Account or key is disabled"


class AccountLocked(Forbidden):
    code = 1015
    default_message = "Account is locked after repeated failed logins"


class SecondFactorRequired(Forbidden):
    code = 1016
    default_message = "Second factor code required"


class InvalidSecondFactor(BrokerError):
    code = 1017
    default_message = "Second factor code is not valid"


class CsrfRejected(Forbidden):
    code = 1018
    default_message = "CSRF token missing or invalid"


class RateLimited(BrokerError):
    code = 1020
    http_status = 429
    default_message = "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **details):
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


class TooManyOrders(RateLimited):
    code = 1021
    default_message = "Too many new orders"


# --- 2xxx request validation -----------------------------------------------

class InvalidParameter(BrokerError):
    code = 2001
    default_message = "Parameter is not valid"

    def __init__(self, param: str, message: str | None = None, **details):
        super().__init__(message or f"Parameter '{param}' is not valid", param=param, **details)
        self.param = param


class MissingParameter(InvalidParameter):
    code = 2002

    def __init__(self, param: str, message: str | None = None, **details):
        super().__init__(param, message or f"Missing required parameter '{param}'", **details)


class NotFound(BrokerError):
    code = 2004
    default_message = "Not found"


class RouteNotFound(NotFound):
    code = 2005
    http_status = 404
    default_message = "No such route"


class MethodNotAllowed(BrokerError):
    code = 2006
    http_status = 405
    default_message = "Method not allowed"


class PayloadTooLarge(BrokerError):
    code = 2007
    http_status = 413
    default_message = "Payload too large"


# --- 3xxx ledger -------------------------------------------------------------

class InsufficientBalance(BrokerError):
    code = 3001
    default_message = "Balance insufficient"


class UnknownToken(InvalidParameter):
    code = 3002

    def __init__(self, token: str, **details):
        super().__init__("token", f"Token '{token}' is not supported", token=token, **details)


class UnknownAccount(NotFound):
    code = 3003
    default_message = "Account does not exist"


class BalanceFrozen(BrokerError):
    code = 3004
    default_message = "Balance is frozen"


# --- 4xxx trading ------------------------------------------------------------

class UnknownSymbol(InvalidParameter):
    code = 4001

    def __init__(self, symbol: str, **details):
        super().__init__("symbol", f"Symbol '{symbol}' is not valid", symbol=symbol, **details)


class SymbolNotTrading(BrokerError):
    code = 4002
    default_message = "Symbol is not open for trading"


class InvalidSide(InvalidParameter):
    code = 4003

    def __init__(self, param: str = "side", message: str | None = None, **details):
        super().__init__(param, message or "Invalid side", **details)


class InvalidOrderType(InvalidParameter):
    code = 4004

    def __init__(self, param: str = "type", message: str | None = None, **details):
        super().__init__(param, message or "Invalid order type", **details)


class InvalidTimeInForce(InvalidParameter):
    code = 4005

    def __init__(self, param: str = "timeInForce", message: str | None = None, **details):
        super().__init__(param, message or "Invalid timeInForce", **details)


class PriceOffTick(InvalidParameter):
    code = 4010

    def __init__(self, param: str = "price", message: str | None = None, **details):
        super().__init__(param, message or "Price is not on the tick size grid", **details)


class QuantityOffStep(InvalidParameter):
    code = 4011

    def __init__(self, param: str = "quantity", message: str | None = None, **details):
        super().__init__(param, message or "Quantity is not on the step size grid", **details)


class QuantityTooSmall(InvalidParameter):
    code = 4012

    def __init__(self, param: str = "quantity", message: str | None = None, **details):
        super().__init__(param, message or "Quantity is below the minimum", **details)


class QuantityTooLarge(InvalidParameter):
    code = 4013

    def __init__(self, param: str = "quantity", message: str | None = None, **details):
        super().__init__(param, message or "Quantity is above the maximum", **details)


class PriceTooHigh(InvalidParameter):
    code = 4014

    def __init__(self, param: str = "price", message: str | None = None, **details):
        super().__init__(param, message or "Price is above the maximum", **details)


class PriceTooLow(InvalidParameter):
    code = 4015

    def __init__(self, param: str = "price", message: str | None = None, **details):
        super().__init__(param, message or "Price is below the minimum", **details)


class NotionalTooSmall(InvalidParameter):
    code = 4016

    def __init__(self, param: str = "quantity", message: str | None = None, **details):
        super().__init__(param, message or "Order amount is below the minimum notional", **details)


class AmountOffPrecision(InvalidParameter):
    code = 4017

    def __init__(self, param: str = "quantity", message: str | None = None, **details):
        super().__init__(param, message or "Amount has more decimals than the precision allows", **details)


class LimitMakerWouldTake(BrokerError):
    code = 4020
    default_message = "LIMIT_MAKER order would immediately match and take"


class OrderNotFound(NotFound):
    code = 4030
    default_message = "Order does not exist"


class OrderAlreadyFilled(BrokerError):
    code = 4031
    default_message = "Order has been filled"


class OrderAlreadyCanceled(BrokerError):
    code = 4032
    default_message = "Order has been canceled"


class DuplicateClientOrderId(BrokerError):
    code = 4033
    default_message = "Duplicate clientOrderId"


class TradingFrozen(Forbidden):
    code = 4040
    default_message = "Trading is frozen for this user or symbol"


# --- 5xxx custody --------------------------------------------------------------

class WithdrawNotAllowed(BrokerError):
    code = 5001
    default_message = "Withdrawal is not allowed"


class DepositNotAllowed(BrokerError):
    code = 5002
    default_message = "Deposit is not allowed"


class InvalidAddress(InvalidParameter):
    code = 5003

    def __init__(self, param: str = "address", message: str | None = None, **details):
        super().__init__(param, message or "Address is not valid for this chain", **details)


class WithdrawQuotaExceeded(BrokerError):
    code = 5004
    default_message = "Withdrawal amount is over the daily maximum"


class WithdrawTooSmall(BrokerError):
    code = 5005
    default_message = "Withdrawal amount is under the minimum"


class WithdrawalNotCancelable(BrokerError):
    code = 5006
    default_message = "Withdrawal can no longer be canceled"


class CallbackRejected(Unauthenticated):
    code = 5010
    default_message = "Callback signature or timestamp is not valid"


# --- 6xxx idempotency and concurrency ----------------------------------------

class IdempotencyMismatch(BrokerError):
    code = 6001
    default_message = "Operation id was already used with a different payload"


class OperationInProgress(BrokerError):
    code = 6002
    http_status = 409
    retryable = True
    default_message = "An operation with this id is in progress; retry later"


class ConcurrentUpdate(BrokerError):
    code = 6003
    http_status = 409
    retryable = True
    default_message = "The record was changed concurrently; retry"


class TransactionTooLarge(BrokerError):
    code = 6004
    http_status = 500
    default_message = "Transaction exceeds DynamoDB limits"
