import json
from decimal import Decimal as D

import pytest

from chalicelib.api.custody_callbacks import accept
from chalicelib.domain import ledger as money
from chalicelib.domain.custody import Holder
from chalicelib.domain.errors import (
    CallbackConflict,
    DepositNotAllowed,
    DepositNotFound,
    InvalidAddress,
    UnknownAccount,
)
from chalicelib.domain.ids import id_time_ms
from chalicelib.gateways import custody as gateway
from chalicelib.services import catalog, deposits, events, ledger, users
from chalicelib.store import catalog as listings

ORG, OTHER_ORG = "7002", "7003"
USDT_CHAINS = [{"chainType": "ERC20", "requiredConfirmNum": 3}, {"chainType": "TRC20"}]


@pytest.fixture(autouse=True)
def listed_tokens():
    gateway.reset()
    for token, chains in (("USDT", USDT_CHAINS), ("ETH", [{"chainType": "ERC20"}]), ("XRP", [{"chainType": "XRP"}])):
        listings.put_exchange_token(listings.ExchangeTokenRecord(
            exchange_id="301", token_id=token, name=token, full_name=token, precision=D("0.000001"),
            chains=json.dumps(chains)))
    for org_id in (ORG, OTHER_ORG):
        listings.put_org(listings.OrgRecord(org_id=org_id, name=f"Org {org_id}", exchange_id="301"))
        for token in ("USDT", "ETH", "XRP"):
            listings.put_org_token(listings.OrgTokenRecord(
                org_id=org_id, token_id=token, min_deposit=D(1), withdraw_fee=D(1), min_withdraw=D(2),
                max_withdraw_daily=D(1000), allow_deposit=not (org_id == OTHER_ORG and token == "ETH")))
    catalog.invalidate()
    yield
    gateway.reset()


def holder(org_id=ORG, name="alice") -> Holder:
    user = users.register_user(org_id, email=f"{name}@example.com", operation_id=f"reg-{name}")
    return Holder(org_id, user.uid, user.main_account_id)


def report(address, amount, confirmations, *, token="USDT", chain="ERC20", tx_hash="0xfeed", index=0, tag=None):
    callback = gateway.simulator().deposit_report(chain=chain, token=token, address=address, address_tag=tag,
                                                  amount=amount, confirmations=confirmations, tx_hash=tx_hash,
                                                  output_index=index)
    return accept(callback.path, callback.headers, callback.body)["data"]


def available(h: Holder, token="USDT") -> D:
    return ledger.balance(h.account_id, token).available


# --- addresses --------------------------------------------------------------------------------

def test_a_user_gets_one_stable_address_per_token_and_chain_and_never_another_users():
    alice, bob = holder(), holder(name="bob")
    first = deposits.deposit_address(alice, "USDT")
    assert first == deposits.deposit_address(alice, "USDT", "erc20")
    assert (first["chain"], first["required_confirmations"], first["min_deposit"]) == ("ERC20", 3, "1")
    assert first["address"].startswith("0x") and first["address_tag"] is None
    tron = deposits.deposit_address(alice, "USDT", "TRC20")
    assert tron["address"].startswith("T") and tron["required_confirmations"] == 20
    assert deposits.deposit_address(bob, "USDT")["address"] != first["address"]


def test_tokens_of_one_chain_may_share_the_users_address():
    alice = holder()
    assert deposits.deposit_address(alice, "ETH")["address"] == deposits.deposit_address(alice, "USDT")["address"]


def test_a_tagged_chain_gives_users_the_org_hub_address_with_a_tag_of_their_own():
    alice, bob = deposits.deposit_address(holder(), "XRP"), deposits.deposit_address(holder(name="bob"), "XRP")
    assert alice["need_address_tag"] and alice["address"] == bob["address"]
    assert alice["address_tag"] and alice["address_tag"] != bob["address_tag"]


def test_no_address_is_issued_where_the_org_does_not_allow_deposits_of_the_token():
    with pytest.raises(DepositNotAllowed):
        deposits.deposit_address(holder(OTHER_ORG), "ETH")


def test_an_account_that_is_not_the_callers_does_not_exist_for_them():
    alice, bob = holder(), holder(name="bob")
    with pytest.raises(UnknownAccount):
        deposits.deposit_address(Holder(ORG, alice.uid, bob.account_id), "USDT")


# --- crediting -----------------------------------------------------------------------------------

def test_a_deposit_waits_for_its_confirmations_and_is_then_credited_once_out_of_custody():
    alice = holder()
    address = deposits.deposit_address(alice, "USDT")["address"]
    pending = report(address, "25.5", 1)
    assert (pending["state"], pending["status"], available(alice)) == ("PENDING", 10, D(0))
    credited = report(address, "25.5", 3)
    assert (credited["state"], credited["status"], available(alice)) == ("CREDITED", 2, D("25.5"))
    report(address, "25.5", 9)
    report(address, "25.5", 2)
    assert available(alice) == D("25.5")
    assert ledger.balance(money.custody_account(ORG), "USDT").available == D("-25.5")
    assert deposits.deposit_detail(alice, credited["deposit_id"])["confirmations"] == 9
    assert ledger.reconcile().ok


