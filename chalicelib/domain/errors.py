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


# --- added for users and keys ---

class EmailAlreadyRegistered(BrokerError):
    code = 1030
    default_message = "Email is already registered"


class PhoneAlreadyRegistered(BrokerError):
    code = 1031
    default_message = "Mobile number is already registered"


class InvalidInviteCode(BrokerError):
    code = 1032
    default_message = "Invite code is not valid"


class AdminUsernameTaken(BrokerError):
    code = 1033
    default_message = "Admin username is already taken"


class ApiKeyAlreadyExists(BrokerError):
    code = 1034
    default_message = "API key already exists"


# --- added for custody ---

class WithdrawalNotFound(NotFound):
    code = 5007
    default_message = "Withdrawal order does not exist"


class DepositNotFound(NotFound):
    code = 5008
    default_message = "Deposit order does not exist"


class WithdrawalNotReviewable(BrokerError):
    code = 5009
    default_message = "Withdrawal is not waiting for review"


class WithdrawalAddressNotSaved(BrokerError):
    code = 5011
    default_message = "Withdrawal address is not in the saved address list"


class CustodyUnavailable(BrokerError):
    code = 5012
    http_status = 503
    retryable = True
    default_message = "Custody service is unavailable; retry later"


class CallbackConflict(BrokerError):
    code = 5013
    http_status = 409
    default_message = "Callback contradicts what is recorded"


# --- added for the user api ---

class VerifyCodeInvalid(BrokerError):
    code = 1060
    default_message = "Verification code is not valid"


class VerifyCodeExpired(BrokerError):
    code = 1061
    default_message = "Verification code has expired; request a new one"


class VerifyCodeAttemptsExceeded(BrokerError):
    code = 1062
    default_message = "Too many wrong verification codes; request a new one"


class VerifyCodeTooFrequent(RateLimited):
    code = 1063
    default_message = "Verification codes are requested too often; wait before asking again"


class GaAlreadyBound(BrokerError):
    code = 1064
    default_message = "Google Authenticator is already bound"


class GaNotBound(BrokerError):
    code = 1065
    default_message = "Google Authenticator is not bound"


class EmailAlreadyBound(BrokerError):
    code = 1066
    default_message = "An email address is already bound to this account"


class MobileAlreadyBound(BrokerError):
    code = 1067
    default_message = "A mobile number is already bound to this account"


class LoginRequestExpired(BrokerError):
    code = 1068
    default_message = "Login request has expired; log in again"


class UnknownHost(NotFound):
    code = 1069
    default_message = "No broker is served at this host"


class KycAlreadyPending(BrokerError):
    code = 1070
    default_message = "A verification request is already waiting for review"


class KycLevelNotAllowed(BrokerError):
    code = 1071
    default_message = "This verification level cannot be requested now"


class KycNotReviewable(BrokerError):
    code = 1072
    default_message = "Verification request is not waiting for review"


class UploadNotFound(InvalidParameter):
    code = 1073

    def __init__(self, param: str = "image", message: str | None = None, **details):
        super().__init__(param, message or "Uploaded file was not found", **details)


# --- added for klip ---
# Klip-compatible families (Partners, App2App). The internal codes use the 7xxx band;
# `klip_code` is what the Klip wire carries (specs/klip.md §1.9, §2.7), rendered by
# chalicelib/api/klip/errors.py.

class KlipError(BrokerError):
    code = 7000
    klip_code = 400
    default_message = "bad request"


class A2ARequestKeyNotFound(KlipError):
    code, klip_code = 7001, 6000
    default_message = "request key does not exist"


class A2ARequestKeyExpired(KlipError):
    code, klip_code = 7002, 6001
    default_message = "request key is expired"


class A2AInvalidRequestType(KlipError):
    code, klip_code = 7003, 6010
    default_message = "invalid request type"


class A2AInvalidRequestStatus(KlipError):
    code, klip_code = 7004, 6011
    default_message = "invalid request status"


class A2AExecuteContractDailyLimit(KlipError):
    code, klip_code = 7005, 6200
    default_message = "execute contract count daily limit exceeded"


class A2ABappNameRequired(KlipError):
    code, klip_code = 7006, 6401
    default_message = "bapp name is required"


class A2AInvalidTransaction(KlipError):
    code, klip_code = 7007, 6402
    default_message = "invalid transaction"


