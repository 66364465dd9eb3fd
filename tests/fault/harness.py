"""Random operations against the real services and workers, with kills and duplicates.

One `Harness(seed).run(n)` drives n operations, each drawn at random:

- client requests through the services the API families call: place LIMIT / MARKET /
  LIMIT_MAKER orders (GTC, IOC, FOK) from several users of two orgs on two symbols,
  cancel, create / cancel withdrawals (some above the review and four-eyes thresholds,
  some to another user's deposit address), admin approve / reject; operation ids
  (client order ids) are reused on purpose, with the same terms and with other terms;
- custody callbacks, signed and checked like the HTTP route: deposit reports with
  growing confirmations, re-sent reports (new nonce) and exact replays (same nonce),
  withdrawal reports for what custody received, and custody faults (lost request,
  lost answer, refusal);
- deliveries: a batch of the matching FIFO queue to `workers.matcher.handle_batch`, a
  message of the custody queue to `workers.custody.handle_batch`, a duplicate of an
  already delivered message, and the scheduled sweepers (requeue, relay).

Before an operation the killer may be armed (`killer.Killer`): the process then dies at
a random write or fault point inside it. A died batch is redelivered whole, a died client
request is retried with the same operation id (most of the time), as real clients and
custody do. At the end `drain()` delivers everything left without faults, and
`invariants.check` judges the final state.
"""
from __future__ import annotations

import logging
import random
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any, Callable, Optional

from chalicelib import settings
from chalicelib.domain.custody import WithdrawalState
from chalicelib.domain.errors import BrokerError, CustodyUnavailable, IdempotencyMismatch
from chalicelib.gateways import custody as gateway
from chalicelib.services import events, orders, withdrawals
from chalicelib.store import custody as custody_store
from chalicelib.store import faults
from chalicelib.store import orders as order_store
from chalicelib.workers import custody as custody_worker
from chalicelib.workers import matcher as matcher_worker
from tests.fault import world
from tests.fault.fifo import FifoChannel
from tests.fault.killer import Killer, ProcessDeath

API_KILL_RATE = 0.06
WORKER_KILL_RATE = 0.3
RETRY_AFTER_CRASH = 0.7

OPERATIONS = {
    "place": 30, "cancel": 9, "deposit": 6, "withdraw": 6, "cancel_withdrawal": 2, "review": 3,
    "withdrawal_report": 5, "deliver_matching": 24, "deliver_custody": 8, "duplicate": 3, "sweep": 2,
    "custody_fault": 2,
}


