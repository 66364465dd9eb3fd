"""What `match` decides for each order type, time in force and self-trade case."""
from dataclasses import replace
from decimal import Decimal as D

from chalicelib.domain.book import OrderBook
from chalicelib.domain.fees import FREE, FeeRates, FeeSchedule
from chalicelib.domain.filters import SymbolRules
from chalicelib.domain.matching import TakerOutcome, cancel_update, match
from chalicelib.domain.orders import (
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    funds_to_lock,
    locked_remainder,
)

RULES = SymbolRules(
    symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT",
    tick_size=D("0.5"), step_size=D("0.1"), min_price=D("0.5"), max_price=D("10000"),
    min_qty=D("0.1"), max_qty=D("1000"), min_notional=D("0"), market_quote_step=D("0.01"),
    base_precision=D("0.0001"), quote_precision=D("0.0001"),
)

_next_id = iter(range(1, 10**9))


def limit(side, price, qty, account=None, tif="GTC", order_type="LIMIT", org="org", key=""):
    order_id = next(_next_id)
    return Order(
        order_id, account or f"acct-{order_id}", org, "user", "BTCUSDT", Side(side), OrderType(order_type),
        TimeInForce(tif), D(price), D(qty), self_trade_key=key,
    )


def market_sell(qty, account=None):
    return replace(limit("SELL", "1", qty, account), type=OrderType.MARKET, price=None, time_in_force=TimeInForce.IOC)


def market_buy(amount, account=None):
    return replace(
        limit("BUY", "1", "0", account), type=OrderType.MARKET, price=None, quantity=D(0),
        quote_amount=D(amount), time_in_force=TimeInForce.IOC,
    )


def place(book, order, fees=FREE):
    result = match(book, order, RULES, fees)
    book.apply(result)
    return result


def book_with(*orders):
    book = OrderBook("BTCUSDT")
    for order in orders:
        place(book, order)
    return book


def trades(result):
    return [(f.maker_order_id, f.price, f.qty) for f in result.fills]


def assert_lock_accounted(order, update):
    assert funds_to_lock(order) == update.lock_used + update.lock_released + locked_remainder(
        replace(order, executed_qty=update.executed_qty, executed_quote=update.executed_quote, status=update.status)
    )


# --- LIMIT -------------------------------------------------------------------

def test_a_limit_order_that_does_not_cross_rests_as_new():
    book = book_with(limit("SELL", "101", "1"))
    bid = limit("BUY", "100", "1")
    result = place(book, bid)
    assert result.outcome is TakerOutcome.RESTED
    assert result.taker.status is OrderStatus.NEW
    assert result.fills == ()
    assert book.best_bid() == D("100")


def test_fills_happen_at_the_makers_price_best_level_first_then_oldest_first():
    first, second, better = limit("SELL", "101", "1"), limit("SELL", "101", "1"), limit("SELL", "100.5", "1")
    book = book_with(first, second, better)
    result = place(book, limit("BUY", "102", "2.5"))
    assert trades(result) == [
        (better.order_id, D("100.5"), D("1")),
        (first.order_id, D("101"), D("1")),
        (second.order_id, D("101"), D("0.5")),
    ]
    assert [f.quote_qty for f in result.fills] == [D("100.5"), D("101"), D("50.5")]


def test_a_crossing_limit_order_fills_and_its_remainder_rests_partially_filled():
    book = book_with(limit("SELL", "101", "1"))
    result = place(book, limit("BUY", "101", "3"))
    assert result.outcome is TakerOutcome.RESTED
    assert result.taker.status is OrderStatus.PARTIALLY_FILLED
    assert book.get(result.taker.order_id).remaining_qty == D("2")
    assert book.best_ask() is None and book.best_bid() == D("101")


def test_a_limit_buy_filled_below_its_limit_releases_the_difference_at_once():
    book = book_with(limit("SELL", "95", "1"))
    taker = limit("BUY", "100", "2")
    result = place(book, taker)
    assert result.taker_update.lock_used == D("95")
    assert result.taker_update.lock_released == D("5")
    assert locked_remainder(book.get(taker.order_id)) == D("100")
    assert_lock_accounted(taker, result.taker_update)


