"""Request models of the OAuth family, one per operation (the OpenAPI generator reads
them through `http.OPERATIONS`).

Protocol endpoints (authorize, token, check_token) use the RFC's snake_case names and
ignore parameters they do not know (RFC 6749 §3.1, §3.2); authlib then checks the
protocol itself. Resource endpoints use camelCase like the rest of BHOP (snake_case is
accepted too) and refuse unknown parameters. `access_token`, `client_id` and `open_id`
(sent by the seed's clients on every call) are taken off before a resource model sees
the parameters.
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Scope = Annotated[str, StringConstraints(strip_whitespace=True, max_length=512)]
TokenId = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9_]{1,20}$")]
Symbol = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9_]{1,30}$")]
Amount = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{1,30}(\.\d{1,30})?$")]
Id = Annotated[int, Field(ge=1)]
Millis = Annotated[int, Field(ge=0)]
Limit = Annotated[int, Field(ge=1, le=500)]
OperationId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")]


class Protocol(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Resource(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


# --- protocol -----------------------------------------------------------------------------------------

class AuthorizeQuery(Protocol):
    """RFC 6749 §4.1.1 with RFC 7636 §4.3."""

    response_type: Text
    client_id: Text
    redirect_uri: Optional[Text] = None
    scope: Optional[Scope] = None
    state: Optional[Text] = None
    code_challenge: Optional[Text] = None
    code_challenge_method: Optional[Literal["S256"]] = None


class AuthorizeDecision(AuthorizeQuery):
    """The consent page's POST: the same request, the user's choice, the scopes kept.
    The page's login token goes in the `X-OAuth-Consent` header (or `consent_token`)."""

    decision: Literal["approve", "deny"]
    granted_scope: Optional[Scope] = None
    consent_token: Optional[Secret] = None


class TokenForm(Protocol):
    """RFC 6749 §4.1.3 (authorization_code, with RFC 7636 `code_verifier`) and §6
    (refresh_token). Client credentials: HTTP Basic, or `client_id` + `client_secret`."""

    grant_type: Text
    code: Optional[Secret] = None
    redirect_uri: Optional[Text] = None
    code_verifier: Optional[Secret] = None
    refresh_token: Optional[Secret] = None
    scope: Optional[Scope] = None
    client_id: Optional[Text] = None
    client_secret: Optional[Secret] = None


class RefreshForm(Protocol):
    """The seed's `refresh_token` endpoint: RFC 6749 §6 without naming the grant type."""

    refresh_token: Secret
    grant_type: Optional[Literal["refresh_token"]] = None
    scope: Optional[Scope] = None
    client_id: Optional[Text] = None
    client_secret: Optional[Secret] = None


class IntrospectionForm(Protocol):
    """RFC 7662 §2.1, the client authenticating as at the token endpoint."""

    token: Secret
    token_type_hint: Optional[Literal["access_token", "refresh_token"]] = None
    client_id: Optional[Text] = None
    client_secret: Optional[Secret] = None


class BearerIntrospection(Protocol):
    """The seed's `GET check_token`: the bearer token (header, or `access_token`) describes itself."""


class ErrorQuery(Protocol):
    error: Optional[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,64}$")]] = None
    error_description: Optional[Annotated[str, StringConstraints(max_length=300)]] = None


class ConsentLogin(Protocol):
    """Login on the consent page: `login` + `password` (+ `ga_code`), or `request_id` +
    `ga_code` to finish a login that asked for the second factor."""

    problem_field: ClassVar[str] = "login"
    client_id: Text
    login: Optional[Text] = None
    password: Optional[Secret] = None
    ga_code: Optional[Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}$")]] = None
    request_id: Optional[Secret] = None

    @model_validator(mode="after")
    def _one_way(self):
        if not self.request_id and not (self.login and self.password):
            raise ValueError("send login and password, or request_id and ga_code")
        return self


# --- resources ------------------------------------------------------------------------------------------

class NoParams(Resource):
    pass


class AssetQuery(Resource):
    token_id: Optional[TokenId] = None


class DepositAddressQuery(Resource):
    token_id: TokenId
    chain_type: Optional[Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                                          pattern=r"^[A-Za-z0-9_]{1,20}$")]] = None


class HistoryQuery(Resource):
    """Newest first; `fromId` keeps ids below it, `endId` ids above it; times in ms."""

    token_id: Optional[TokenId] = None
    from_id: Optional[Id] = None
    end_id: Optional[Millis] = None
    start_time: Optional[Millis] = None
    end_time: Optional[Millis] = None
    limit: Limit = 20


class OpenOrdersQuery(Resource):
    symbol: Optional[Symbol] = None
    side: Optional[Literal["BUY", "SELL", "buy", "sell"]] = None
    from_order_id: Optional[Id] = None
    limit: Limit = 20


class HistoryOrdersQuery(OpenOrdersQuery):
    start_time: Optional[Millis] = None
    end_time: Optional[Millis] = None


class TradesQuery(Resource):
    symbol: Optional[Symbol] = None
    order_id: Optional[Id] = None
    from_id: Optional[Id] = None
    end_id: Optional[Millis] = None
    start_time: Optional[Millis] = None
    end_time: Optional[Millis] = None
    limit: Limit = 20


class PlaceOrderForm(Resource):
    """`clientOrderId` is the operation id: a retry with the same id and terms answers the
    first order; a MARKET buy's `quantity` is the quote amount to spend."""

    symbol: Symbol
    side: Literal["BUY", "SELL", "buy", "sell"]
    type: Literal["LIMIT", "MARKET", "LIMIT_MAKER", "limit", "market", "limit_maker"] = "LIMIT"
    quantity: Amount
    price: Optional[Amount] = None
    time_in_force: Optional[Literal["GTC", "IOC", "FOK", "gtc", "ioc", "fok"]] = None
    client_order_id: OperationId


class CancelOrderForm(Resource):
    problem_field: ClassVar[str] = "orderId"
    order_id: Optional[Id] = None
    client_order_id: Optional[OperationId] = None

    @model_validator(mode="after")
    def _one_of(self):
        if self.order_id is None and not self.client_order_id:
            raise ValueError("orderId or clientOrderId is required")
        return self
