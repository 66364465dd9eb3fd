from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from chalicelib.domain.book import OrderBook
from chalicelib.domain.fees import FREE
from chalicelib.domain.filters import SymbolRules
from chalicelib.domain.market_data import (
    DAY_MS,
    MINUTE_MS,
    Depth,
    DepthLevel,
    KlineInterval,
    MarketTrade,
    add_trade,
    bucket_start,
    depth,
    merge_depth,
    next_bucket_start,
    roll_up,
    ticker_24h,
)
from chalicelib.domain.matching import match
from chalicelib.domain.orders import Order, OrderType, Side, TimeInForce

RULES = SymbolRules(
    symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT",
    tick_size=D("0.01"), step_size=D("0.1"), min_price=D("0.01"), max_price=D("100000"),
    min_qty=D("0.1"), max_qty=D("1000"), min_notional=D("0"), market_quote_step=D("0.01"),
    base_precision=D("0.0001"), quote_precision=D("0.0001"),
)


def ms(*args):
    return int(datetime(*args, tzinfo=timezone.utc).timestamp()) * 1000


def book_of(*orders):
    book = OrderBook("BTCUSDT")
    for order_id, (side, price, qty) in enumerate(orders, 1):
        order = Order(order_id, f"a{order_id}", "org", "u", "BTCUSDT", Side(side), OrderType.LIMIT,
                      TimeInForce.GTC, D(price), D(qty))
        book.apply(match(book, order, RULES, FREE))
    return book


def levels(side_levels):
    return [(level.price, level.qty) for level in side_levels]


# --- depth -------------------------------------------------------------------

def test_depth_sums_the_orders_at_each_price_bids_high_to_low_and_asks_low_to_high():
    book = book_of(("BUY", "99.5", "1"), ("BUY", "100", "2"), ("BUY", "100", "0.5"),
                   ("SELL", "101", "1"), ("SELL", "100.5", "3"))
    snapshot = depth(book)
    assert levels(snapshot.bids) == [(D("100"), D("2.5")), (D("99.5"), D("1"))]
    assert levels(snapshot.asks) == [(D("100.5"), D("3")), (D("101"), D("1"))]
    assert snapshot.version == book.version


def test_depth_shows_at_most_the_limit_of_levels_per_side():
    book = book_of(("BUY", "99", "1"), ("BUY", "98", "1"), ("BUY", "97", "1"))
    assert levels(depth(book, limit=2).bids) == [(D("99"), D("1")), (D("98"), D("1"))]


def test_depth_reflects_partial_fills():
    book = book_of(("SELL", "101", "2"), ("BUY", "101", "0.5"))
    assert levels(depth(book).asks) == [(D("101"), D("1.5"))]


def test_merged_depth_rounds_bids_down_and_asks_up_to_the_scale_and_sums_them():
    full = Depth(
        3,
        bids=(DepthLevel(D("100.27"), D("1")), DepthLevel(D("100.21"), D("2")), DepthLevel(D("100.19"), D("4"))),
        asks=(DepthLevel(D("100.31"), D("1")), DepthLevel(D("100.39"), D("2")), DepthLevel(D("100.40"), D("5"))),
    )
    merged = merge_depth(full, scale=1)
    assert levels(merged.bids) == [(D("100.2"), D("3")), (D("100.1"), D("4"))]
    assert levels(merged.asks) == [(D("100.4"), D("8"))]
    assert merged.version == 3


def test_merged_depth_accepts_a_negative_scale_for_tens():
    full = Depth(0, bids=(DepthLevel(D("125"), D("1")), DepthLevel(D("121"), D("1"))),
                 asks=(DepthLevel(D("131"), D("1")),))
    merged = merge_depth(full, scale=-1)
    assert levels(merged.bids) == [(D("120"), D("2"))]
    assert levels(merged.asks) == [(D("140"), D("1"))]


def test_merged_depth_limits_merged_levels_and_keeps_the_last_one_whole():
    full = Depth(0, bids=tuple(DepthLevel(D(p), D("1")) for p in ["10.9", "10.5", "9.9", "9.1", "8.5"]), asks=())
    merged = merge_depth(full, scale=0, limit=2)
    assert levels(merged.bids) == [(D("10"), D("2")), (D("9"), D("2"))]


# --- kline buckets -------------------------------------------------------------