def test_a_limit_sell_filled_above_its_limit_receives_the_makers_better_price():
    book = book_with(limit("BUY", "105", "1"))
    result = place(book, limit("SELL", "100", "1"))
    assert trades(result)[0][1] == D("105")
    assert result.taker_update.executed_quote == D("105")
    assert result.taker_update.lock_used == D("1") and result.taker_update.lock_released == 0


def test_a_partially_filled_maker_stays_first_in_its_level():
    maker, later = limit("SELL", "101", "2"), limit("SELL", "101", "1")
    book = book_with(maker, later)
    first = place(book, limit("BUY", "101", "0.5"))
    assert first.maker_updates[0].status is OrderStatus.PARTIALLY_FILLED
    assert book.get(maker.order_id).executed_qty == D("0.5")
    second = place(book, limit("BUY", "101", "1.5"))
    assert trades(second) == [(maker.order_id, D("101"), D("1.5"))]
    assert second.maker_updates[0].status is OrderStatus.FILLED
    assert second.maker_updates[0].executed_qty == D("2")


def test_a_maker_lock_pays_exactly_what_it_gives_up():
    buyer = limit("BUY", "100", "2")
    book = book_with(buyer)
    result = place(book, limit("SELL", "99", "0.5"))
    assert result.maker_updates[0].lock_used == D("50")
    assert result.maker_updates[0].lock_released == 0
    assert_lock_accounted(buyer, result.maker_updates[0])


# --- IOC and FOK ---------------------------------------------------------------

def test_an_ioc_order_cancels_what_it_cannot_fill_at_once_and_releases_its_lock():
    book = book_with(limit("SELL", "101", "1"))
    taker = limit("BUY", "101", "3", tif="IOC")
    result = place(book, taker)
    assert result.outcome is TakerOutcome.IOC_REMAINDER_CANCELED
    assert result.taker.status is OrderStatus.CANCELED
    assert result.taker_update.executed_qty == D("1")
    assert result.taker_update.lock_released == D("202")
    assert taker.order_id not in book
    assert_lock_accounted(taker, result.taker_update)


def test_an_ioc_order_with_nothing_to_match_is_canceled_unfilled():
    result = place(book_with(limit("SELL", "101", "1")), limit("BUY", "100", "1", tif="IOC"))
    assert result.taker.status is OrderStatus.CANCELED and result.fills == ()


def test_a_fok_order_fills_completely_across_levels_when_liquidity_suffices():
    book = book_with(limit("SELL", "100", "1"), limit("SELL", "101", "2"))
    result = place(book, limit("BUY", "101", "3", tif="FOK"))
    assert result.outcome is TakerOutcome.FILLED
    assert sum(f.qty for f in result.fills) == D("3")


def test_a_fok_order_that_cannot_fill_completely_is_killed_without_touching_the_book():
    resting = [limit("SELL", "100", "1"), limit("SELL", "101", "1"), limit("SELL", "102", "5")]
    book = book_with(*resting)
    before = [(o.order_id, o.executed_qty) for o in book.resting_orders()]
    taker = limit("BUY", "101", "2.5", tif="FOK")
    result = place(book, taker)
    assert result.outcome is TakerOutcome.FOK_KILLED
    assert result.taker.status is OrderStatus.CANCELED
    assert result.fills == () and result.maker_updates == () and result.expired_makers == ()
    assert result.taker_update.lock_released == funds_to_lock(taker)
    assert [(o.order_id, o.executed_qty) for o in book.resting_orders()] == before


def test_a_fok_order_does_not_count_its_own_resting_orders_as_liquidity():
    book = book_with(limit("SELL", "100", "1", account="me"), limit("SELL", "100", "1"))
    result = place(book, limit("BUY", "100", "2", account="me", tif="FOK"))
    assert result.outcome is TakerOutcome.FOK_KILLED
    assert len(book) == 2


