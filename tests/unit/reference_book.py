"""A deliberately naive order book, written only to check the real one.

Every decision scans and sorts a plain list; MARKET BUY affordability uses exact
fractions; FOK checks liquidity before touching anything. It shares no code with
`chalicelib.domain.book` or `matching`, only the rules they document:
price-time priority, fills at the maker's price, EXPIRE_MAKER self-trade
prevention, LIMIT_MAKER rejected when it would cross, MARKET BUY FILLED when
the quote left cannot buy one step, CANCELED when the book ran out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction


@dataclass
class RefOrder:
    order_id: int
    stp_key: str
    side: str  # "BUY" / "SELL"
    price: Decimal
    remaining: Decimal
    arrival: int


@dataclass(frozen=True)
class RefFill:
    maker_order_id: int
    taker_order_id: int
    price: Decimal
    qty: Decimal


@dataclass(frozen=True)
class RefOutcome:
    fills: list[RefFill]
    status: str  # final status of the taker
    expired: list[int]


class ReferenceBook:
    def __init__(self, step: Decimal) -> None:
        self.step = step
        self.orders: list[RefOrder] = []
        self.arrivals = 0

    def resting(self) -> list[tuple[int, str, Decimal, Decimal]]:
        """(id, side, price, remaining): bids best first, then asks best first, oldest first in a level."""
        bids = sorted((o for o in self.orders if o.side == "BUY"), key=lambda o: (-o.price, o.arrival))
        asks = sorted((o for o in self.orders if o.side == "SELL"), key=lambda o: (o.price, o.arrival))
        return [(o.order_id, o.side, o.price, o.remaining) for o in bids + asks]

    def cancel(self, order_id: int) -> bool:
        for index, order in enumerate(self.orders):
            if order.order_id == order_id:
                del self.orders[index]
                return True
        return False

    def submit(self, order_id: int, stp_key: str, side: str, order_type: str, tif: str,
               price: Decimal | None, quantity: Decimal, quote_amount: Decimal | None) -> RefOutcome:
        if order_type == "LIMIT_MAKER":
            if self._crossing(side, price):
                return RefOutcome([], "REJECTED", [])
            self._rest(order_id, stp_key, side, price, quantity)
            return RefOutcome([], "NEW", [])
        if order_type == "MARKET" and side == "BUY":
            return self._market_buy(order_id, stp_key, quote_amount)
        if tif == "FOK":
            available = sum((o.remaining for o in self._crossing(side, price) if o.stp_key != stp_key), Decimal(0))
            if available < quantity:
                return RefOutcome([], "CANCELED", [])

        fills, expired, left = [], [], quantity
        for maker in self._crossing(side, price):
            if left == 0:
                break
            if maker.stp_key == stp_key:
                self._expire(maker, expired)
                continue
            qty = min(left, maker.remaining)
            self._trade(maker, order_id, qty, fills)
            left -= qty
        if left == 0:
            status = "FILLED"
        elif order_type == "MARKET" or tif == "IOC":
            status = "CANCELED"
        else:
            self._rest(order_id, stp_key, side, price, left)
            status = "PARTIALLY_FILLED" if left != quantity else "NEW"
        return RefOutcome(fills, status, expired)

    def _market_buy(self, order_id: int, stp_key: str, quote_amount: Decimal) -> RefOutcome:
        fills, expired, quote_left = [], [], quote_amount
        for maker in self._crossing("BUY", None):
            steps = math.floor(Fraction(quote_left) / (Fraction(maker.price) * Fraction(self.step)))
            if steps == 0:
                return RefOutcome(fills, "FILLED" if fills else "CANCELED", expired)
            if maker.stp_key == stp_key:
                self._expire(maker, expired)
                continue
            qty = min(maker.remaining, steps * self.step)
            self._trade(maker, order_id, qty, fills)
            quote_left -= qty * maker.price
        # The book ran out; the quote left may still be unspendable dust at the last price.
        if fills and math.floor(Fraction(quote_left) / (Fraction(fills[-1].price) * Fraction(self.step))) == 0:
            return RefOutcome(fills, "FILLED", expired)
        return RefOutcome(fills, "CANCELED", expired)

    def _crossing(self, side: str, price: Decimal | None) -> list[RefOrder]:
        if side == "BUY":
            found = [o for o in self.orders if o.side == "SELL" and (price is None or o.price <= price)]
            return sorted(found, key=lambda o: (o.price, o.arrival))
        found = [o for o in self.orders if o.side == "BUY" and (price is None or o.price >= price)]
        return sorted(found, key=lambda o: (-o.price, o.arrival))

    def _trade(self, maker: RefOrder, taker_id: int, qty: Decimal, fills: list[RefFill]) -> None:
        fills.append(RefFill(maker.order_id, taker_id, maker.price, qty))
        maker.remaining -= qty
        if maker.remaining == 0:
            self.orders.remove(maker)

    def _expire(self, maker: RefOrder, expired: list[int]) -> None:
        expired.append(maker.order_id)
        self.orders.remove(maker)

    def _rest(self, order_id: int, stp_key: str, side: str, price: Decimal, qty: Decimal) -> None:
        self.arrivals += 1
        self.orders.append(RefOrder(order_id, stp_key, side, price, qty, self.arrivals))
