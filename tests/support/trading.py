"""A listed market, funded traders and the invariants every trading test checks."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal as D

from chalicelib.domain import ledger as money
from chalicelib.domain.orders import lock_asset_is_base, locked_remainder
from chalicelib.services import catalog, ledger, matching, orders
from chalicelib.store import accounts, catalog as catalog_store, market, orders as order_store
from chalicelib.store.transaction import Transaction

EXCHANGE = "301"
SYMBOL = "BTCUSDT"


def list_market(org_ids=("o1",), maker_fee="0.001", taker_fee="0.002") -> None:
    for token, precision in (("BTC", "0.00000001"), ("USDT", "0.000001")):
        catalog_store.put_exchange_token(catalog_store.ExchangeTokenRecord(
            exchange_id=EXCHANGE, token_id=token, name=token, full_name=token, precision=D(precision)))
    catalog_store.put_exchange_symbol(catalog_store.ExchangeSymbolRecord(
        exchange_id=EXCHANGE, symbol=SYMBOL, base="BTC", quote="USDT", tick_size=D("0.01"),
        step_size=D("0.000001"), min_price=D("0.01"), max_price=D("10000000"), min_qty=D("0.000001"),
        max_qty=D("1000"), min_notional=D("1"), market_quote_step=D("0.01")))
    for org_id in org_ids:
        catalog_store.put_org(catalog_store.OrgRecord(org_id=org_id, name=org_id, exchange_id=EXCHANGE,
                                                      domains=[f"{org_id}.local"]))
        for token in ("BTC", "USDT"):
            catalog_store.put_org_token(catalog_store.OrgTokenRecord(
                org_id=org_id, token_id=token, min_deposit=D(0), withdraw_fee=D(0), min_withdraw=D(0),
                max_withdraw_daily=D(1000000)))
        catalog_store.put_org_symbol(catalog_store.OrgSymbolRecord(
            org_id=org_id, symbol=SYMBOL, maker_fee=D(maker_fee), taker_fee=D(taker_fee)))
    catalog.invalidate()
    matching.drop_cache()


def funded_trader(org_id: str, uid: str, btc="10", usdt="1000000") -> orders.Trader:
    account_id = f"{uid}0"
    tx = Transaction()
    accounts.stage_create(tx, accounts.AccountOwner(account_id, org_id, uid))
    tx.commit()
    for token, amount in (("BTC", btc), ("USDT", usdt)):
        if D(amount) > 0:
            ledger.post("fund", f"fund-{uid}-{token}", money.postings(
                money.Subject.DEPOSIT, money.transfer(money.custody_account(org_id), account_id, token, D(amount))))
    return orders.Trader(org_id, uid, account_id)


def pending(symbol: str = SYMBOL) -> list[order_store.Work]:
    return sorted(order_store.pending_work(symbol, 10 ** 15), key=lambda w: (w.created_at, w.order_id, w.kind))


def run_matcher(symbol: str = SYMBOL) -> None:
    """Does the matcher's outstanding work in queue order, as the FIFO group would."""
    work = pending(symbol)
    if work:
        matching.process(symbol, EXCHANGE, work)


def assert_trading_invariants(traders: list[orders.Trader]) -> None:
    report = ledger.reconcile()
    assert report.ok, report
    for trader in traders:
        expected_locks = defaultdict(D)
        all_orders = list(order_store.of_account(trader.account_id, limit=10000))
        trades = market.trades_of_account(trader.account_id, limit=100000)
        for stored in all_orders:
            order = stored.order
            own = [t for t in trades if order.order_id in (t.buyer_order_id, t.seller_order_id)]
            assert sum((t.qty for t in own), D(0)) == order.executed_qty, order
            assert sum((t.quote_qty for t in own), D(0)) == order.executed_quote, order
            if order.is_open:
                expected_locks["BTC" if lock_asset_is_base(order) else "USDT"] += locked_remainder(order)
        for token in ("BTC", "USDT"):
            assert ledger.balance(trader.account_id, token).locked == expected_locks[token], (trader, token)
    bids, asks = market.depth(SYMBOL, 1)
    if bids and asks:
        assert bids[0][0] < asks[0][0], "the book is crossed"
