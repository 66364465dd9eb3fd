"""A symbol's trading rules and the validation of new orders against them.

Values off a grid are rejected with the specific error, never rounded: a client
that sends 0.12345 on a 0.001 grid gets `QuantityOffStep`, not a smaller order.

Grids start at zero: a price is on the tick grid when it is a whole multiple of
`tick_size`. BHEX anchors the grid at `min_price` (`(price - minPrice) % tick`),
which is the same grid because `SymbolRules` requires `min_price` and `min_qty`
to lie on their grids (BHEX itself sets `minPrice = tickSize`).

Check order, first failure wins: symbol trading, side, type, time in force,
price (present, positive, on tick, within band), quantity or quote amount
(positive, on grid, within limits), notional.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from chalicelib.domain.errors import (
    AmountOffPrecision,
    InvalidOrderType,
    InvalidParameter,
    InvalidSide,
    InvalidTimeInForce,
    MissingParameter,
    NotionalTooSmall,
    PriceOffTick,
    PriceTooHigh,
    PriceTooLow,
    QuantityOffStep,
    QuantityTooLarge,
    QuantityTooSmall,
    SymbolNotTrading,
)
from chalicelib.domain.money import on_grid
from chalicelib.domain.orders import OrderRequest, OrderType, Side, TimeInForce

ZERO = Decimal(0)


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of `step` not above `value` (value >= 0)."""
    return (value // step) * step


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of `step` not below `value` (value >= 0)."""
    steps = value // step
    if value % step:
        steps += 1
    return steps * step


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolRules:
    """What the exchange allows on one symbol (BHEX PRICE_FILTER, LOT_SIZE, MIN_NOTIONAL).

    `market_quote_step` is the grid of a MARKET BUY's quote amount (BHEX
    `quotePrecision`); `base_precision` and `quote_precision` are the assets'
    own smallest units, used to round fees.
    """

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal
    min_price: Decimal
    max_price: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    market_quote_step: Decimal
    base_precision: Decimal
    quote_precision: Decimal
    trading: bool = True

    def __post_init__(self) -> None:
        for name in ("tick_size", "step_size", "market_quote_step", "base_precision", "quote_precision"):
            if getattr(self, name) <= ZERO:
                raise ValueError(f"{name} must be positive")
        if not ZERO < self.min_price <= self.max_price or not on_grid(self.min_price, self.tick_size):
            raise ValueError("min_price must be positive, on the tick grid and not above max_price")
        if not ZERO < self.min_qty <= self.max_qty or not on_grid(self.min_qty, self.step_size):
            raise ValueError("min_qty must be positive, on the step grid and not above max_qty")
        if self.min_notional < ZERO:
            raise ValueError("min_notional must not be negative")


def parse_side(value: Side | str) -> Side:
    if isinstance(value, Side):
        return value
    try:
        return Side(value.upper() if isinstance(value, str) else value)
    except ValueError:
        raise InvalidSide(message=f"Invalid side '{value}'") from None


def parse_order_type(value: OrderType | str) -> OrderType:
    if isinstance(value, OrderType):
        return value
    try:
        return OrderType(value.upper() if isinstance(value, str) else value)
    except ValueError:
        raise InvalidOrderType(message=f"Invalid order type '{value}'") from None


def parse_time_in_force(value: TimeInForce | str | None) -> TimeInForce:
    if isinstance(value, TimeInForce):
        return value
    if value is None or value == "":
        return TimeInForce.GTC
    try:
        return TimeInForce(value.upper() if isinstance(value, str) else value)
    except ValueError:
        raise InvalidTimeInForce(message=f"Invalid timeInForce '{value}'") from None


def validate_new_order(
    rules: SymbolRules,
    *,
    side: Side | str,
    order_type: OrderType | str,
    quantity: Decimal,
    price: Decimal | None = None,
    time_in_force: TimeInForce | str | None = None,
) -> OrderRequest:
    """Check a new order's terms and return them typed, or raise the first rule broken.

    `quantity` is the base quantity, except for a MARKET BUY where it is the quote
    amount to spend (BHEX wire semantics). A MARKET order's price is ignored:
    BHEX clients send `price=0` or an empty price with market orders. MARKET
    orders are immediate by nature: GTC (the wire default) and IOC both mean
    "fill what you can now, cancel the rest"; FOK is refused for them. A MARKET
    SELL's notional is not checked: no price is known when it is placed.
    """
    if not rules.trading:
        raise SymbolNotTrading(f"Symbol '{rules.symbol}' is not open for trading")
    side = parse_side(side)
    order_type = parse_order_type(order_type)
    tif = parse_time_in_force(time_in_force)
    if order_type is OrderType.LIMIT_MAKER and tif is not TimeInForce.GTC:
        raise InvalidTimeInForce(message="LIMIT_MAKER orders are GTC only")
    if order_type is OrderType.MARKET and tif is TimeInForce.FOK:
        raise InvalidTimeInForce(message="MARKET orders accept GTC or IOC, not FOK")

    if order_type is OrderType.MARKET:
        if side is Side.BUY:
            _check_market_buy_amount(rules, quantity)
            return OrderRequest(rules.symbol, side, order_type, tif, None, ZERO, quantity)
        _check_quantity(rules, quantity)
        return OrderRequest(rules.symbol, side, order_type, tif, None, quantity)

    _check_price(rules, price)
    _check_quantity(rules, quantity)
    if price * quantity < rules.min_notional:
        raise NotionalTooSmall(message=f"Order amount must be at least {rules.min_notional}")
    return OrderRequest(rules.symbol, side, order_type, tif, price, quantity)


def _check_price(rules: SymbolRules, price: Decimal | None) -> None:
    if price is None:
        raise MissingParameter("price", "Price is required for LIMIT and LIMIT_MAKER orders")
    if not price.is_finite() or price <= ZERO:
        raise InvalidParameter("price", "Price must be a positive number")
    if not on_grid(price, rules.tick_size):
        raise PriceOffTick(message=f"Price must be a multiple of {rules.tick_size}")
    if price < rules.min_price:
        raise PriceTooLow(message=f"Price must be at least {rules.min_price}")
    if price > rules.max_price:
        raise PriceTooHigh(message=f"Price must be at most {rules.max_price}")


def _check_quantity(rules: SymbolRules, quantity: Decimal) -> None:
    if not quantity.is_finite() or quantity <= ZERO:
        raise InvalidParameter("quantity", "Quantity must be a positive number")
    if not on_grid(quantity, rules.step_size):
        raise QuantityOffStep(message=f"Quantity must be a multiple of {rules.step_size}")
    if quantity < rules.min_qty:
        raise QuantityTooSmall(message=f"Quantity must be at least {rules.min_qty}")
    if quantity > rules.max_qty:
        raise QuantityTooLarge(message=f"Quantity must be at most {rules.max_qty}")


def _check_market_buy_amount(rules: SymbolRules, amount: Decimal) -> None:
    # A MARKET BUY cannot be checked against LOT_SIZE (its base quantity is unknown
    # until it fills); its quote amount is held to the quote grid and the notional.
    if not amount.is_finite() or amount <= ZERO:
        raise InvalidParameter("quantity", "Amount must be a positive number")
    if not on_grid(amount, rules.market_quote_step):
        raise AmountOffPrecision(message=f"Amount must be a multiple of {rules.market_quote_step}")
    if amount < rules.min_notional:
        raise NotionalTooSmall(message=f"Order amount must be at least {rules.min_notional}")
