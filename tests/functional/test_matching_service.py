import json
import random
import threading
from decimal import Decimal as D

import boto3
import pytest
from chalice.test import Client

from chalicelib import settings
from chalicelib.domain.errors import OrderAlreadyCanceled, OrderAlreadyFilled
from chalicelib.services import events, ledger, matching, orders
from chalicelib.store import faults, market, orders as order_store
from tests.support.trading import (
    EXCHANGE, SYMBOL, assert_trading_invariants, funded_trader, list_market, pending, run_matcher,
)


@pytest.fixture
def traders():
    list_market(org_ids=("o1", "o2"))
    return [funded_trader("o1", "u1"), funded_trader("o1", "u2"), funded_trader("o2", "u3")]


def place(trader, side, qty, price=None, order_type="LIMIT", tif=None, client_order_id=None):
    return orders.place_order(trader, symbol=SYMBOL, side=side, order_type=order_type, quantity=D(qty),
                              price=D(price) if price else None, time_in_force=tif,
                              client_order_id=client_order_id)


def status(trader, view):
    return orders.find_order(trader, order_id=view["order_id"]).order


def test_a_crossing_order_fills_at_the_resting_price_and_settles_both_sides(traders):
    alice, bob, _ = traders
    sell = place(alice, "SELL", "1", "30000")
    run_matcher()
    buy = place(bob, "BUY", "1", "30100")
    run_matcher()
    assert status(alice, sell).status.value == "FILLED"
    assert status(bob, buy).executed_quote == D("30000")
    assert ledger.balance(bob.account_id, "BTC").available == D("10") + D("1") - D("0.002")
    assert ledger.balance(alice.account_id, "USDT").available == D("1000000") + D("30000") - D("30")
    assert ledger.balance(bob.account_id, "USDT") == ledger.balance(bob.account_id, "USDT").__class__(
        bob.account_id, "USDT", D("970000"), D(0), D(0), ledger.balance(bob.account_id, "USDT").version)
    assert_trading_invariants(traders)


def test_a_redelivered_place_message_never_fills_twice(traders):
    alice, bob, _ = traders
    place(alice, "SELL", "1", "30000")
    run_matcher()
    buy = place(bob, "BUY", "0.5", "30000")
    work = pending()
    matching.process(SYMBOL, EXCHANGE, work)
    matching.process(SYMBOL, EXCHANGE, work)
    matching.drop_cache()
    matching.process(SYMBOL, EXCHANGE, work)
    assert status(bob, buy).executed_qty == D("0.5")
    assert len(market.recent_trades(SYMBOL, 10)) == 1
    assert_trading_invariants(traders)


def test_a_taker_sweeping_many_makers_commits_in_several_transactions_and_stays_consistent(traders):
    alice, bob, _ = traders
    for index in range(30):
        place(alice, "SELL", "0.01", str(30000 + index))
    run_matcher()
    buy = place(bob, "BUY", "0.3", "31000")
    run_matcher()
    assert status(bob, buy).status.value == "FILLED"
    assert len(market.recent_trades(SYMBOL, 100)) == 30
    assert [t.trade_id for t in market.recent_trades(SYMBOL, 100)] == list(range(30, 0, -1))
    assert_trading_invariants(traders)


def test_a_crash_between_two_commits_of_one_taker_neither_loses_nor_repeats_a_fill(traders):
    alice, bob, _ = traders
    for index in range(30):
        place(alice, "SELL", "0.01", str(30000 + index))
    run_matcher()
    buy = place(bob, "BUY", "0.3", "31000")
    commits = iter([True])
    faults.arm("matcher.after_commit", lambda: next(commits, False))
    with pytest.raises(faults.InjectedCrash):
        run_matcher()
    faults.disarm_all()
    assert D(0) < status(bob, buy).executed_qty < D("0.3")
    matching.drop_cache()
    run_matcher()
    assert status(bob, buy).executed_qty == D("0.3")
    assert len(market.recent_trades(SYMBOL, 100)) == 30
    assert_trading_invariants(traders)


