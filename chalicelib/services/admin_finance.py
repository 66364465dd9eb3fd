"""The Admin API's finance desk: where an org's money is, what it earned, and the moves
an operator may make with it.

Every move is a conserved set of ledger postings (services/ledger.py) committed with its
idempotency record; nothing here creates value.

* totals: per token, the org's users' balances (available, locked, lock-up), its fee
  accounts, its operating account and its custody account (which stands for everything
  held outside the platform, so it is negative by what the platform holds).
* fee income: the fee accounts' incoming flows, by day, hour or minute, per token and
  source (a trading symbol, or withdrawals).
* operating account: its balances; funding moves value into it from the custody account
  (the broker put its own money into the platform's wallets) or from one of its users.
* airdrop: up to MAX_AIRDROP_ITEMS rows, each to a user's available balance or lock-up,
  all from the operating account. The rows are cut into chunks that each fit one
  transaction; each chunk commits all its rows or none, keyed `<operation id>#<n>`,
  and a summary record closes the batch. Before anything moves, the rows still to pay are
  checked against the operating balance, so an airdrop the account cannot cover is
  refused whole. Should the balance still run short part-way (a concurrent withdrawal
  from the operating account), the chunks already committed stay paid and the call fails;
  retrying with the same operation id pays only the chunks still missing.
* lock / unlock: a user's available balance into lock-up and back (through
  services/org_finance.py, under operation ids of their own namespace).
* flows: the balance flows of one of the org's accounts, newest first, cursor-paged.
* reconciliation: the platform-wide zero-sum check per token, and every balance of this
  org whose flows do not add up.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator, Optional

from chalicelib.domain import ledger as rules
from chalicelib.domain import money
from chalicelib.domain.errors import (
    AmountOffPrecision,
    IdempotencyMismatch,
    InsufficientBalance,
    InvalidParameter,
    MissingParameter,
    NotFound,
)
from chalicelib.domain.events import Event, org_stream
from chalicelib.domain.ledger import AccountKind, Movement, Posting, Subject
from chalicelib.domain.settlement import FEE_SHARDS
from chalicelib.services import catalog, idempotency, ledger, org_finance, users
from chalicelib.store import accounts
from chalicelib.store import idempotency as records
from chalicelib.store import ledger as ledger_store
from chalicelib.store.transaction import Transaction

ZERO = Decimal(0)
MAX_AIRDROP_ITEMS = 500
# Writes a chunk may use besides its idempotency record and event outbox.
CHUNK_BUDGET = 96
GRANULARITIES = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}
MAX_BUCKETS = 744
FLOW_PAGE = 500
_OPS = "adminop"  # namespace of operation ids passed to services shared with the Org API


def _text(amount: Decimal) -> str:
    return money.text(amount)


def _checked_amount(org: catalog.OrgView, token: str, amount: Decimal, param: str = "amount") -> Decimal:
    precision = org.token(token).precision
    rules.require_positive(amount, param)
    if precision > 0 and not money.on_grid(amount, precision):
        raise AmountOffPrecision(param)
    return amount


def fee_accounts(org_id: str) -> list[str]:
    return [rules.fee_account(org_id, shard) for shard in range(FEE_SHARDS)]


# --- totals ----------------------------------------------------------------------------------------

def _org_of(account_id: str, cache: dict[str, Optional[str]]) -> Optional[str]:
    if account_id not in cache:
        owner = accounts.owner_of(account_id)
        cache[account_id] = owner.org_id if owner else None
    return cache[account_id]


def token_totals(org_id: str) -> list[dict]:
    """One row per token the org lists or holds. A full pass over the balances (as the
    reconciliation makes): meant for an operator's screen, not a hot path."""
    parts = ("available", "locked", "position")
    sums: dict[str, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(lambda: [ZERO, ZERO, ZERO]))
    holders: dict[str, int] = defaultdict(int)
    owners: dict[str, Optional[str]] = {}
    for bal in ledger_store.scan_balances():
        if _org_of(bal.account_id, owners) != org_id:
            continue
        kind = rules.account_kind(bal.account_id)
        group = {AccountKind.USER: "users", AccountKind.FEE: "fee", AccountKind.OPERATING: "operating",
                 AccountKind.CUSTODY: "custody"}[kind]
        row = sums[bal.token][group]
        row[0] += bal.available
        row[1] += bal.locked
        row[2] += bal.position
        if kind is AccountKind.USER and bal.total > 0:
            holders[bal.token] += 1
    result = []
    for token in sorted(set(catalog.org(org_id).tokens) | set(sums)):
        groups = sums[token]
        row = {"token_id": token, "user_holders": holders[token]}
        for group in ("users", "fee", "operating", "custody"):
            values = groups[group]
            row[group] = {**{name: _text(v) for name, v in zip(parts, values)}, "total": _text(sum(values, ZERO))}
        row["platform_held"] = _text(sum((sum(groups[g], ZERO) for g in ("users", "fee", "operating")), ZERO))
        result.append(row)
    return result


