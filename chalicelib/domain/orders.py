"""Spot orders: their vocabulary, their state and the funds they hold.

Quantities are base-asset amounts, except for a MARKET BUY, which spends a quote
amount (`quote_amount`) and has `quantity == 0` (BHEX `MARKET_OF_QUOTE`).

Funds lock (hold, then settle or release):

- a SELL locks its base quantity;
- a LIMIT or LIMIT_MAKER BUY locks `price * quantity` in quote;
- a MARKET BUY locks its quote amount.

Fees are taken from what an order *receives* (a buyer pays in base, a seller in
quote), so a lock never needs headroom for fees and a fill never needs more than
the lock holds. For every order, at every moment:

    funds_to_lock(order) == used + released + locked_remainder(order)

where `used` is what fills paid to counterparties and `released` is what went
back to the owner (a BUY filled below its limit, an expired or canceled
remainder, a MARKET BUY's unspendable dust).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

ZERO = Decimal(0)


class Side(str, Enum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(str, Enum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    LIMIT_MAKER = "LIMIT_MAKER"


class TimeInForce(str, Enum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(str, Enum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    PENDING_CANCEL = "PENDING_CANCEL"
    REJECTED = "REJECTED"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATUSES


_FINAL_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED})


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order's terms after validation against the symbol's rules.

    `price` is None for MARKET orders; `quote_amount` is set only for a MARKET BUY.
    """

    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    price: Decimal | None
    quantity: Decimal
    quote_amount: Decimal | None = None


@dataclass(slots=True)
class Order:
    """One order and how far it has executed.

    The order book owns the Order objects it holds and updates their executed
    amounts in place; everyone else treats an Order as read-only and learns of
    changes through the matcher's `OrderUpdate`s.
    """

    order_id: int
    account_id: str
    org_id: str
    user_id: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    price: Decimal | None
    quantity: Decimal
    quote_amount: Decimal | None = None
    executed_qty: Decimal = ZERO
    executed_quote: Decimal = ZERO
    status: OrderStatus = OrderStatus.NEW
    client_order_id: str = ""
    created_at: int = 0
    # Orders sharing a key never trade with each other; defaults to the account.
    self_trade_key: str = ""
    # The book version at which the order started resting: earlier rests first
    # within its price level. Set by the matcher, persisted for book rebuilds.
    priority: int = 0

    def __post_init__(self) -> None:
        if not self.self_trade_key:
            self.self_trade_key = self.account_id

    @property
    def is_market_buy(self) -> bool:
        return self.type is OrderType.MARKET and self.side is Side.BUY

    @property
    def remaining_qty(self) -> Decimal:
        """Base quantity still to execute; 0 for a MARKET BUY (see remaining_quote)."""
        return self.quantity - self.executed_qty if not self.is_market_buy else ZERO

    @property
    def remaining_quote(self) -> Decimal:
        """Quote amount a MARKET BUY has left to spend; 0 for every other order."""
        if self.is_market_buy:
            return self.quote_amount - self.executed_quote
        return ZERO

    @property
    def cumulative_quote_qty(self) -> Decimal:
        return self.executed_quote

    @property
    def average_price(self) -> Decimal | None:
        """Executed quote / executed base, in the default 28-digit context; None before any fill."""
        if not self.executed_qty:
            return None
        return self.executed_quote / self.executed_qty

    @property
    def is_open(self) -> bool:
        return not self.status.is_final


def open_order(
    request: OrderRequest,
    *,
    order_id: int,
    account_id: str,
    org_id: str,
    user_id: str,
    client_order_id: str = "",
    created_at: int = 0,
    self_trade_key: str = "",
) -> Order:
    """A NEW order with the request's validated terms."""
    return Order(
        order_id=order_id,
        account_id=account_id,
        org_id=org_id,
        user_id=user_id,
        symbol=request.symbol,
        side=request.side,
        type=request.type,
        time_in_force=request.time_in_force,
        price=request.price,
        quantity=request.quantity,
        quote_amount=request.quote_amount,
        client_order_id=client_order_id,
        created_at=created_at,
        self_trade_key=self_trade_key,
    )


def with_execution(
    order: Order, executed_qty: Decimal, executed_quote: Decimal, status: OrderStatus, priority: int | None = None
) -> Order:
    """A copy of `order` with new cumulative execution figures, status and (optionally) priority."""
    # Positional on purpose: the matcher calls this once per order and
    # dataclasses.replace costs six times as much.
    return Order(
        order.order_id, order.account_id, order.org_id, order.user_id, order.symbol, order.side, order.type,
        order.time_in_force, order.price, order.quantity, order.quote_amount, executed_qty, executed_quote,
        status, order.client_order_id, order.created_at, order.self_trade_key,
        order.priority if priority is None else priority,
    )


def lock_asset_is_base(order: Order) -> bool:
    """True when the order's lock is in the base asset (a SELL), False for quote (a BUY)."""
    return order.side is Side.SELL


def funds_to_lock(order: Order) -> Decimal:
    """The amount to move from available to locked when the order is placed."""
    if order.side is Side.SELL:
        return order.quantity
    if order.type is OrderType.MARKET:
        return order.quote_amount
    return order.price * order.quantity


def locked_remainder(order: Order) -> Decimal:
    """What the order's lock still holds for its unexecuted part.

    This is what a cancel releases; 0 once the order is final. For a LIMIT BUY
    it is `price * remaining`: the excess of fills below the limit is released
    fill by fill, not kept.
    """
    if order.status.is_final:
        return ZERO
    if order.side is Side.SELL:
        return order.quantity - order.executed_qty
    if order.type is OrderType.MARKET:
        return order.quote_amount - order.executed_quote
    return order.price * (order.quantity - order.executed_qty)
