"""The order book itself: levels, priority, cancel, versions and rebuilds."""
from dataclasses import replace
from decimal import Decimal as D

import pytest

from chalicelib.domain.book import OrderBook, StaleBookError
from chalicelib.domain.fees import FREE
from chalicelib.domain.filters import SymbolRules
from chalicelib.domain.matching import match
from chalicelib.domain.orders import Order, OrderStatus, OrderType, Side, TimeInForce

RULES = SymbolRules(
    symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT",
    tick_size=D("0.5"), step_size=D("0.1"), min_price=D("0.5"), max_price=D("10000"),
    min_qty=D("0.1"), max_qty=D("1000"), min_notional=D("0"), market_quote_step=D("0.01"),
    base_precision=D("0.0001"), quote_precision=D("0.0001"),
)


def order(order_id, side, price, qty, account=None, **changes):
    base = Order(
        order_id, account or f"acct-{order_id}", "org", "user", "BTCUSDT", Side(side), OrderType.LIMIT,
        TimeInForce.GTC, D(price), D(qty),
    )
    return replace(base, **changes)


def place(book, new_order):
    result = match(book, new_order, RULES, FREE)
    book.apply(result)
    return result


def book_with(*orders):
    book = OrderBook("BTCUSDT")
    for each in orders:
        place(book, each)
    return book


def ids(book):
    return [o.order_id for o in book.resting_orders()]


def test_an_empty_book_has_no_best_prices_and_is_not_crossed():
    book = OrderBook("BTCUSDT")
    assert (book.best_bid(), book.best_ask(), len(book)) == (None, None, 0)
    assert not book.is_crossed()


def test_resting_orders_list_bids_then_asks_best_first_and_oldest_first_within_a_level():
    book = book_with(
        order(1, "BUY", "99", "1"), order(2, "BUY", "100", "1"), order(3, "BUY", "99", "1"),
        order(4, "SELL", "102", "1"), order(5, "SELL", "101", "1"), order(6, "SELL", "101", "1"),
    )
    assert ids(book) == [2, 1, 3, 5, 6, 4]
    assert (book.best_bid(), book.best_ask()) == (D("100"), D("101"))


def test_a_level_keeps_the_total_remaining_quantity_of_its_orders():
    book = book_with(order(1, "SELL", "101", "1.5"), order(2, "SELL", "101", "2"))
    assert book.asks.level_at(D("101")).total_qty == D("3.5")
    place(book, order(3, "BUY", "101", "0.5"))
    assert book.asks.level_at(D("101")).total_qty == D("3.0")
    book.cancel(2)
    assert book.asks.level_at(D("101")).total_qty == D("1.0")


def test_cancel_removes_the_order_and_returns_it_as_it_rested():
    book = book_with(order(1, "BUY", "99", "1"), order(2, "BUY", "99", "2"), order(3, "BUY", "98", "1"))
    removed = book.cancel(2)
    assert removed.order_id == 2 and removed.status is OrderStatus.NEW
    assert ids(book) == [1, 3]
    assert 2 not in book


def test_cancelling_the_last_order_of_a_level_removes_the_level():
    book = book_with(order(1, "SELL", "101", "1"), order(2, "SELL", "102", "1"))
    book.cancel(1)
    assert book.best_ask() == D("102")
    assert book.asks.level_at(D("101")) is None
    assert len(book.asks) == 1


def test_cancelling_an_unknown_order_returns_none_and_leaves_the_version_alone():
    book = book_with(order(1, "SELL", "101", "1"))
    version = book.version
    assert book.cancel(42) is None
    assert book.version == version


def test_every_change_moves_the_version_by_one():
    book = OrderBook("BTCUSDT", version=7)
    place(book, order(1, "SELL", "101", "1"))
    assert book.version == 8
    place(book, order(2, "BUY", "101", "1"))
    assert book.version == 9
    place(book, order(3, "SELL", "101", "1"))
    book.cancel(3)
    assert book.version == 11


def test_applying_a_result_planned_on_another_version_is_refused():
    book = book_with(order(1, "SELL", "101", "1"))
    stale = match(book, order(2, "BUY", "101", "1"), RULES, FREE)
    book.cancel(1)
    with pytest.raises(StaleBookError):
        book.apply(stale)


