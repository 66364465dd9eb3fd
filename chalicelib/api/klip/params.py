"""The parameters of every Klip route as pydantic models: what the routes validate before
their view runs and what the OpenAPI documents describe (specs/klip.md, docs/KLIP.md).

JSON bodies are strict (a JSON string is not a number, `"yes"` is not a boolean) and let
unknown keys through: real integrations send extra or misspelt keys (`send_friendly_only`)
and Klip ignores them. Limits are the services' own, so the model never refuses what the
service would take; the rules that need the store or a numbered order of codes (App2App's
prepare) stay in the domain, which the prepare model runs first.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from chalicelib.domain import klip as rules

SHA256_HEX = r"^\s*[0-9a-fA-F]{64}\s*$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
PADDED_ADDRESS = r"^\s*0x[0-9a-fA-F]{40}\s*$"  # App2App trims what the SDK sends
CURSOR = r"^[A-Za-z0-9_-]*$"
# The query parameter of a non-GET operation (`PUT /v2/partner?opt=password`).
IN_QUERY = {"x-in": "query"}
# A variable of the route's path (`/v2/wallet/nft/{nft_id}`).
IN_PATH = {"x-in": "path"}

Pin = Union[Annotated[str, Field(description="6 digits, or their SHA-256 hex")], Annotated[int, Field(ge=0, le=999999)]]


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _Query(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- Partners -------------------------------------------------------------------------------------

class PartnerLogin(_Body):
    """`password` is the SHA-256 hex of the plain password (any case)."""

    email: str = Field(min_length=1)
    password: str = Field(pattern=SHA256_HEX)


class PasswordChange(_Body):
    opt: Literal["password"] = Field(json_schema_extra=IN_QUERY)
    old_password: str = Field(pattern=SHA256_HEX)
    new_password: str = Field(pattern=SHA256_HEX)


class PinChange(_Body):
    """An inactive account sets its new PIN without the old one (which activates it)."""

    old_pin: Optional[Union[str, int]] = Field(None, validation_alias=AliasChoices("old_pin", "pin"))
    new_pin: Pin


class ImageUpload(BaseModel):
    model_config = ConfigDict(extra="allow")
    upload: bytes = Field(description="PNG, JPEG or GIF, at most 5 MB",
                          json_schema_extra={"contentMediaType": "image/*"})


class Attribute(_Body):
    trait_type: str
    value: Union[str, int, float]


class MintInfo(_Body):
    """One card per `to_address` entry (at most 40), on the partner's own contract."""

    pin: Pin
    to_address: Union[Annotated[list[Annotated[str, Field(pattern=ADDRESS)]], Field(min_length=1, max_length=40)],
                      Annotated[str, Field(pattern=ADDRESS)]]
    contract_address: Optional[str] = Field(None, description="the partner's card contract (the default)")
    name: str = Field(min_length=1, max_length=100)
    description: Optional[str] = Field(None, max_length=2000)
    image: Optional[str] = Field(None, max_length=2048, description="usually a URL from /v2/wallet/image")
    external_link: Optional[str] = Field(None, max_length=255)
    qr_code: Optional[str] = Field(None, max_length=2048)
    bar_code: Optional[str] = Field(None, max_length=2048)
    layout: Optional[str] = Field(None, max_length=50)
    background_color: Optional[str] = Field(None, max_length=16)
    external_url: Optional[str] = Field(None, max_length=2048)
    animation_url: Optional[str] = Field(None, max_length=2048)
    sendable: bool = True
    send_friend_only: Optional[bool] = None
    send_friendly_only: Optional[bool] = Field(None, description="a misspelling some integrations send")
    hashtags: Optional[list[Annotated[str, Field(max_length=100)]]] = Field(None, max_length=10)
    attributes: Optional[list[Attribute]] = Field(None, max_length=50)


class BappPage(_Query):
    cursor: Optional[str] = Field(None, pattern=CURSOR, description="`next_cursor` of the previous page; empty first")


class NftCardPage(_Query):
    nft_id: str = Field(json_schema_extra=IN_PATH)
    cursor: Optional[str] = Field(None, pattern=CURSOR, description="`cards_next_cursor` or `next_cursor`")


