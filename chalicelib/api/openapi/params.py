"""Field types shared by the OpenAPI family's params models (BHEX names and value shapes).

Everything arrives as text (query string or form body); the types say what BHEX accepts:
ids and times are non-negative 63-bit integers, quantities and prices decimal text (the
view parses them with the token's precision), symbols and tokens short alphanumeric
names in any case. Bounds keep generated and hostile values inside what the store holds.
"""
from __future__ import annotations

from typing import Annotated, Optional

from pydantic import Field

from chalicelib.api.openapi.http import BhexParams

MAX_ID = 2**63 - 1
MAX_INT = 2**31 - 1  # BHEX reads account types, indexes and flow types as Java ints

Id = Annotated[int, Field(ge=0, le=MAX_ID)]
Millis = Annotated[int, Field(ge=0, le=MAX_ID, description="milliseconds since the epoch")]
Limit = Annotated[int, Field(ge=-MAX_ID, le=MAX_ID, description="page size; out of range means the default")]
Symbol = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$", description="e.g. BTCUSDT, any case")]
Token = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$", description="e.g. BTC, any case")]
# Enumerations stay free text: the view answers BHEX's own code for a wrong value
# (-1117 side, -1116 type, -1115 time in force), not the generic -1130.
Side = Annotated[str, Field(min_length=1, max_length=16, description="BUY or SELL")]
OrderType = Annotated[str, Field(min_length=1, max_length=16, description="LIMIT, MARKET or LIMIT_MAKER")]
TimeInForce = Annotated[str, Field(min_length=1, max_length=16, description="GTC, IOC or FOK")]
DecimalText = Annotated[str, Field(pattern=r"^[+-]?(\d{1,40}(\.\d{0,40})?|\.\d{1,40})([eE][+-]?\d{1,3})?$",
                                   description="a decimal number as text")]
ClientId = Annotated[str, Field(min_length=1, max_length=128, description="the caller's own id")]
Chain = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$",
                             description="e.g. ERC20, TRC20, any case; default: the token's first chain")]
# Addresses and tags stay loose: the chain's own rules answer BHEX's -1173 for a bad one.
Address = Annotated[str, Field(min_length=1, max_length=256, description="an address on the chain")]
AddressTag = Annotated[str, Field(max_length=256, description="the address's memo or tag, on chains that take one")]
AccountType = Annotated[int, Field(ge=0, le=MAX_INT, description="1 spot (the only one), 2 options, 3 futures")]
AccountIndex = Annotated[int, Field(ge=0, le=MAX_INT, description="0 the main account, 1 and up sub-accounts")]
# Any text: BHEX answers `{}` for a key it does not know, however it looks.
ListenKey = Annotated[str, Field(max_length=128, description="the key POST userDataStream answered")]


class Signed(BhexParams):
    """Every signed endpoint's own parameters: the request time and its receive window.
    `signature` (and `accessKey`, when the key is not in `X-BH-APIKEY`) come with them."""

    timestamp: Millis
    recvWindow: Optional[int] = Field(None, ge=0, le=MAX_ID, description="ms the request stays valid (default 5000)")
