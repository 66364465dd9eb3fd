"""A trade as recorded: both orders, both fees, who was maker."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Trade:
    trade_id: int
    symbol: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    buyer_order_id: int
    seller_order_id: int
    buyer_account: str
    seller_account: str
    buyer_org: str
    seller_org: str
    buyer_uid: str
    seller_uid: str
    buyer_fee: Decimal
    buyer_fee_asset: str
    seller_fee: Decimal
    seller_fee_asset: str
    buyer_is_maker: bool
    time: int
