from decimal import Decimal as D

import pytest

from chalicelib.domain.fees import FREE, Fee, FeeRates, FeeSchedule, Role, fee_for
from chalicelib.domain.filters import SymbolRules
from chalicelib.domain.orders import Side

RULES = SymbolRules(
    symbol="ETHUSDT",
    base_asset="ETH",
    quote_asset="USDT",
    tick_size=D("0.01"),
    step_size=D("0.0001"),
    min_price=D("0.01"),
    max_price=D("100000"),
    min_qty=D("0.0001"),
    max_qty=D("1000"),
    min_notional=D("1"),
    market_quote_step=D("0.01"),
    base_precision=D("0.000001"),
    quote_precision=D("0.0001"),
)
RATES = FeeRates(maker=D("0.001"), taker=D("0.002"))


def test_a_buyer_pays_its_fee_in_base_from_what_it_receives():
    assert fee_for(D("1.5"), D("3000"), Side.BUY, Role.TAKER, RATES, RULES) == Fee("ETH", D("0.003"))


def test_a_seller_pays_its_fee_in_quote_from_what_it_receives():
    assert fee_for(D("1.5"), D("3000"), Side.SELL, Role.MAKER, RATES, RULES) == Fee("USDT", D("3"))


def test_the_role_picks_the_maker_or_taker_rate():
    maker = fee_for(D("1"), D("100"), Side.SELL, Role.MAKER, RATES, RULES)
    taker = fee_for(D("1"), D("100"), Side.SELL, Role.TAKER, RATES, RULES)
    assert (maker.amount, taker.amount) == (D("0.1"), D("0.2"))


def test_a_fee_is_rounded_down_to_the_fee_assets_precision():
    # 0.0007 ETH * 0.002 = 0.0000014 ETH; base precision 0.000001 -> 0.000001
    assert fee_for(D("0.0007"), D("2.1"), Side.BUY, Role.TAKER, RATES, RULES).amount == D("0.000001")
    # 12.34567 USDT * 0.001 = 0.01234567 USDT; quote precision 0.0001 -> 0.0123
    assert fee_for(D("0.0001"), D("12.34567"), Side.SELL, Role.MAKER, RATES, RULES).amount == D("0.0123")


def test_a_fee_too_small_for_the_precision_rounds_down_to_zero():
    assert fee_for(D("0.0001"), D("0.01"), Side.SELL, Role.MAKER, RATES, RULES).amount == 0


def test_a_zero_rate_charges_nothing():
    assert fee_for(D("2"), D("10"), Side.BUY, Role.TAKER, FREE.default, RULES).amount == 0


@pytest.mark.parametrize("maker,taker", [("-0.0001", "0.001"), ("0.001", "1"), ("0.001", "-0.5")])
def test_negative_or_whole_rates_are_refused(maker, taker):
    with pytest.raises(ValueError):
        FeeRates(D(maker), D(taker))


def test_the_schedule_prefers_the_orgs_symbol_rate_then_the_symbols_then_the_default():
    default = FeeRates(D("0.002"), D("0.002"))
    symbol_rate = FeeRates(D("0.001"), D("0.0015"))
    org_rate = FeeRates(D("0"), D("0.0005"))
    schedule = FeeSchedule(default, by_symbol={"ETHUSDT": symbol_rate}, by_org_symbol={("org-1", "ETHUSDT"): org_rate})
    assert schedule.rates_for("org-1", "ETHUSDT") == org_rate
    assert schedule.rates_for("org-2", "ETHUSDT") == symbol_rate
    assert schedule.rates_for("org-1", "BTCUSDT") == default


def test_rates_answer_for_a_role():
    assert RATES.for_role(Role.MAKER) == D("0.001")
    assert RATES.for_role(Role.TAKER) == D("0.002")