def test_an_order_is_never_matched_against_its_own_account(traders):
    alice, _, _ = traders
    resting = place(alice, "SELL", "1", "30000")
    run_matcher()
    crossing = place(alice, "BUY", "1", "30000")
    run_matcher()
    assert status(alice, resting).status.value == "CANCELED"
    assert status(alice, crossing).status.value == "NEW"
    assert market.recent_trades(SYMBOL, 10) == []
    assert_trading_invariants(traders)


def test_ioc_fok_market_and_limit_maker_orders_release_what_they_do_not_use(traders):
    alice, bob, carol = traders
    place(alice, "SELL", "1", "30000")
    run_matcher()
    ioc = place(bob, "BUY", "2", "30000", tif="IOC")
    fok = place(carol, "BUY", "5", "30000", tif="FOK")
    maker = place(carol, "SELL", "1", "29000", order_type="LIMIT_MAKER")
    run_matcher()
    assert (status(bob, ioc).status.value, status(bob, ioc).executed_qty) == ("CANCELED", D(1))
    assert status(carol, fok).status.value == "CANCELED" and status(carol, fok).executed_qty == 0
    assert status(carol, maker).status.value == "NEW"
    market_buy = place(bob, "BUY", "10000", order_type="MARKET")
    run_matcher()
    bought = status(bob, market_buy)
    assert bought.executed_quote <= D("10000") and bought.status.value == "FILLED"
    assert_trading_invariants(traders)


def test_a_cancel_releases_the_remainder_and_the_matcher_takes_the_order_off_the_book(traders):
    alice, bob, _ = traders
    sell = place(alice, "SELL", "1", "30000")
    run_matcher()
    place(bob, "BUY", "0.4", "30000")
    run_matcher()
    canceled = orders.cancel_order(alice, order_id=sell["order_id"])
    assert canceled["status"] == "CANCELED"
    run_matcher()
    assert market.depth(SYMBOL, 10) == ([], [])
    assert ledger.balance(alice.account_id, "BTC").locked == 0
    with pytest.raises(OrderAlreadyCanceled):
        orders.cancel_order(alice, order_id=sell["order_id"])
    assert_trading_invariants(traders)


def test_random_order_streams_with_duplicate_deliveries_and_crashes_keep_every_invariant(traders):
    rng = random.Random(7)
    for round_number in range(60):
        trader = rng.choice(traders)
        action = rng.random()
        if action < 0.75:
            side = rng.choice(["BUY", "SELL"])
            kind = rng.choice(["LIMIT", "LIMIT", "LIMIT", "MARKET", "LIMIT_MAKER"])
            price = str(rng.randint(29900, 30100)) if kind != "MARKET" else None
            qty = str(D(rng.randint(1, 200)) / 100) if not (kind == "MARKET" and side == "BUY") else str(
                rng.randint(100, 5000))
            tif = rng.choice([None, "IOC", "FOK"]) if kind == "LIMIT" else None
            place(trader, side, qty, price, kind, tif)
        else:
            open_orders = orders.open_orders(trader)
            if open_orders:
                try:
                    orders.cancel_order(trader, order_id=rng.choice(open_orders)["order_id"])
                except (OrderAlreadyCanceled, OrderAlreadyFilled):
                    pass
        if rng.random() < 0.3:
            point = rng.choice(["matcher.before_commit", "matcher.after_commit", "transaction.after_commit"])
            crashes = iter([True])
            faults.arm(point, lambda: next(crashes, False))
            try:
                run_matcher()
            except faults.InjectedCrash:
                matching.drop_cache()
            finally:
                faults.disarm_all()
        work = pending()
        if work and rng.random() < 0.5:
            matching.process(SYMBOL, EXCHANGE, work + work[: rng.randint(0, len(work))])
        events.relay_pending(min_age_seconds=0)
    run_matcher()
    assert pending() == []
    assert_trading_invariants(traders)


