"""The market state a matcher commit writes carries the last trade of the whole commit."""
from decimal import Decimal as D

from chalicelib.services import matching, orders
from chalicelib.store import market
from tests.support.trading import EXCHANGE, SYMBOL, assert_trading_invariants, funded_trader, list_market, pending


def place(trader, side, qty, price):
    return orders.place_order(trader, symbol=SYMBOL, side=side, order_type="LIMIT", quantity=D(qty), price=D(price))


def test_a_cancel_after_a_fill_in_one_matcher_batch_keeps_the_trade_id_sequence():
    list_market()
    alice, bob = funded_trader("o1", "alice"), funded_trader("o1", "bob")
    place(alice, "SELL", "1", "30000")
    far = place(alice, "SELL", "1", "31000")
    matching.process(SYMBOL, EXCHANGE, pending())

    place(bob, "BUY", "0.5", "30000")
    orders.cancel_order(alice, order_id=far["order_id"])
    batch = pending()
    assert [w.kind for w in batch] == ["place", "cancel"]
    matching.process(SYMBOL, EXCHANGE, batch)  # one commit: a fill (trade 1), then the cancel

    state = market.market_state(SYMBOL)
    assert state.last_trade_id == 1
    assert state.open_klines, "the fill's klines were dropped by the cancel after it"
    place(bob, "BUY", "0.5", "30000")
    matching.process(SYMBOL, EXCHANGE, pending())  # trade 2, not a second trade 1
    assert sorted(t.trade_id for t in market.recent_trades(SYMBOL, 10)) == [1, 2]
    assert pending() == []
    assert_trading_invariants([alice, bob])