# --- LIMIT_MAKER -----------------------------------------------------------------

def test_a_limit_maker_that_would_cross_is_rejected():
    book = book_with(limit("SELL", "101", "1"))
    taker = limit("BUY", "101", "1", order_type="LIMIT_MAKER")
    result = place(book, taker)
    assert result.outcome is TakerOutcome.LIMIT_MAKER_REJECTED
    assert result.taker.status is OrderStatus.REJECTED
    assert result.fills == ()
    assert result.taker_update.lock_released == funds_to_lock(taker)
    assert taker.order_id not in book


def test_a_limit_maker_that_would_cross_only_its_own_order_is_still_rejected():
    book = book_with(limit("BUY", "100", "1", account="me"))
    result = place(book, limit("SELL", "99.5", "1", account="me", order_type="LIMIT_MAKER"))
    assert result.outcome is TakerOutcome.LIMIT_MAKER_REJECTED
    assert result.expired_makers == ()


def test_a_limit_maker_that_does_not_cross_rests():
    book = book_with(limit("SELL", "101", "1"))
    result = place(book, limit("BUY", "100.5", "1", order_type="LIMIT_MAKER"))
    assert result.outcome is TakerOutcome.RESTED
    assert book.best_bid() == D("100.5")


# --- MARKET ----------------------------------------------------------------------

def test_a_market_sell_walks_the_bids_and_cancels_what_the_book_cannot_take():
    book = book_with(limit("BUY", "100", "1"), limit("BUY", "99", "1"))
    taker = market_sell("3")
    result = place(book, taker)
    assert [f.price for f in result.fills] == [D("100"), D("99")]
    assert result.outcome is TakerOutcome.MARKET_REMAINDER_CANCELED
    assert result.taker.status is OrderStatus.CANCELED
    assert result.taker_update.lock_released == D("1")
    assert_lock_accounted(taker, result.taker_update)


def test_a_market_sell_that_finds_enough_bids_is_filled():
    result = place(book_with(limit("BUY", "100", "2")), market_sell("2"))
    assert result.outcome is TakerOutcome.FILLED


def test_a_market_buy_spends_its_quote_amount_buying_whole_steps():
    book = book_with(limit("SELL", "100", "1"), limit("SELL", "200", "10"))
    taker = market_buy("275")
    result = place(book, taker)
    # 100 buys 1 at 100; the 175 left buys floor(175 / 200, 0.1) = 0.8 at 200 (160); 15 can't buy 0.1 at 200.
    assert trades(result)[0][1:] == (D("100"), D("1"))
    assert trades(result)[1][1:] == (D("200"), D("0.8"))
    assert result.outcome is TakerOutcome.FILLED
    assert result.taker.status is OrderStatus.FILLED
    assert result.taker_update.lock_used == D("260")
    assert result.taker_update.lock_released == D("15")
    assert_lock_accounted(taker, result.taker_update)


def test_a_market_buy_that_empties_the_book_with_quote_to_spare_is_canceled():
    book = book_with(limit("SELL", "100", "1"))
    result = place(book, market_buy("500"))
    assert result.taker_update.executed_qty == D("1")
    assert result.outcome is TakerOutcome.MARKET_REMAINDER_CANCELED
    assert result.taker_update.lock_released == D("400")


def test_a_market_buy_too_small_for_one_step_buys_nothing_and_is_canceled():
    result = place(book_with(limit("SELL", "100", "1")), market_buy("9.99"))
    assert result.fills == ()
    assert result.taker.status is OrderStatus.CANCELED
    assert result.taker_update.lock_released == D("9.99")


def test_a_market_buy_that_spends_its_amount_exactly_is_filled():
    result = place(book_with(limit("SELL", "100", "5")), market_buy("250"))
    assert trades(result)[0][2] == D("2.5")
    assert result.taker.status is OrderStatus.FILLED
    assert result.taker_update.lock_released == 0