def test_the_matcher_lambda_takes_fifo_records_and_reports_failures_from_the_first_on(traders):
    alice, bob, _ = traders
    from app import app

    sell = place(alice, "SELL", "1", "30000")
    buy = place(bob, "BUY", "1", "30000")
    records = [fifo_record(w, index) for index, w in enumerate(pending())]
    with Client(app, stage_name="local") as client:
        result = client.lambda_.invoke("matcher", {"Records": records}).payload
    assert result == {"batchItemFailures": []}
    assert status(bob, buy).status.value == "FILLED" and status(alice, sell).status.value == "FILLED"


def test_a_poison_message_goes_to_the_dead_letter_queue_with_a_system_event_and_does_not_block(traders):
    from chalicelib.workers.matcher import handle_batch

    record = {"messageId": "m-poison", "body": "not json", "attributes": {
        "MessageGroupId": SYMBOL, "ApproximateReceiveCount": "1", "MessageDeduplicationId": "x",
        "SequenceNumber": "1"}}
    assert handle_batch({"Records": [record]}) == {"batchItemFailures": []}
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=settings.matching_dead_letter_queue())["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "not json"
    assert [e.type for e in events.replay("system")] == ["matching.deadLetter"]


def test_an_order_whose_enqueue_was_lost_is_requeued_by_the_sweeper(traders, monkeypatch):
    alice, _, _ = traders
    sent = []
    monkeypatch.setattr(orders, "enqueue", lambda work: sent.append(work))
    view = place(alice, "SELL", "1", "30000")
    monkeypatch.undo()
    assert orders.requeue_stale_work(min_age_seconds=0) == 1
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=settings.matching_queue())["QueueUrl"]
    message = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
    assert json.loads(message["Body"])["order_id"] == view["order_id"]
    assert message["Attributes"]["MessageGroupId"] == SYMBOL


def fifo_record(work, sequence):
    return {
        "messageId": f"m-{sequence}", "receiptHandle": f"r-{sequence}",
        "body": json.dumps({"kind": work.kind, "order_id": str(work.order_id), "symbol": work.symbol,
                            "exchange_id": work.exchange_id}),
        "attributes": {"MessageGroupId": work.symbol, "MessageDeduplicationId": work.dedup_id,
                       "SequenceNumber": str(sequence), "ApproximateReceiveCount": "1"},
        "messageAttributes": {}, "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:broker-matching.fifo", "awsRegion": "us-east-1",
    }


def test_cancels_racing_fills_never_use_the_same_quantity_twice(traders):
    alice, bob, _ = traders
    sells = [place(alice, "SELL", "0.1", str(30000 + i)) for i in range(10)]
    run_matcher()
    place(bob, "BUY", "1", "31000")
    errors = []

    def cancel_all():
        for view in sells:
            try:
                orders.cancel_order(alice, order_id=view["order_id"])
            except (OrderAlreadyCanceled, OrderAlreadyFilled):
                pass
            except Exception as error:  # a retryable conflict is fine; anything else is a bug
                errors.append(error)

    def match_all():
        try:
            run_matcher()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=cancel_all), threading.Thread(target=match_all)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_matcher()
    assert not [e for e in errors if not getattr(e, "retryable", False)], errors
    assert_trading_invariants(traders)


def test_an_org_notified_of_a_trade_with_another_orgs_user_learns_nothing_about_the_counterparty(traders):
    alice, _, carol = traders
    place(carol, "SELL", "1", "30000")
    run_matcher()
    place(alice, "BUY", "1", "30000")
    run_matcher()
    events.relay_pending(min_age_seconds=0)
    for org_id, counterparty in (("o1", carol), ("o2", alice)):
        notices = [e for e in events.replay(f"org:{org_id}") if e.type == "org.tradeMatch"]
        assert len(notices) == 1 and notices[0].payload["match_order_id"] == ""
        text = str(notices[0].payload)
        assert counterparty.uid not in text and counterparty.account_id not in text