def test_planning_a_match_does_not_change_the_book():
    book = book_with(order(1, "SELL", "101", "1"), order(2, "SELL", "102", "1"))
    before = [(o.order_id, o.executed_qty) for o in book.resting_orders()]
    match(book, order(3, "BUY", "102", "1.5"), RULES, FREE)
    assert [(o.order_id, o.executed_qty) for o in book.resting_orders()] == before
    assert book.version == 2


def test_a_resting_order_gets_the_version_it_rested_at_as_its_priority():
    book = OrderBook("BTCUSDT", version=40)
    result = place(book, order(1, "BUY", "99", "1"))
    assert result.taker.priority == 41
    assert book.get(1).priority == 41


def test_a_rebuilt_book_queues_orders_by_their_persisted_priority():
    book = book_with(order(10, "BUY", "99", "1"), order(5, "BUY", "99", "1"), order(7, "SELL", "101", "1"))
    persisted = list(reversed(book.resting_orders()))
    rebuilt = OrderBook.rebuild("BTCUSDT", persisted, version=book.version)
    assert ids(rebuilt) == ids(book) == [10, 5, 7]
    assert rebuilt.version == book.version
    assert rebuilt.bids.level_at(D("99")).total_qty == D("2")


def test_a_rebuilt_book_matches_like_the_original():
    book = book_with(order(1, "SELL", "101", "1"), order(2, "SELL", "101", "1"), order(3, "SELL", "100.5", "1"))
    place(book, order(4, "BUY", "101", "1.5"))
    rebuilt = OrderBook.rebuild("BTCUSDT", book.resting_orders(), version=book.version)
    taker = order(5, "BUY", "101", "1")
    assert match(rebuilt, taker, RULES, FREE).fills == match(book, taker, RULES, FREE).fills


def test_rebuilding_refuses_orders_that_cannot_rest():
    with pytest.raises(ValueError):
        OrderBook.rebuild("BTCUSDT", [order(1, "BUY", "99", "1", status=OrderStatus.FILLED)], version=1)
    with pytest.raises(ValueError):
        OrderBook.rebuild("BTCUSDT", [order(1, "BUY", "99", "1", executed_qty=D("1"))], version=1)
    with pytest.raises(ValueError):
        OrderBook.rebuild("BTCUSDT", [order(1, "BUY", "99", "1", symbol="ETHUSDT")], version=1)
    with pytest.raises(ValueError):
        OrderBook.rebuild("BTCUSDT", [order(1, "BUY", "99", "1", type=OrderType.MARKET)], version=1)


def test_rebuilding_a_crossed_book_is_refused():
    with pytest.raises(ValueError):
        OrderBook.rebuild("BTCUSDT", [order(1, "BUY", "101", "1"), order(2, "SELL", "100", "1")], version=2)


def test_the_book_refuses_to_match_an_order_that_is_already_resting():
    book = book_with(order(1, "BUY", "99", "1"))
    with pytest.raises(ValueError):
        match(book, order(1, "BUY", "99", "1"), RULES, FREE)


def test_the_book_refuses_an_order_for_another_symbol_or_one_that_already_executed():
    book = OrderBook("BTCUSDT")
    with pytest.raises(ValueError):
        match(book, order(1, "BUY", "99", "1", symbol="ETHUSDT"), RULES, FREE)
    with pytest.raises(ValueError):
        match(book, order(1, "BUY", "99", "1", executed_qty=D("0.1")), RULES, FREE)


def test_many_levels_stay_sorted_whatever_order_they_arrive_in():
    prices = ["100", "97", "99.5", "98", "101", "96.5", "99"]
    book = book_with(*(order(i, "BUY", p, "1") for i, p in enumerate(prices, 1)))
    assert [level.price for level in book.bids.best_first()] == sorted(D(p) for p in prices)[::-1]
    book.cancel(5)  # the best level
    book.cancel(2)  # a middle level
    assert [level.price for level in book.bids.best_first()] == [D(p) for p in ["100", "99.5", "99", "98", "96.5"]]
