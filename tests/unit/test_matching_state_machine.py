"""Random order flow through the real book and matcher, checked against a naive book.

Each step places a random LIMIT / LIMIT_MAKER / MARKET order with a random time in
force from one of several accounts (two of which share a self-trade key), or
cancels a random order id. Both books must agree on every fill, every taker
status, every self-trade expiry and the resting book. After every step the
invariants hold: the book is not crossed, resting orders have something left on
the step grid, each order's fills add up to its executed quantity, every lock
is accounted for (taken = used + released + still locked), the locks per account
equal what its open orders hold, and settlement moves no value in or out.
"""
from collections import defaultdict
from decimal import Decimal as D

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from chalicelib.domain.book import OrderBook
from chalicelib.domain.errors import BrokerError
from chalicelib.domain.fees import FeeRates, FeeSchedule
from chalicelib.domain.filters import SymbolRules, validate_new_order
from chalicelib.domain.matching import cancel_update, match
from chalicelib.domain.money import on_grid
from chalicelib.domain.orders import OrderStatus, Side, funds_to_lock, locked_remainder, open_order
from tests.unit.reference_book import ReferenceBook

RULES = SymbolRules(
    symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT",
    tick_size=D("0.5"), step_size=D("0.1"), min_price=D("0.5"), max_price=D("1000"),
    min_qty=D("0.1"), max_qty=D("1000"), min_notional=D("1"), market_quote_step=D("0.01"),
    # Coarse asset precisions so that fee rounding matters.
    base_precision=D("0.001"), quote_precision=D("0.01"),
)
FEES = FeeSchedule(
    FeeRates(D("0.001"), D("0.0025")),
    by_org_symbol={("org-2", "BTCUSDT"): FeeRates(D("0"), D("0.0013"))},
)
# account -> (org, self-trade key); c and d belong to one user and never trade with each other.
ACCOUNTS = {"a": ("org-1", "a"), "b": ("org-1", "b"), "c": ("org-2", "cd"), "d": ("org-2", "cd")}
FEE_ACCOUNT = "fees"


class MatchingMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.book = OrderBook("BTCUSDT")
        self.reference = ReferenceBook(RULES.step_size)
        self.last_id = 0
        self.orders = {}  # order id -> the order as placed
        self.taken = {}
        self.used = defaultdict(D)
        self.released = defaultdict(D)
        self.filled = defaultdict(D)
        self.executed = defaultdict(D)
        self.final = set()
        # (account, asset) -> [available, locked]; starts at zero: only movements are checked.
        self.ledger = defaultdict(lambda: [D(0), D(0)])

    @rule(
        account=st.sampled_from(sorted(ACCOUNTS)),
        side=st.sampled_from(["BUY", "SELL"]),
        order_type=st.sampled_from(["LIMIT", "LIMIT", "LIMIT_MAKER", "MARKET"]),
        tif=st.sampled_from(["GTC", "GTC", "IOC", "FOK"]),
        price_ticks=st.integers(190, 210),
        qty_steps=st.integers(1, 40),
        quote_cents=st.integers(100, 100_000),
        exact_amount=st.booleans(),
    )
    def place(self, account, side, order_type, tif, price_ticks, qty_steps, quote_cents, exact_amount):
        price = price_ticks * RULES.tick_size
        quantity = qty_steps * RULES.step_size
        if order_type == "MARKET" and side == "BUY":
            quantity = self._edge_amount(qty_steps % 4) if exact_amount else D(quote_cents) / 100
        try:
            request = validate_new_order(
                RULES, side=side, order_type=order_type, quantity=quantity, price=price, time_in_force=tif
            )
        except BrokerError:
            return
        self.last_id += 1
        org, key = ACCOUNTS[account]
        order = open_order(
            request, order_id=self.last_id, account_id=account, org_id=org, user_id=account, self_trade_key=key
        )
        self._lock(order)

        result = match(self.book, order, RULES, FEES)
        expected = self.reference.submit(
            order.order_id, key, side, order_type, request.time_in_force.value,
            request.price, request.quantity, request.quote_amount,
        )
        assert [(f.maker_order_id, f.taker_order_id, f.price, f.qty) for f in result.fills] == [
            (f.maker_order_id, f.taker_order_id, f.price, f.qty) for f in expected.fills
        ]
        assert result.taker.status.value == expected.status
        assert [u.order_id for u in result.expired_makers] == expected.expired

        self.book.apply(result)
        event(f"{order_type} {request.time_in_force.value}: {result.outcome.value}")
        if result.expired_makers:
            event("self-trade expired a resting order")
        for fill in result.fills:
            self.filled[fill.maker_order_id] += fill.qty
            self.filled[fill.taker_order_id] += fill.qty
            assert fill.quote_qty == fill.price * fill.qty
        for update in (result.taker_update, *result.maker_updates, *result.expired_makers):
            self._settle(update)

    @rule(data=st.data())
    def cancel(self, data):
        order_id = data.draw(st.integers(1, self.last_id + 1))
        resting = self.book.get(order_id)
        update = cancel_update(resting) if resting is not None else None
        removed = self.book.cancel(order_id)
        assert (removed is not None) == self.reference.cancel(order_id)
        if update is not None:
            self._settle(update)

    def _edge_amount(self, edge):
        """A MARKET BUY amount that lands on a boundary of the best ask level.

        0: exactly the first ask's size; 1 or 2: one or two steps more, so the
        buyer is left with exactly one step's price (or two) at that level;
        3: exactly one step at the best price. Falls back to 100 on an empty side.
        """
        level = self.book.asks.best()
        if level is None:
            return D(100)
        if edge == 3:
            return level.price * RULES.step_size
        first = next(iter(level.orders.values()))
        return level.price * (first.remaining_qty + edge * RULES.step_size)

    def _lock(self, order):
        self.orders[order.order_id] = order
        self.taken[order.order_id] = funds_to_lock(order)
        balance = self.ledger[(order.account_id, self._lock_asset(order.side))]
        balance[0] -= self.taken[order.order_id]
        balance[1] += self.taken[order.order_id]

    def _settle(self, update):
        order = self.orders[update.order_id]
        for amount in (update.lock_used, update.lock_released, update.fee, update.filled_qty, update.filled_quote):
            assert amount >= 0
        self.used[update.order_id] += update.lock_used
        self.released[update.order_id] += update.lock_released
        self.executed[update.order_id] = update.executed_qty
        if update.status.is_final:
            self.final.add(update.order_id)

        locked = self.ledger[(order.account_id, self._lock_asset(order.side))]
        locked[1] -= update.lock_used + update.lock_released
        locked[0] += update.lock_released
        receive_asset = self._lock_asset(order.side.opposite)
        received = update.filled_qty if order.side is Side.BUY else update.filled_quote
        self.ledger[(order.account_id, receive_asset)][0] += received - update.fee
        self.ledger[(FEE_ACCOUNT, receive_asset)][0] += update.fee

    @staticmethod
    def _lock_asset(side):
        return RULES.quote_asset if side is Side.BUY else RULES.base_asset

    @invariant()
    def both_books_rest_the_same_orders(self):
        ours = [(o.order_id, o.side.value, o.price, o.remaining_qty) for o in self.book.resting_orders()]
        assert ours == self.reference.resting()

    @invariant()
    def the_book_is_not_crossed_and_every_resting_order_is_sound(self):
        assert not self.book.is_crossed()
        for side in (self.book.bids, self.book.asks):
            for level in side.best_first():
                assert level.orders
                assert level.total_qty == sum(o.remaining_qty for o in level.orders.values())
                for order in level.orders.values():
                    assert order.remaining_qty > 0
                    assert on_grid(order.remaining_qty, RULES.step_size)
                    assert order.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)

    @invariant()
    def fills_add_up_to_each_orders_executed_quantity(self):
        for order_id, executed in self.executed.items():
            assert self.filled[order_id] == executed

    @invariant()
    def every_lock_is_used_released_or_still_held(self):
        for order_id, taken in self.taken.items():
            resting = self.book.get(order_id)
            still_locked = locked_remainder(resting) if resting is not None else D(0)
            if resting is None:
                assert order_id in self.final
            assert taken == self.used[order_id] + self.released[order_id] + still_locked

    @invariant()
    def locks_per_account_equal_what_their_open_orders_hold(self):
        held = defaultdict(D)
        for order in self.book.resting_orders():
            held[(order.account_id, self._lock_asset(order.side))] += locked_remainder(order)
        for (account, asset), (_, locked) in self.ledger.items():
            assert locked == held[(account, asset)]

    @invariant()
    def settlement_creates_and_destroys_nothing(self):
        for asset in (RULES.base_asset, RULES.quote_asset):
            assert sum(avail + locked for (_, a), (avail, locked) in self.ledger.items() if a == asset) == 0


MatchingMachine.TestCase.settings = settings(
    max_examples=120,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMatchingAgainstTheReferenceBook = MatchingMachine.TestCase