def test_a_market_order_on_an_empty_book_is_canceled_and_releases_everything():
    book = OrderBook("BTCUSDT")
    sell = market_sell("1")
    assert place(book, sell).taker_update.lock_released == D("1")
    assert place(book, market_buy("10")).taker_update.lock_released == D("10")


# --- self-trade prevention -------------------------------------------------------

def test_a_taker_meeting_its_own_resting_order_expires_it_and_goes_on_matching():
    own, other = limit("SELL", "100", "1", account="me"), limit("SELL", "100", "1")
    book = book_with(own, other)
    result = place(book, limit("BUY", "100", "1", account="me"))
    assert trades(result) == [(other.order_id, D("100"), D("1"))]
    assert [e.order_id for e in result.expired_makers] == [own.order_id]
    expired = result.expired_makers[0]
    assert expired.status is OrderStatus.CANCELED
    assert expired.lock_released == D("1")
    assert own.order_id not in book and len(book) == 0


def test_own_orders_behind_the_point_where_the_taker_is_filled_are_not_expired():
    other, own = limit("SELL", "100", "1"), limit("SELL", "100", "1", account="me")
    book = book_with(other, own)
    result = place(book, limit("BUY", "100", "1", account="me"))
    assert result.expired_makers == ()
    assert own.order_id in book


def test_a_taker_that_only_meets_its_own_orders_rests_after_expiring_them():
    book = book_with(limit("SELL", "100", "1", account="me"), limit("SELL", "100.5", "1", account="me"))
    result = place(book, limit("BUY", "101", "1", account="me"))
    assert len(result.expired_makers) == 2
    assert result.outcome is TakerOutcome.RESTED
    assert not book.is_crossed() and book.best_ask() is None


def test_orders_of_different_accounts_sharing_a_self_trade_key_do_not_trade():
    book = book_with(limit("SELL", "100", "1", account="sub-1", key="user-7"))
    result = place(book, limit("BUY", "100", "1", account="sub-2", key="user-7"))
    assert result.fills == () and len(result.expired_makers) == 1


def test_a_market_buy_expires_its_own_orders_too():
    own, other = limit("SELL", "100", "1", account="me"), limit("SELL", "101", "1")
    book = book_with(own, other)
    result = place(book, market_buy("101", account="me"))
    assert [e.order_id for e in result.expired_makers] == [own.order_id]
    assert trades(result) == [(other.order_id, D("101"), D("1"))]


# --- fees on fills -----------------------------------------------------------------

def test_each_fill_carries_both_fees_from_each_sides_org_rates():
    fees = FeeSchedule(
        FeeRates(D("0.001"), D("0.002")),
        by_org_symbol={("vip", "BTCUSDT"): FeeRates(D("0"), D("0.0005"))},
    )
    book = OrderBook("BTCUSDT")
    place(book, limit("SELL", "100", "2", org="retail"), fees)
    result = place(book, limit("BUY", "100", "2", org="vip"), fees)
    fill = result.fills[0]
    assert (fill.maker_fee, fill.maker_fee_asset) == (D("0.2"), "USDT")  # 200 USDT * 0.001
    assert (fill.taker_fee, fill.taker_fee_asset) == (D("0.001"), "BTC")  # 2 BTC * 0.0005
    assert result.taker_update.fee == D("0.001")
    assert result.maker_updates[0].fee == D("0.2")


def test_is_buyer_maker_tells_whether_the_resting_order_was_the_buyer():
    book = book_with(limit("BUY", "100", "1"))
    assert place(book, limit("SELL", "100", "1")).fills[0].is_buyer_maker is True
    book = book_with(limit("SELL", "100", "1"))
    assert place(book, limit("BUY", "100", "1")).fills[0].is_buyer_maker is False


def test_a_cancel_update_releases_what_the_lock_still_holds():
    book = book_with(limit("BUY", "100", "2"))
    resting = book.resting_orders()[0]
    place(book, limit("SELL", "100", "0.5"))
    update = cancel_update(book.get(resting.order_id))
    assert update.status is OrderStatus.CANCELED
    assert update.lock_released == D("150")
    assert update.executed_qty == D("0.5")