class _ErrorLog(logging.Handler):
    """Keeps what the workers log as exceptions: a swallowed bug must not pass unseen."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            if isinstance(error, (faults.InjectedCrash, CustodyUnavailable)):
                return  # injected: a transient failure the worker reports and SQS retries
            self.records.append(f"{record.getMessage()}: {type(error).__name__}: {error}")
        elif "dead-letter" in record.getMessage():
            self.records.append(record.getMessage())


@dataclass
class Request:
    """One idempotent client operation id and what the harness learned about it."""

    args: dict
    first_ok: Optional[dict] = None  # the args of the first answer that said it took effect
    result_id: Optional[str] = None


@dataclass
class Tally:
    operations: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    business_errors: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)  # seen while running (replays that disagreed)
    crashes: int = 0
    retries: int = 0


class Harness:
    def __init__(self, seed: int = 1, *, api_kill_rate: float = API_KILL_RATE,
                 worker_kill_rate: float = WORKER_KILL_RATE) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.api_kill_rate = api_kill_rate
        self.worker_kill_rate = worker_kill_rate
        self.tally = Tally()
        self.users = world.build()
        self.killer = Killer(self.rng)
        self.killer.install()
        self.matching = FifoChannel(settings.matching_queue(), self.rng, batch_size=10)
        self.custody = FifoChannel(settings.custody_queue(), self.rng, batch_size=1)
        self.order_requests: dict[tuple[str, str], Request] = {}
        self.withdraw_requests: dict[tuple[str, str], Request] = {}
        self.orders: list[tuple[world.User, str]] = []
        self.withdrawal_ids: list[tuple[world.User, str]] = []
        self.deposits: dict[str, dict] = {}
        self.sent_reports: list = []
        self._ids = 0
        self.errors = _ErrorLog()
        logging.getLogger("chalicelib").addHandler(self.errors)
        logging.getLogger("chalicelib").propagate = False  # the harness keeps the errors; no log flood

    def close(self) -> None:
        logging.getLogger("chalicelib").removeHandler(self.errors)
        logging.getLogger("chalicelib").propagate = True
        faults.disarm_all()

    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    # --- running -----------------------------------------------------------------------------

    def run(self, operations: int, *, progress: Optional[Callable[[int], None]] = None) -> None:
        kinds, weights = zip(*OPERATIONS.items())
        for index in range(operations):
            kind = self.rng.choices(kinds, weights)[0]
            self.tally.operations[kind] += 1
            getattr(self, f"_op_{kind}")()
            if progress and (index + 1) % 500 == 0:
                progress(index + 1)

    def _call(self, kill_rate: float, action: Callable[[], Any]) -> tuple[str, Any]:
        """Runs one request in the process, maybe killed; ('ok', value) / ('died'|'error'|'refused', ...)."""
        if self.rng.random() < kill_rate:
            self.killer.arm_random()
        try:
            return "ok", action()
        except ProcessDeath:
            self.tally.crashes += 1
            self.killer.restart()
            return "died", None
        except faults.InjectedCrash:
            return "error", None
        except BrokerError as refused:
            self.tally.business_errors[type(refused).__name__] += 1
            return "refused", refused
        except Exception as error:  # a bug: a 500 at the edge
            self.tally.unexpected.append(f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=8)}")
            return "bug", error
        finally:
            self.killer.disarm()

    def _client(self, action: Callable[[], Any]) -> tuple[str, Any]:
        """A client request: killed sometimes, then retried as it was (same operation id)."""
        outcome, value = self._call(self.api_kill_rate, action)
        while outcome in ("died", "error") and self.rng.random() < RETRY_AFTER_CRASH:
            self.tally.retries += 1
            outcome, value = self._call(self.api_kill_rate / 2, action)
        self.tally.outcomes[outcome] += 1
        return outcome, value

    # --- orders ---------------------------------------------------------------------------------

    def _order_args(self) -> dict:
        market = self.rng.choice(world.MARKETS)
        side = self.rng.choice(["BUY", "SELL"])
        order_type = self.rng.choices(["LIMIT", "MARKET", "LIMIT_MAKER"], [70, 15, 15])[0]
        args: dict[str, Any] = {"symbol": market.symbol, "side": side, "order_type": order_type}
        if order_type == "MARKET":
            args["quantity"] = (D(self.rng.randint(20, 3000)) if side == "BUY"
                                else market.qty_unit * self.rng.randint(1, 60))
        else:
            args["price"] = market.mid + market.price_step * self.rng.randint(-12, 12)
            args["quantity"] = market.qty_unit * self.rng.randint(1, 100)
            if order_type == "LIMIT":
                args["time_in_force"] = self.rng.choice([None, None, None, "GTC", "IOC", "FOK"])
        return args

    def _op_place(self) -> None:
        user = self.rng.choice(self.users)
        account = user.trader.account_id
        reusable = [key for key in self.order_requests if key[0] == account]
        if reusable and self.rng.random() < 0.15:
            key = self.rng.choice(reusable)
            args = self.order_requests[key].args if self.rng.random() < 0.65 else self._order_args()
        else:
            key = (account, self._next_id("c"))
            args = self._order_args()
        request = self.order_requests.setdefault(key, Request(args))
        outcome, value = self._client(lambda: orders.place_order(user.trader, client_order_id=key[1], **args))
        self._judge_replay("order", request, args, outcome, value, "order_id")
        if outcome == "ok" and (user, value["order_id"]) not in self.orders:
            self.orders.append((user, value["order_id"]))

    def _judge_replay(self, what: str, request: Request, args: dict, outcome: str, value: Any, id_field: str) -> None:
        """Same operation id: same terms give the first answer, other terms are refused."""
        if outcome == "ok":
            if request.first_ok is None:
                request.first_ok, request.result_id = dict(args), value[id_field]
            elif value[id_field] != request.result_id or args != request.first_ok:
                self.tally.violations.append(
                    f"{what} id reused: answered {value[id_field]} for {args}, first {request.result_id} for "
                    f"{request.first_ok}")
        elif outcome == "refused" and isinstance(value, IdempotencyMismatch):
            if request.first_ok is not None and args == request.first_ok:
                self.tally.violations.append(f"{what} replay with the same terms was refused: {args}")

    def _op_cancel(self) -> None:
        user = self.rng.choice(self.users)
        mine = [order_id for owner, order_id in self.orders if owner is user]
        if not mine:
            return
        outcome, open_now = self._call(0, lambda: orders.open_orders(user.trader))
        candidates = [o["order_id"] for o in open_now] if outcome == "ok" and open_now else []
        order_id = self.rng.choice(candidates) if candidates and self.rng.random() < 0.8 else self.rng.choice(mine)
        self._client(lambda: orders.cancel_order(user.trader, order_id=order_id))

    # --- deposits -------------------------------------------------------------------------------

    def _op_deposit(self) -> None:
        pending = [d for d in self.deposits.values() if d["confirmations"] <= world.REQUIRED_CONFIRMATIONS]
        choice = self.rng.random()
        if pending and choice < 0.35:
            deposit = self.rng.choice(pending)
            deposit["confirmations"] = self.rng.randint(deposit["confirmations"], world.REQUIRED_CONFIRMATIONS + 1)
        elif self.deposits and choice < 0.5:
            deposit = self.rng.choice(list(self.deposits.values()))  # custody re-sends: a fresh signature
        elif self.sent_reports and choice < 0.6:
            self._client(lambda report=self.rng.choice(self.sent_reports): world.deliver(report))  # exact replay
            return
        else:
            user = self.rng.choice(self.users)
            token = self.rng.choice(list(world.TOKENS))
            amount = {"BTC": D("0.001"), "ETH": D("0.01"), "USDT": D("1")}[token] * self.rng.randint(10, 2000)
            deposit = {"user": user, "token": token, "amount": amount, "tx_hash": self._next_id("0xdep"),
                       "confirmations": self.rng.randint(0, world.REQUIRED_CONFIRMATIONS)}
            self.deposits[deposit["tx_hash"]] = deposit
        report = world.deposit_report(deposit["user"], deposit["token"], deposit["amount"], deposit["confirmations"],
                                      deposit["tx_hash"])
        self.sent_reports = (self.sent_reports + [report])[-100:]
        outcome, _ = self._call(self.api_kill_rate, lambda: world.deliver(report))
        while outcome in ("died", "error"):  # custody keeps re-sending, signing each delivery afresh
            self.tally.retries += 1
            report = world.deposit_report(deposit["user"], deposit["token"], deposit["amount"],
                                          deposit["confirmations"], deposit["tx_hash"])
            outcome, _ = self._call(self.api_kill_rate / 2, lambda: world.deliver(report))
        self.tally.outcomes[outcome] += 1

    # --- withdrawals -------------------------------------------------------------------------------

    def _withdraw_args(self, user: world.User) -> dict:
        token = self.rng.choices(["USDT", "ETH", "BTC"], [70, 15, 15])[0]
        scale = self.rng.choices(["small", "review", "four_eyes"], [75, 20, 5])[0]
        ranges = {"USDT": {"small": (10, 450), "review": (501, 4000), "four_eyes": (5001, 8000)},
                  "ETH": {"small": (1, 150), "review": (201, 1500), "four_eyes": (2001, 2500)},
                  "BTC": {"small": (1, 90), "review": (101, 900), "four_eyes": (1001, 1200)}}[token][scale]
        unit = {"USDT": D("1"), "ETH": D("0.01"), "BTC": D("0.001")}[token]
        address = world.EXTERNAL_ADDRESS
        if self.rng.random() < 0.1:
            address = self.rng.choice([u for u in self.users if u is not user]).addresses[token]
        return {"token": token, "amount": unit * self.rng.randint(*ranges), "address": address, "chain": world.CHAIN}

    def _op_withdraw(self) -> None:
        user = self.rng.choice(self.users)
        account = user.holder.account_id
        reusable = [key for key in self.withdraw_requests if key[0] == account]
        if reusable and self.rng.random() < 0.15:
            key = self.rng.choice(reusable)
            args = self.withdraw_requests[key].args if self.rng.random() < 0.65 else self._withdraw_args(user)
        else:
            key = (account, self._next_id("w"))
            args = self._withdraw_args(user)
        request = self.withdraw_requests.setdefault(key, Request(args))
        outcome, value = self._client(
            lambda: withdrawals.create_withdrawal(user.holder, client_order_id=key[1], **args))
        self._judge_replay("withdrawal", request, args, outcome, value, "withdrawal_id")
        if outcome == "ok" and (user, value["withdrawal_id"]) not in self.withdrawal_ids:
            self.withdrawal_ids.append((user, value["withdrawal_id"]))

    def _op_cancel_withdrawal(self) -> None:
        if self.withdrawal_ids:
            user, withdrawal_id = self.rng.choice(self.withdrawal_ids)
            self._client(lambda: withdrawals.cancel_withdrawal(user.holder, withdrawal_id))

    def _op_review(self) -> None:
        org_id = self.rng.choice(world.ORGS)
        outcome, waiting = self._call(0, lambda: list(custody_store.awaiting_review(org_id, limit=50)))
        if outcome != "ok" or not waiting:
            return
        target = self.rng.choice(waiting)
        admin = self.rng.choice(["adm1", "adm2", "adm3"])
        if self.rng.random() < 0.15:
            self._client(lambda: withdrawals.reject(org_id, target.withdrawal_id, admin, "fault harness"))
        else:
            self._client(lambda: withdrawals.approve(org_id, target.withdrawal_id, admin))

    def _op_withdrawal_report(self) -> None:
        received = list(gateway.simulator().broadcasts)
        if not received:
            return
        request_id = self.rng.choice(received)
        status = self.rng.choices(["auditing", "broadcast", "confirmed", "failed", "audit_rejected"],
                                  [15, 25, 40, 12, 8])[0]
        outcome, _ = "died", None
        while outcome in ("died", "error"):
            report = gateway.simulator().withdrawal_report(request_id, status, confirmations=self.rng.randint(0, 20))
            outcome, _ = self._call(self.api_kill_rate, lambda: world.deliver(report))
            if outcome in ("died", "error"):
                self.tally.retries += 1
        self.tally.outcomes[outcome] += 1

    def _op_custody_fault(self) -> None:
        gateway.simulator().fail_next_broadcast(self.rng.choice(["lost_answer", "lost_request", "refuse"]))

    # --- deliveries -------------------------------------------------------------------------------

    def _deliver(self, channel: FifoChannel, handler: Callable[[dict], dict], kill_rate: float) -> bool:
        channel.pull()
        batch = channel.next_batch()
        if not batch:
            return False
        if self.rng.random() < 0.05:
            self.killer.restart()  # Lambda moved the group to a cold container
        # A message that keeps failing goes to the dead-letter queue after a few receives (a
        # designed stop for poison); transient errors are therefore only injected on first receives.
        first_receive = all(m.receive_count == 1 for m in batch)
        if self.rng.random() < kill_rate:
            self.killer.arm_random(allow_error=first_receive)
        try:
            answer = handler({"Records": [m.record(channel.arn) for m in batch]})
            channel.settle(batch, False, {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])})
        except ProcessDeath:
            self.tally.crashes += 1
            self.killer.restart()
            channel.settle(batch, True, set())
        except Exception as error:  # the Lambda failed as a whole: SQS redelivers the batch
            self.tally.unexpected.append(f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=8)}")
            channel.settle(batch, True, set())
        finally:
            self.killer.disarm()
        return True

    def _op_deliver_matching(self) -> None:
        self._deliver(self.matching, matcher_worker.handle_batch, self.worker_kill_rate)

    def _op_deliver_custody(self) -> None:
        self._deliver(self.custody, custody_worker.handle_batch, self.worker_kill_rate)

    def _op_duplicate(self) -> None:
        self.matching.pull()
        self.custody.pull()
        channel = self.matching if self.rng.random() < 0.75 else self.custody
        channel.duplicate()

    def _op_sweep(self) -> None:
        job = self.rng.choice([lambda: orders.requeue_stale_work(min_age_seconds=0),
                               lambda: withdrawals.requeue_stale(min_age_seconds=0),
                               lambda: events.relay_pending(min_age_seconds=0)])
        outcome, _ = self._call(self.worker_kill_rate, job)
        self.tally.outcomes[outcome] += 1

    # --- the end ------------------------------------------------------------------------------------

    def drain(self, rounds: int = 60) -> None:
        """Without faults: sweep and deliver until nothing is left to do."""
        self.killer.disarm()
        for _ in range(rounds):
            events.relay_pending(min_age_seconds=0)
            orders.requeue_stale_work(min_age_seconds=0)
            withdrawals.requeue_stale(min_age_seconds=0)
            delivered = False
            while self._deliver(self.matching, matcher_worker.handle_batch, 0):
                delivered = True
            while self._deliver(self.custody, custody_worker.handle_batch, 0):
                delivered = True
            events.relay_pending(min_age_seconds=0)
            if not delivered and not self._work_left():
                return

    def _work_left(self) -> bool:
        pending = any(order_store.pending_work(m.symbol, 10 ** 15) for m in world.MARKETS)
        sending = any(custody_store.get_withdrawal(int(w)).state in (WithdrawalState.QUEUED, WithdrawalState.SENDING)
                      for _, w in self.withdrawal_ids)
        return pending or sending or len(self.matching) > 0 or len(self.custody) > 0

    def summary(self) -> dict:
        return {
            "seed": self.seed, "operations": sum(self.tally.operations.values()),
            "by_kind": dict(self.tally.operations), "crashes_injected": self.tally.crashes,
            "kills_by_point": dict(self.killer.kills),
            "duplicates_delivered": self.matching.duplicates_delivered + self.custody.duplicates_delivered,
            "redeliveries": self.matching.redeliveries + self.custody.redeliveries,
            "client_retries": self.tally.retries, "outcomes": dict(self.tally.outcomes),
            "business_errors": dict(self.tally.business_errors),
            "orders": len(self.orders), "withdrawals": len(self.withdrawal_ids), "deposits": len(self.deposits),
        }


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started
