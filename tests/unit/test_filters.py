from dataclasses import replace
from decimal import Decimal as D

import pytest

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
from chalicelib.domain.filters import SymbolRules, ceil_to_step, floor_to_step, validate_new_order
from chalicelib.domain.money import on_grid
from chalicelib.domain.orders import (
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    funds_to_lock,
    locked_remainder,
    open_order,
)

RULES = SymbolRules(
    symbol="BTCUSDT",
    base_asset="BTC",
    quote_asset="USDT",
    tick_size=D("0.01"),
    step_size=D("0.001"),
    min_price=D("0.01"),
    max_price=D("100000"),
    min_qty=D("0.001"),
    max_qty=D("100"),
    min_notional=D("10"),
    market_quote_step=D("0.01"),
    base_precision=D("0.00000001"),
    quote_precision=D("0.00000001"),
)


def limit(side="BUY", price="100", quantity="1", tif=None, order_type="LIMIT", rules=RULES):
    return validate_new_order(
        rules,
        side=side,
        order_type=order_type,
        price=None if price is None else D(price),
        quantity=D(quantity),
        time_in_force=tif,
    )


def market(side="BUY", quantity="100", tif=None, price=None):
    return validate_new_order(
        RULES, side=side, order_type="MARKET", quantity=D(quantity), time_in_force=tif,
        price=None if price is None else D(price),
    )


# --- grids -------------------------------------------------------------------

def test_grid_helpers_floor_and_ceil_to_the_step_exactly():
    assert floor_to_step(D("1.2345"), D("0.01")) == D("1.23")
    assert ceil_to_step(D("1.2345"), D("0.01")) == D("1.24")
    assert ceil_to_step(D("1.23"), D("0.01")) == D("1.23")
    assert floor_to_step(D("125"), D("10")) == D("120")
    assert ceil_to_step(D("121"), D("10")) == D("130")
    assert on_grid(D("0.030"), D("0.01")) and not on_grid(D("0.031"), D("0.01"))


def test_rules_with_a_minimum_off_its_own_grid_are_refused():
    with pytest.raises(ValueError):
        replace(RULES, min_qty=D("0.0015"))
    with pytest.raises(ValueError):
        replace(RULES, min_price=D("0.015"))
    with pytest.raises(ValueError):
        replace(RULES, tick_size=D("0"))


# --- accepted orders ---------------------------------------------------------

def test_a_valid_limit_order_comes_back_typed_with_gtc_by_default():
    request = limit(side="buy", price="100.25", quantity="0.5")
    assert request.side is Side.BUY
    assert request.type is OrderType.LIMIT
    assert request.time_in_force is TimeInForce.GTC
    assert request.price == D("100.25") and request.quantity == D("0.5")
    assert request.quote_amount is None


def test_side_type_and_time_in_force_are_case_insensitive():
    request = limit(side="sell", order_type="limit", tif="ioc")
    assert (request.side, request.type, request.time_in_force) == (Side.SELL, OrderType.LIMIT, TimeInForce.IOC)


def test_an_empty_time_in_force_means_gtc():
    assert limit(tif="").time_in_force is TimeInForce.GTC


def test_a_market_buy_quantity_is_a_quote_amount():
    request = market(side="BUY", quantity="250.5")
    assert request.quote_amount == D("250.5")
    assert request.quantity == 0
    assert request.price is None


def test_a_market_order_ignores_the_price_clients_send_with_it():
    assert market(side="SELL", quantity="0.5", price="0").price is None
    assert market(side="SELL", quantity="0.5", price="123.456").price is None


def test_a_market_sell_quantity_is_a_base_quantity():
    request = market(side="SELL", quantity="0.5")
    assert request.quantity == D("0.5") and request.quote_amount is None


def test_a_market_order_accepts_gtc_and_ioc():
    assert market(tif="GTC").time_in_force is TimeInForce.GTC
    assert market(tif="IOC").time_in_force is TimeInForce.IOC


def test_a_limit_order_at_exactly_the_limits_is_accepted():
    limit(price="100000", quantity="0.001")
    limit(price="0.1", quantity="100")
    limit(price="10", quantity="1")  # notional exactly the minimum


# --- rejected orders ---------------------------------------------------------

def test_an_order_on_a_halted_symbol_is_rejected():
    with pytest.raises(SymbolNotTrading):
        limit(rules=replace(RULES, trading=False))


@pytest.mark.parametrize("side", ["HOLD", "", "B"])
def test_an_unknown_side_is_rejected(side):
    with pytest.raises(InvalidSide):
        limit(side=side)


@pytest.mark.parametrize("order_type", ["STOP_LOSS", "", "LIMIT_FREE"])
def test_an_unknown_order_type_is_rejected(order_type):
    with pytest.raises(InvalidOrderType):
        limit(order_type=order_type)


def test_an_unknown_time_in_force_is_rejected():
    with pytest.raises(InvalidTimeInForce):
        limit(tif="GTD")


@pytest.mark.parametrize("tif", ["IOC", "FOK"])
def test_a_limit_maker_is_gtc_only(tif):
    with pytest.raises(InvalidTimeInForce):
        limit(order_type="LIMIT_MAKER", tif=tif)