@pytest.mark.parametrize("interval,moment,start", [
    (KlineInterval.MINUTE_1, (2024, 3, 5, 14, 37, 59), (2024, 3, 5, 14, 37)),
    (KlineInterval.MINUTE_3, (2024, 3, 5, 14, 37, 59), (2024, 3, 5, 14, 36)),
    (KlineInterval.MINUTE_5, (2024, 3, 5, 14, 37), (2024, 3, 5, 14, 35)),
    (KlineInterval.MINUTE_15, (2024, 3, 5, 14, 37), (2024, 3, 5, 14, 30)),
    (KlineInterval.MINUTE_30, (2024, 3, 5, 14, 37), (2024, 3, 5, 14, 30)),
    (KlineInterval.HOUR_1, (2024, 3, 5, 14, 37), (2024, 3, 5, 14)),
    (KlineInterval.HOUR_2, (2024, 3, 5, 15, 37), (2024, 3, 5, 14)),
    (KlineInterval.HOUR_4, (2024, 3, 5, 15, 37), (2024, 3, 5, 12)),
    (KlineInterval.HOUR_6, (2024, 3, 5, 17, 59), (2024, 3, 5, 12)),
    (KlineInterval.HOUR_8, (2024, 3, 5, 23, 59), (2024, 3, 5, 16)),
    (KlineInterval.HOUR_12, (2024, 3, 5, 11, 59), (2024, 3, 5, 0)),
    (KlineInterval.DAY_1, (2024, 3, 5, 23, 59, 59), (2024, 3, 5)),
    (KlineInterval.DAY_3, (2024, 3, 5, 12), (2024, 3, 3)),  # 19785 days after the epoch, a multiple of 3
    (KlineInterval.WEEK_1, (2024, 3, 10, 23, 59), (2024, 3, 4)),  # Sunday belongs to the week of Monday the 4th
    (KlineInterval.WEEK_1, (2024, 3, 4, 0, 0), (2024, 3, 4)),
    (KlineInterval.MONTH_1, (2024, 2, 29, 23, 59), (2024, 2, 1)),
    (KlineInterval.MONTH_1, (2024, 12, 31, 23, 59), (2024, 12, 1)),
])
def test_every_interval_buckets_a_moment_into_its_utc_aligned_start(interval, moment, start):
    assert bucket_start(ms(*moment), interval) == ms(*start)


def test_a_bucket_start_is_its_own_bucket_start_and_the_millisecond_before_is_not():
    for interval in KlineInterval:
        start = bucket_start(ms(2024, 5, 17, 9, 41), interval)
        assert bucket_start(start, interval) == start
        assert bucket_start(start - 1, interval) < start