# --- fee income ------------------------------------------------------------------------------------

def check_range(granularity: str, start_ms: Optional[int], end_ms: Optional[int], now_ms: int) -> tuple[int, int]:
    """Bucket starts of the first and last bucket; the last defaults to now, the first to
    29 buckets before it."""
    if granularity not in GRANULARITIES:
        raise InvalidParameter("granularity", "Granularity must be day, hour or minute")
    size = GRANULARITIES[granularity]
    end = (end_ms if end_ms is not None else now_ms) // size * size
    start = start_ms // size * size if start_ms is not None else end - 29 * size
    if start > end:
        raise InvalidParameter("start_time", "start_time is after end_time")
    if (end - start) // size >= MAX_BUCKETS:
        raise InvalidParameter("start_time", f"A series covers at most {MAX_BUCKETS} buckets")
    return start, end


def _flows_between(account_id: str, start_ms: int, end_ms: int) -> Iterator[ledger_store.Flow]:
    before_id = None
    while True:
        page = ledger.flows(account_id, before_id=before_id, start_ms=start_ms, end_ms=end_ms, limit=FLOW_PAGE)
        yield from page
        if len(page) < FLOW_PAGE:
            return
        before_id = page[-1].flow_id


def fee_source(reference: str) -> str:
    """What a fee was earned on, from its flow's reference: the symbol of a trade
    (`match:<symbol>:<n>`), or `withdrawal`."""
    kind, _, rest = reference.partition(":")
    if kind == "match":
        return rest.split(":", 1)[0]
    return kind or "other"