class CardRef(_Query):
    sca: str = Field(json_schema_extra=IN_PATH, description="the card contract")
    card_id: str = Field(json_schema_extra=IN_PATH)


class CardAssetRef(_Query):
    partner_id: str = Field(json_schema_extra=IN_PATH)
    name: str = Field(json_schema_extra=IN_PATH)


# --- App2App --------------------------------------------------------------------------------------

class Callback(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")
    success: Optional[str] = Field(None, max_length=rules.MAX_CALLBACK)
    fail: Optional[str] = Field(None, max_length=rules.MAX_CALLBACK)


class Bapp(_Body):
    name: str = Field(min_length=1, max_length=rules.MAX_BAPP_NAME)
    callback: Optional[Callback] = None


class _Prepare(_Body):
    bapp: Bapp
    callback: Optional[Callback] = Field(None, description="the same as `bapp.callback` (some clients send it here)")


class _Transfer(_Body):
    to: str = Field(pattern=PADDED_ADDRESS)
    from_: Optional[str] = Field(None, alias="from", description="only this account may approve")


Amount = Annotated[str, Field(pattern=r"^\s*\d{1,30}(\.\d{1,6})?\s*$", description="a positive decimal")]


class KlayTransfer(_Transfer):
    amount: Amount


class TokenTransfer(_Transfer):
    amount: Amount
    contract: str = Field(pattern=PADDED_ADDRESS, description="a KIP-7 token the broker lists")


class CardTransfer(_Transfer):
    contract: str = Field(pattern=PADDED_ADDRESS, description="a card contract of this platform")
    card_id: Union[str, int]


class ContractCall(_Transfer):
    """Only a card contract's transferFrom / safeTransferFrom runs here."""

    abi: str = Field(max_length=rules.MAX_ABI, description="one function ABI object as a JSON string")
    params: str = Field(description="the arguments as a JSON array string")
    value: Union[str, int] = Field("0", description="peb; card transfers take 0")


class Message(_Body):
    value: str = Field(min_length=1)
    from_: Optional[str] = Field(None, alias="from")


class AuthRequest(_Prepare):
    type: Literal["auth"]


class SendKlayRequest(_Prepare):
    type: Literal["send_klay"]
    transaction: KlayTransfer


class SendTokenRequest(_Prepare):
    type: Literal["send_token"]
    transaction: TokenTransfer


class SendCardRequest(_Prepare):
    type: Literal["send_card"]
    transaction: CardTransfer


class ExecuteContractRequest(_Prepare):
    type: Literal["execute_contract"]
    transaction: ContractCall


class SignMessageRequest(_Prepare):
    type: Literal["sign_message"]
    message: Message


def _checked_in_code_order(body: Any) -> Any:
    """The domain's checks first: they raise the App2App code of the first bad field in
    the order the codes are numbered (bapp 6401, type 6410, transaction 6402..6411)."""
    rules.parse_prepare(body)
    return body


Prepare = Annotated[
    Union[AuthRequest, SendKlayRequest, SendTokenRequest, SendCardRequest, ExecuteContractRequest, SignMessageRequest],
    Field(discriminator="type"), BeforeValidator(_checked_in_code_order)]


class RequestKey(_Query):
    request_key: str = Field(max_length=64, description="the key /v2/a2a/prepare answered")


class CardList(_Query):
    sca: str = Field(pattern=ADDRESS, description="the card contract")
    eoa: str = Field(description="the holder's 0x address")
    cursor: Optional[str] = Field(None, description="empty on the first page, then `next_cursor`")


class ApprovalPage(_Query):
    request_key: Optional[str] = Field(None, description="read by the page's script")


class PageRequestKey(_Body):
    request_key: str = Field(max_length=64)


class PageLogin(_Body):
    """A user of the broker whose domain serves the page; `ga_code` when GA is bound."""

    request_key: str = Field(max_length=64)
    login: Optional[str] = Field(None, validation_alias=AliasChoices("login", "email"),
                                 description="e-mail or phone (`email` is taken too)")
    password: Optional[str] = None
    ga_code: Optional[Union[str, int]] = None