def test_weekly_buckets_start_on_monday():
    for day in range(1, 29):
        start = bucket_start(ms(2023, 2, day, 13), KlineInterval.WEEK_1)
        assert datetime.fromtimestamp(start // 1000, timezone.utc).weekday() == 0


@pytest.mark.parametrize("start,following", [
    ((2024, 1, 1), (2024, 2, 1)), ((2024, 2, 1), (2024, 3, 1)), ((2024, 12, 1), (2025, 1, 1)),
])
def test_the_month_after_a_monthly_bucket_starts_on_the_next_first(start, following):
    assert next_bucket_start(ms(*start), KlineInterval.MONTH_1) == ms(*following)


def test_fixed_and_weekly_buckets_follow_each_other_by_their_length():
    assert next_bucket_start(ms(2024, 3, 4), KlineInterval.WEEK_1) == ms(2024, 3, 11)
    assert next_bucket_start(ms(2024, 3, 4), KlineInterval.DAY_3) == ms(2024, 3, 7)
    assert next_bucket_start(ms(2024, 3, 4, 12), KlineInterval.HOUR_4) == ms(2024, 3, 4, 16)


# --- klines --------------------------------------------------------------------

def trade(time_ms, price, qty, taker_is_buyer=True):
    return MarketTrade(time_ms, D(price), D(qty), D(price) * D(qty), taker_is_buyer)


def test_the_first_trade_of_a_bucket_opens_its_kline():
    t = ms(2024, 3, 5, 14, 37, 12)
    kline = add_trade(None, KlineInterval.MINUTE_1, trade(t, "100", "2"))
    assert (kline.open_time, kline.close_time) == (ms(2024, 3, 5, 14, 37), ms(2024, 3, 5, 14, 38) - 1)
    assert (kline.open, kline.high, kline.low, kline.close) == (D("100"),) * 4
    assert (kline.volume, kline.quote_volume, kline.trade_count) == (D("2"), D("200"), 1)
    assert (kline.taker_buy_volume, kline.taker_buy_quote_volume) == (D("2"), D("200"))


def test_later_trades_move_high_low_close_and_add_volumes():
    t = ms(2024, 3, 5, 14, 37)
    kline = None
    for offset, price, qty, buy in [(0, "100", "1", True), (1, "105", "2", False), (2, "98", "1", True),
                                    (3, "101", "1", False)]:
        kline = add_trade(kline, KlineInterval.MINUTE_1, trade(t + offset, price, qty, buy))
    assert (kline.open, kline.high, kline.low, kline.close) == (D("100"), D("105"), D("98"), D("101"))
    assert kline.volume == D("5") and kline.quote_volume == D("100") + D("210") + D("98") + D("101")
    assert kline.trade_count == 4
    assert (kline.taker_buy_volume, kline.taker_buy_quote_volume) == (D("2"), D("198"))


def test_a_trade_outside_the_klines_bucket_is_refused():
    kline = add_trade(None, KlineInterval.MINUTE_1, trade(ms(2024, 3, 5, 14, 37), "100", "1"))
    with pytest.raises(ValueError):
        add_trade(kline, KlineInterval.MINUTE_1, trade(ms(2024, 3, 5, 14, 38), "100", "1"))
    with pytest.raises(ValueError):
        add_trade(kline, KlineInterval.MINUTE_5, trade(ms(2024, 3, 5, 14, 37), "100", "1"))


def test_a_public_trade_from_a_fill_knows_whether_the_taker_bought():
    book = book_of(("BUY", "100", "1"))
    fills = match(book, Order(9, "z", "org", "u", "BTCUSDT", Side.SELL, OrderType.LIMIT, TimeInForce.GTC,
                              D("100"), D("1")), RULES, FREE).fills
    public = MarketTrade.of_fill(fills[0], 1234)
    assert public == MarketTrade(1234, D("100"), D("1"), D("100"), taker_is_buyer=False)


def test_shorter_klines_roll_up_into_longer_ones():
    t = ms(2024, 3, 5, 14, 0)
    minutes = []
    for minute, price in enumerate(["100", "103", "99", "101", "102", "104"]):
        minutes.append(add_trade(None, KlineInterval.MINUTE_1, trade(t + minute * MINUTE_MS, price, "1")))
    fives = roll_up(minutes, KlineInterval.MINUTE_5)
    assert [k.open_time for k in fives] == [t, t + 5 * MINUTE_MS]
    first = fives[0]
    assert (first.open, first.high, first.low, first.close) == (D("100"), D("103"), D("99"), D("102"))
    assert (first.volume, first.trade_count, first.interval) == (D("5"), 5, KlineInterval.MINUTE_5)
    assert first.close_time == t + 5 * MINUTE_MS - 1
    assert fives[1].open == D("104")


# --- 24h ticker ------------------------------------------------------------------

def test_the_24h_ticker_rolls_up_the_minute_klines_of_the_last_day():
    now = ms(2024, 3, 6, 12, 0, 30)
    too_old = add_trade(None, KlineInterval.MINUTE_1, trade(now - DAY_MS, "1", "50"))
    first = add_trade(None, KlineInterval.MINUTE_1, trade(now - DAY_MS + MINUTE_MS, "100", "1"))
    middle = add_trade(None, KlineInterval.MINUTE_1, trade(now - 60 * MINUTE_MS, "120", "2"))
    last = add_trade(None, KlineInterval.MINUTE_1, trade(now, "110", "1"))
    ticker = ticker_24h([too_old, first, middle, last], now)
    assert (ticker.open, ticker.high, ticker.low, ticker.last) == (D("100"), D("120"), D("100"), D("110"))
    assert ticker.volume == D("4") and ticker.trade_count == 3
    assert ticker.quote_volume == D("100") + D("240") + D("110")
    assert ticker.price_change == D("10")
    assert ticker.price_change_ratio == D("0.1000")
    assert ticker.close_time == now


def test_the_change_ratio_is_rounded_half_up_to_four_decimals():
    now = ms(2024, 3, 6)
    klines = [add_trade(None, KlineInterval.MINUTE_1, trade(now - 2 * MINUTE_MS, "3", "1")),
              add_trade(None, KlineInterval.MINUTE_1, trade(now, "2", "1"))]
    assert ticker_24h(klines, now).price_change_ratio == D("-0.3333")


def test_a_day_without_trades_has_no_ticker():
    now = ms(2024, 3, 6)
    old = add_trade(None, KlineInterval.MINUTE_1, trade(now - 2 * DAY_MS, "1", "1"))
    assert ticker_24h([old], now) is None