def test_a_deposit_below_the_minimum_is_recorded_and_never_credited():
    alice = holder()
    address = deposits.deposit_address(alice, "USDT")["address"]
    ignored = report(address, "0.5", 12)
    assert (ignored["state"], ignored["status"]) == ("IGNORED", 10)
    assert available(alice) == D(0)
    assert [d["deposit_id"] for d in deposits.deposit_history(alice)] == [ignored["deposit_id"]]


def test_two_outputs_of_one_transaction_are_two_deposits():
    alice = holder()
    address = deposits.deposit_address(alice, "USDT")["address"]
    report(address, "2", 3, index=0)
    report(address, "3", 3, index=1)
    assert available(alice) == D(5)


def test_a_report_for_an_address_we_never_issued_is_refused_and_told_to_operators():
    with pytest.raises(InvalidAddress):
        report("0x" + "9" * 40, "10", 3)
    assert [e.type for e in events.replay("system")] == ["custody.unknownDepositAddress"]
    assert ledger.reconcile().token_totals == {}


def test_a_report_that_changes_the_amount_of_a_recorded_output_is_refused_and_changes_nothing():
    alice = holder()
    address = deposits.deposit_address(alice, "USDT")["address"]
    report(address, "10", 3)
    with pytest.raises(CallbackConflict):
        report(address, "1000", 3)
    assert available(alice) == D(10)
    assert "custody.depositConflict" in [e.type for e in events.replay("system")]


def test_crediting_tells_the_user_each_step_and_the_org_once():
    alice = holder()
    address = deposits.deposit_address(alice, "USDT")["address"]
    for confirmations in (1, 2, 3, 4):
        report(address, "7", confirmations)
    deposit_events = [e.payload["state"] for e in events.replay(f"user:{alice.uid}") if e.type == "deposit"]
    assert deposit_events == ["PENDING", "PENDING", "CREDITED"]
    notices = [e for e in events.replay(f"org:{ORG}") if e.type == "org.userDepositNotice"]
    assert [(n.payload["uid"], n.payload["amount"]) for n in notices] == [(alice.uid, "7")]


# --- reads -------------------------------------------------------------------------------------------

def test_history_is_newest_first_and_pages_by_id_token_and_time():
    alice = holder()
    usdt = deposits.deposit_address(alice, "USDT")["address"]
    ids = [report(usdt, "5", 3, tx_hash=f"0x{n}")["deposit_id"] for n in range(4)]
    eth = report(deposits.deposit_address(alice, "ETH")["address"], "2", 12, token="ETH", tx_hash="0xe")
    assert [d["deposit_id"] for d in deposits.deposit_history(alice)] == [eth["deposit_id"]] + ids[::-1]
    assert [d["deposit_id"] for d in deposits.deposit_history(alice, token="USDT", limit=2)] == ids[:1:-1]
    assert [d["deposit_id"] for d in deposits.deposit_history(alice, token="USDT", from_id=int(ids[2]),
                                                              to_id=int(ids[0]))] == [ids[1]]
    after_first = id_time_ms(int(ids[3]))
    assert {d["deposit_id"] for d in deposits.deposit_history(alice, start_ms=after_first)} >= {ids[3],
                                                                                                 eth["deposit_id"]}
    assert deposits.deposit_history(alice, end_ms=id_time_ms(int(ids[0])) - 1) == []


def test_a_user_never_sees_another_users_deposits():
    alice, bob = holder(), holder(name="bob")
    deposit = report(deposits.deposit_address(alice, "USDT")["address"], "5", 3)
    assert deposits.deposit_history(bob) == []
    with pytest.raises(DepositNotFound):
        deposits.deposit_detail(bob, deposit["deposit_id"])
    with pytest.raises(DepositNotFound):
        deposits.deposit_detail(alice, "not-a-number")


def test_an_org_lists_the_deposits_of_its_own_users_only():
    alice, carol = holder(), holder(OTHER_ORG, "carol")
    mine = report(deposits.deposit_address(alice, "USDT")["address"], "5", 3, tx_hash="0x1")
    report(deposits.deposit_address(carol, "USDT")["address"], "6", 3, tx_hash="0x2")
    assert [d["deposit_id"] for d in deposits.org_deposits(ORG)] == [mine["deposit_id"]]
    assert deposits.org_deposit(ORG, mine["deposit_id"])["uid"] == alice.uid
    with pytest.raises(DepositNotFound):
        deposits.org_deposit(OTHER_ORG, mine["deposit_id"])