def fee_income(org_id: str, *, granularity: str, start_ms: Optional[int] = None, end_ms: Optional[int] = None,
               now_ms: int, token: Optional[str] = None) -> list[dict]:
    """Fees the org's fee accounts received, per bucket, token and source, oldest first;
    buckets without income are left out."""
    start, end = check_range(granularity, start_ms, end_ms, now_ms)
    size = GRANULARITIES[granularity]
    buckets: dict[tuple[int, str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[int, str, str], int] = defaultdict(int)
    for account_id in fee_accounts(org_id):
        for flow in _flows_between(account_id, start, end + size - 1):
            if flow.change <= 0 or (token and flow.token != token):
                continue
            key = (flow.created_at // size * size, flow.token, fee_source(flow.reference))
            buckets[key] += flow.change
            counts[key] += 1
    return [{"time": bucket, "token_id": tok, "source": source, "amount": _text(amount),
             "flow_count": counts[(bucket, tok, source)]}
            for (bucket, tok, source), amount in sorted(buckets.items())]


# --- operating account -------------------------------------------------------------------------------

def _balance_view(balance: rules.Balance) -> dict:
    return {"token_id": balance.token, "available": _text(balance.available), "locked": _text(balance.locked),
            "position": _text(balance.position), "total": _text(balance.total)}


def operating_balances(org_id: str) -> list[dict]:
    return [_balance_view(b) for b in sorted(ledger.balances(rules.operating_account(org_id)),
                                             key=lambda b: b.token)]


def operating_balance(org_id: str, token: str) -> dict:
    return _balance_view(ledger.balance(rules.operating_account(org_id), token))


def fund_operating(org_id: str, *, token: str, amount: Decimal, from_uid: Optional[str] = None,
                   operation_id: str) -> dict:
    """Moves `amount` into the operating account from custody, or from a user's balance."""
    org = catalog.org(org_id)
    _checked_amount(org, token, amount)
    source = users.get_user(org_id, from_uid).main_account_id if from_uid else rules.custody_account(org_id)
    target = rules.operating_account(org_id)
    payload = {"token": token, "amount": str(amount), "from_uid": from_uid}

    def build(tx: Transaction) -> dict:
        ledger.stage(tx, rules.postings(Subject.TRANSFER, rules.transfer(source, target, token, amount)),
                     reference=f"operating-fund:{operation_id}")
        return {"token_id": token, "amount": _text(amount), "from": from_uid or "custody",
                "operation_id": operation_id}

    return idempotency.run(f"adminfund:{org_id}", operation_id, payload, build)


# --- airdrop -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AirdropItem:
    uid: str
    token: str
    amount: Decimal
    to_lock: bool = False

    def key(self) -> list:
        return [self.uid, self.token, str(self.amount), self.to_lock]


def chunk_items(items: list[AirdropItem], budget: int = CHUNK_BUDGET) -> list[list[AirdropItem]]:
    """Cuts the rows in order so each chunk's writes fit one transaction: per row a flow
    and (first time its balance appears) the balance; per token the source's balance and
    its flow."""
    chunks: list[list[AirdropItem]] = []
    current: list[AirdropItem] = []
    seen: set[tuple] = set()
    used = 0
    for item in items:
        cost = 1 + ((item.uid, item.token) not in seen) + 2 * (("source", item.token) not in seen)
        if current and used + cost > budget:
            chunks.append(current)
            current, seen, used = [], set(), 0
            cost = 4
        current.append(item)
        seen |= {(item.uid, item.token), ("source", item.token)}
        used += cost
    if current:
        chunks.append(current)
    return chunks


def _totals(items: list[AirdropItem]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        totals[item.token] += item.amount
    return dict(totals)


def airdrop(org_id: str, items: list[AirdropItem], *, desc: str = "", operation_id: str) -> dict:
    if not items:
        raise MissingParameter("items")
    if len(items) > MAX_AIRDROP_ITEMS:
        raise InvalidParameter("items", f"At most {MAX_AIRDROP_ITEMS} rows per airdrop")
    if not operation_id:
        raise MissingParameter("operation_id")
    org = catalog.org(org_id)
    for index, item in enumerate(items):
        _checked_amount(org, item.token, item.amount, f"items[{index}].amount")
    desc = (desc or "")[:200]
    payload = {"desc": desc, "items": [item.key() for item in items]}
    scope, chunk_scope = f"adminairdrop:{org_id}", f"adminairdropchunk:{org_id}"
    stored = records.get(scope, operation_id)
    if stored is not None:
        return idempotency.run(scope, operation_id, payload, lambda tx: {})  # the first answer, or a mismatch
    accounts_of = {}
    for uid in dict.fromkeys(item.uid for item in items):
        try:
            accounts_of[uid] = users.get_user(org_id, uid).main_account_id
        except NotFound:
            raise InvalidParameter("items", f"User '{uid}' is not a user of this broker") from None
    batch_hash = idempotency.payload_hash(payload)
    chunks = chunk_items(items)
    source = rules.operating_account(org_id)

    def chunk_done(index: int) -> bool:
        done = records.get(chunk_scope, f"{operation_id}#{index}")
        if done is not None and done.response.get("batch") != batch_hash:
            raise IdempotencyMismatch()
        return done is not None

    missing = [index for index in range(len(chunks)) if not chunk_done(index)]
    for token, needed in _totals([item for i in missing for item in chunks[i]]).items():
        held = ledger.balance(source, token).available
        if held < needed:
            raise InsufficientBalance(f"The operating account holds {_text(held)} {token}; "
                                      f"the airdrop needs {_text(needed)}", token=token)

    def pay(index: int, chunk: list[AirdropItem]) -> None:
        def build(tx: Transaction) -> dict:
            entries = [Posting(Movement(source, token, available=-total), Subject.AIRDROP)
                       for token, total in _totals(chunk).items()]
            for item in chunk:
                part = "position" if item.to_lock else "available"
                entries.append(Posting(Movement(accounts_of[item.uid], item.token, **{part: item.amount}),
                                       Subject.AIRDROP))
                tx.emit(Event(org_stream(org_id), "org.userReceiveAirdrop", {
                    "uid": item.uid, "token_id": item.token, "amount": _text(item.amount),
                    "to_lock": item.to_lock, "airdrop_id": operation_id, "desc": desc, "source": "admin"},
                    org_id, item.uid))
            ledger.stage(tx, entries, reference=f"adminairdrop:{operation_id}")
            return {"batch": batch_hash, "chunk": index, "items": len(chunk)}

        idempotency.run(chunk_scope, f"{operation_id}#{index}", {"batch": batch_hash, "chunk": index}, build)

    for index in missing:
        pay(index, chunks[index])

    def close(tx: Transaction) -> dict:
        summary = {"airdrop_id": operation_id, "desc": desc, "item_count": len(items), "chunks": len(chunks),
                   "totals": {token: _text(total) for token, total in sorted(_totals(items).items())}}
        tx.emit(Event(org_stream(org_id), "org.airdrop", {**summary, "status": 1, "source": "admin"}, org_id))
        return summary

    return idempotency.run(scope, operation_id, payload, close)


# --- lock-up -----------------------------------------------------------------------------------------

def lock(org_id: str, uid: str, token: str, amount: Decimal, *, desc: str = "", operation_id: str) -> dict:
    _checked_amount(catalog.org(org_id), token, amount)
    answer = org_finance.lock(org_id, uid, token, amount, desc=desc, operation_id=f"{_OPS}:{operation_id}")
    return {**answer, "client_order_id": operation_id}


def unlock(org_id: str, uid: str, token: str, amount: Decimal, *, desc: str = "", operation_id: str) -> dict:
    _checked_amount(catalog.org(org_id), token, amount)
    answer = org_finance.unlock(org_id, uid, token, amount, desc=desc, operation_id=f"{_OPS}:{operation_id}")
    return {**answer, "client_order_id": operation_id}


def user_balance(org_id: str, uid: str, token: str) -> dict:
    return _balance_view(ledger.balance(users.get_user(org_id, uid).main_account_id, token))


# --- flows ---------------------------------------------------------------------------------------------

SYSTEM_ACCOUNTS = ("operating", "custody") + tuple(f"fee:{shard}" for shard in range(FEE_SHARDS))


def resolve_account(org_id: str, *, uid: Optional[str] = None, account: Optional[str] = None) -> str:
    """A user's main account, or one of the org's system accounts by role (`operating`,
    `custody`, `fee:<shard>`). Never an account of another org."""
    if bool(uid) == bool(account):
        raise InvalidParameter("account", "Give either uid or account")
    if uid:
        return users.get_user(org_id, uid).main_account_id
    if account not in SYSTEM_ACCOUNTS:
        raise InvalidParameter("account", f"account is one of {', '.join(SYSTEM_ACCOUNTS)}")
    return f"{org_id}{rules.SYSTEM_SEPARATOR}{account}"


def flow_view(flow: ledger_store.Flow) -> dict:
    return {"flow_id": str(flow.flow_id), "token_id": flow.token, "subject": flow.subject,
            "subject_name": _subject_name(flow.subject), "available_change": _text(flow.available_change),
            "locked_change": _text(flow.locked_change), "position_change": _text(flow.position_change),
            "change": _text(flow.change), "total_after": _text(flow.total_after), "reference": flow.reference,
            "created_at": flow.created_at}


def _subject_name(subject: int) -> str:
    try:
        return Subject(subject).name
    except ValueError:
        return str(subject)


def flows(org_id: str, *, uid: Optional[str] = None, account: Optional[str] = None, token: Optional[str] = None,
          before_id: Optional[int] = None, start_ms: Optional[int] = None, end_ms: Optional[int] = None,
          limit: int = 50) -> dict:
    """Newest first; `next_before_id` (the last flow id) pages on, None at the end."""
    account_id = resolve_account(org_id, uid=uid, account=account)
    page = ledger.flows(account_id, token=token, before_id=before_id, start_ms=start_ms, end_ms=end_ms,
                        limit=limit + 1)
    more = len(page) > limit
    page = page[:limit]
    return {"list": [flow_view(f) for f in page], "next_before_id": str(page[-1].flow_id) if more and page else None}


# --- reconciliation ------------------------------------------------------------------------------------

def reconciliation(org_id: str) -> dict:
    """Zero sum is a platform property (orders of different orgs meet in one book, so an
    org's own accounts need not sum to zero): its result is given per token as a flag; the
    balance checks are this org's accounts only."""
    report = ledger.reconcile()
    owners: dict[str, Optional[str]] = {}
    mismatched = [row for row in report.mismatched_balances if _org_of(row["account_id"], owners) == org_id]
    tokens = sorted(set(report.token_totals) | set(catalog.org(org_id).tokens))
    return {
        "ok": not report.unbalanced_tokens and not mismatched,
        "tokens": [{"token_id": token, "zero_sum": token not in report.unbalanced_tokens} for token in tokens],
        "mismatched_balances": mismatched,
    }