class A2AInvalidToAddress(KlipError):
    code, klip_code = 7008, 6403
    default_message = "invalid to address"


class A2AInvalidAmount(KlipError):
    code, klip_code = 7009, 6404
    default_message = "invalid amount"


class A2AInvalidContract(KlipError):
    code, klip_code = 7010, 6405
    default_message = "invalid contract"


class A2AInvalidCardId(KlipError):
    code, klip_code = 7011, 6406
    default_message = "invalid card id"


class A2AInvalidAbi(KlipError):
    code, klip_code = 7012, 6407
    default_message = "invalid abi"


class A2AInvalidParams(KlipError):
    code, klip_code = 7013, 6408
    default_message = "invalid params"


class A2AInvalidValue(KlipError):
    code, klip_code = 7014, 6409
    default_message = "invalid value"


class A2AUnknownRequestType(KlipError):
    code, klip_code = 7015, 6410
    default_message = "unknown request type"


class A2AInvalidFromAddress(KlipError):
    code, klip_code = 7016, 6411
    default_message = "invalid from address"


class A2AInsufficientFunds(KlipError):
    code, klip_code = 7017, 6412
    default_message = "insufficient funds"


class A2ABlacklistedAddress(KlipError):
    code, klip_code = 7018, 6500
    default_message = "address is on the blacklist"


class A2AInvalidUserStatus(KlipError):
    code, klip_code = 7019, 6501
    default_message = "invalid user status"


class PartnerBadRequest(KlipError):
    code, klip_code = 7100, 400
    default_message = "bad request"


class PartnerLoginFailed(KlipError):
    code, klip_code = 7101, 406
    default_message = "not found user info in db"


class PartnerInvalidToken(KlipError):
    code, klip_code = 7102, 401
    http_status = 401
    default_message = "invalid token"


class PartnerEmailTaken(KlipError):
    code, klip_code = 7103, 413
    default_message = "already existing email"


class PartnerMintLimitExceeded(KlipError):
    code, klip_code = 7104, 4080
    default_message = "mint count monthly limit exceeded"


class PartnerInvalidPin(KlipError):
    code, klip_code = 7105, 400
    default_message = "invalid pin"


class PartnerAccountState(KlipError):
    """420-424: the partner account's state forbids the call (sent with HTTP 401)."""

    code, klip_code = 7110, 424
    http_status = 401
    default_message = "undefined status"


class PartnerInactive(PartnerAccountState):
    code, klip_code = 7111, 420
    default_message = "inactive accounts require new pin code settings"


class PartnerSuspended(PartnerAccountState):
    code, klip_code = 7112, 421
    default_message = "suspended accounts cannot login"


class PartnerSuspensionRequested(PartnerAccountState):
    code, klip_code = 7113, 422
    default_message = "the account requesting the suspension"


class PartnerUnsubscribed(PartnerAccountState):
    code, klip_code = 7114, 423
    default_message = "the account has been unsubscribed"


class CardNotFound(NotFound):
    code = 7200
    default_message = "card does not exist"


class CardNotSendable(BrokerError):
    code = 7201
    default_message = "card is not sendable"


class CardNotOwned(BrokerError):
    code = 7202
    default_message = "card is not owned by this address"


class ApprovalSessionInvalid(Unauthenticated):
    code = 7300
    default_message = "approval session is missing or expired; log in again"


# --- added for the org api ---

class UnknownOrgDomain(Forbidden):
    code = 1040
    default_message = "This domain does not belong to any org"


class OrgDomainMismatch(Forbidden):
    code = 1041
    default_message = "API key does not belong to the org of this domain"


class ServiceUnavailable(BrokerError):
    code = 2020
    http_status = 503
    retryable = True
    default_message = "This function is not available; retry later"


class UnsupportedFileType(InvalidParameter):
    code = 2021

    def __init__(self, param: str = "file", message: str | None = None, **details):
        super().__init__(param, message or "File type is not allowed here", **details)


class SlippageExceeded(BrokerError):
    code = 3020
    default_message = "The rate moved beyond the allowed slippage"


class NoConversionRate(BrokerError):
    code = 3021
    default_message = "No rate is available for this token pair"


class UnfreezeExceedsFrozen(BrokerError):
    code = 3022
    default_message = "Amount is more than what is frozen"