def test_a_market_fok_is_rejected():
    with pytest.raises(InvalidTimeInForce):
        market(tif="FOK")


def test_a_limit_order_without_a_price_is_rejected_as_missing_price():
    with pytest.raises(MissingParameter) as raised:
        limit(price=None)
    assert raised.value.param == "price"


@pytest.mark.parametrize("price", ["0", "-1", "NaN", "Infinity"])
def test_a_limit_price_that_is_not_a_positive_number_is_rejected(price):
    with pytest.raises(InvalidParameter):
        limit(price=price)


def test_a_price_off_the_tick_grid_is_rejected_not_rounded():
    with pytest.raises(PriceOffTick):
        limit(price="100.001")


def test_a_price_above_the_band_is_rejected():
    with pytest.raises(PriceTooHigh):
        limit(price="100000.01", quantity="0.001")


def test_a_price_below_the_band_is_rejected():
    with pytest.raises(PriceTooLow):
        limit(rules=replace(RULES, min_price=D("1"), min_notional=D(0)), price="0.99")


@pytest.mark.parametrize("quantity", ["0", "-0.001", "NaN"])
def test_a_quantity_that_is_not_a_positive_number_is_rejected(quantity):
    with pytest.raises(InvalidParameter):
        limit(quantity=quantity)


def test_a_quantity_off_the_step_grid_is_rejected_not_rounded():
    with pytest.raises(QuantityOffStep):
        limit(quantity="0.1234")


def test_a_quantity_below_the_minimum_is_rejected():
    with pytest.raises(QuantityTooSmall):
        limit(rules=replace(RULES, min_qty=D("0.01")), quantity="0.009", price="10000")


def test_a_quantity_above_the_maximum_is_rejected():
    with pytest.raises(QuantityTooLarge):
        limit(quantity="100.001")


def test_a_limit_order_below_the_minimum_notional_is_rejected():
    with pytest.raises(NotionalTooSmall):
        limit(price="9.99", quantity="1")


def test_a_market_sell_quantity_follows_the_lot_size_rules():
    with pytest.raises(QuantityOffStep):
        market(side="SELL", quantity="0.0001")
    with pytest.raises(QuantityTooLarge):
        market(side="SELL", quantity="101")


def test_a_market_buy_amount_off_the_quote_grid_is_rejected():
    with pytest.raises(AmountOffPrecision):
        market(quantity="100.001")


def test_a_market_buy_amount_below_the_minimum_notional_is_rejected():
    with pytest.raises(NotionalTooSmall):
        market(quantity="9.99")


def test_a_market_buy_amount_must_be_positive():
    with pytest.raises(InvalidParameter):
        market(quantity="0")


def test_validation_errors_carry_the_trading_band_codes_and_http_400():
    with pytest.raises(PriceOffTick) as raised:
        limit(price="1.001")
    assert 4000 <= raised.value.code < 5000
    assert raised.value.http_status == 400


# --- orders and their locks --------------------------------------------------

def order_from(request, order_id=1, account="acct"):
    return open_order(request, order_id=order_id, account_id=account, org_id="org", user_id="user")


def test_a_new_order_defaults_its_self_trade_key_to_its_account():
    order = order_from(limit(), account="a-1")
    assert order.self_trade_key == "a-1"
    assert order.status is OrderStatus.NEW


def test_a_sell_locks_its_base_quantity():
    assert funds_to_lock(order_from(limit(side="SELL", quantity="0.75"))) == D("0.75")


def test_a_limit_buy_locks_price_times_quantity_with_no_fee_headroom():
    assert funds_to_lock(order_from(limit(price="100.5", quantity="0.2"))) == D("20.1")


def test_a_market_buy_locks_its_quote_amount():
    assert funds_to_lock(order_from(market(quantity="55.55"))) == D("55.55")


def test_the_locked_remainder_of_a_partly_filled_limit_buy_is_its_limit_times_what_is_left():
    order = replace(order_from(limit(price="100", quantity="2")), executed_qty=D("0.5"), executed_quote=D("49"))
    assert locked_remainder(order) == D("150")


def test_a_final_order_holds_no_lock():
    order = replace(order_from(limit(price="100", quantity="2")), status=OrderStatus.CANCELED)
    assert locked_remainder(order) == 0


def test_average_price_and_cumulative_quote_are_derived_from_executions():
    order = Order(1, "a", "o", "u", "BTCUSDT", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, D("100"), D("3"),
                  executed_qty=D("2"), executed_quote=D("199"))
    assert order.average_price == D("99.5")
    assert order.cumulative_quote_qty == D("199")
    assert order.remaining_qty == D("1")
    assert replace(order, executed_qty=D(0), executed_quote=D(0)).average_price is None


def test_a_market_buy_tracks_the_quote_it_has_left_instead_of_a_base_remainder():
    order = replace(order_from(market(quantity="100")), executed_qty=D("0.5"), executed_quote=D("60"))
    assert order.remaining_quote == D("40")
    assert order.remaining_qty == 0
