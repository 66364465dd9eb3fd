"""Proof of liabilities end to end: roots published by the scheduled job, a user's own
proof fetched through the User API and checked by the standalone docs script."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal as D

import pytest

from chalicelib.domain import ledger as rules
from chalicelib.domain import merkle
from chalicelib.domain.errors import NotFound
from chalicelib.services import catalog, ledger, liabilities, users
from chalicelib.store import accounts
from chalicelib.store import liabilities as store
from chalicelib.store import users as user_store
from chalicelib.store.transaction import Transaction
from infra.local.seed import ORGS, PASSWORD, fund, seed_exchange, seed_org
from tests.functional.test_user_api_support import Browser, http, log_in  # noqa: F401  (fixtures)

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "verify_liability_proof.py")
MAIN, SECOND = "7002", "7003"


def user(org_id: str, email: str, **funds) -> dict:
    registered = users.register_user(org_id, email=email, password=PASSWORD, operation_id=f"test-{email}")
    fund(org_id, registered.main_account_id, {token: D(amount) for token, amount in funds.items()},
         f"test-fund-{email}")
    return {"uid": registered.uid, "account_id": registered.main_account_id, "email": email}


@pytest.fixture
def brokers():
    """Both demo orgs (hosts localhost and second.local); Alice and Bob at the first."""
    seed_exchange()
    for org in ORGS:
        seed_org(org)
    catalog.invalidate()
    yield {"alice": user(MAIN, "alice@demo.local", BTC="10", ETH="100"),
           "bob": user(MAIN, "bob@demo.local", BTC="2.5")}
    catalog.invalidate()


def verify(tmp_path, proof, root, *extra) -> tuple[int, str]:
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    (tmp_path / "root.json").write_text(json.dumps(root))
    done = subprocess.run([sys.executable, SCRIPT, str(tmp_path / "proof.json"), str(tmp_path / "root.json"), *extra],
                          capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout.strip()


def user_balances(org_id: str, token: str) -> dict[str, D]:
    return {u.uid: ledger.balance(u.main_account_id, token).total for u in user_store.for_org(org_id, limit=1000)}


def published(http, token: str, host: str = "localhost") -> list[dict]:
    answer = Browser(http, host=host).get("/api/asset/liability_root", {"token": token})  # public: no session
    assert answer.status == 200, answer
    return answer.json


def test_a_users_proof_verifies_against_the_published_root_and_fails_when_one_balance_changes(
        brokers, http, tmp_path):
    assert liabilities.recompute_all()["roots"] >= 2
    alice = log_in(http, "alice@demo.local")
    proof = alice.get("/api/asset/liability_proof", {"token": "BTC"})
    assert proof.status == 200, proof
    roots = Browser(http).get("/api/asset/liability_root").json
    assert [r["token"] for r in roots] == ["BTC", "ETH"]

    assert (proof.json["leaf"]["uid"], proof.json["leaf"]["balance"]) == (brokers["alice"]["uid"], "10")
    code, output = verify(tmp_path, proof.json, roots, "--balance", "10")
    assert (code, output.split(":")[0]) == (0, "OK"), output
    btc = roots[0]
    assert (btc["total"], btc["leafCount"]) == ("12.5", 2)

    richer = json.loads(json.dumps(proof.json))
    richer["leaf"]["balance"] = "11"
    code, output = verify(tmp_path, richer, roots)
    assert code == 1 and output.startswith("FAILED"), output
    [sibling] = proof.json["path"]  # two leaves: Bob's is the sibling, his 2.5 BTC without his uid
    assert (sibling["sum"], brokers["bob"]["uid"] in json.dumps(proof.json)) == ("2.5", False)
    poorer_sibling = json.loads(json.dumps(proof.json))
    poorer_sibling["path"][0]["sum"] = "1.5"
    code, output = verify(tmp_path, poorer_sibling, roots)
    assert code == 1 and output.startswith("FAILED"), output

    # a real change of one balance: the next root no longer matches the old proof
    fund(MAIN, brokers["bob"]["account_id"], {"BTC": D("0.5")}, "test-more-btc-for-bob")
    liabilities.recompute_all()
    [again] = published(http, "BTC")
    assert again["rootId"] != btc["rootId"] and again["total"] == "13"
    code, output = verify(tmp_path, proof.json, dict(again, rootId=btc["rootId"]))  # even under the old id
    assert code == 1 and "root hash" in output, output
    assert verify(tmp_path, alice.get("/api/asset/liability_proof", {"token": "BTC"}).json, [again])[0] == 0


def test_another_orgs_user_is_not_in_this_orgs_tree(brokers, http, tmp_path):
    carol = user(SECOND, "carol@second.local", BTC="3")
    liabilities.recompute_all()
    main_roots, second_roots = published(http, "BTC"), published(http, "BTC", host="second.local")

    assert (second_roots[0]["total"], second_roots[0]["leafCount"]) == ("3", 1)
    main_users = user_balances(MAIN, "BTC")
    assert carol["uid"] not in main_users
    assert D(main_roots[0]["total"]) == sum(main_users.values()) and main_roots[0]["leafCount"] == len(main_users)

    browser = Browser(http, host="second.local")
    assert browser.post("/api/user/authorize", {"username": carol["email"], "password": PASSWORD}).status == 200
    carols = browser.get("/api/asset/liability_proof", {"token": "BTC"})
    assert carols.status == 200 and carols.json["path"] == [], carols
    assert verify(tmp_path, carols.json, second_roots)[0] == 0
    code, output = verify(tmp_path, carols.json, main_roots)
    assert code == 1 and output.startswith("FAILED"), output
    with pytest.raises(NotFound):
        liabilities.proof(MAIN, carol["uid"], "BTC")
    # her session is no session at the first org, so she cannot ask its tree either
    browser.host = "localhost"
    assert browser.get("/api/asset/liability_proof", {"token": "BTC"}).status == 401


def test_a_user_cannot_fetch_another_users_proof_and_bad_parameters_are_clear_errors(brokers, http):
    liabilities.recompute_all()
    alice_uid, alice_account = brokers["alice"]["uid"], brokers["alice"]["account_id"]
    bob = log_in(http, "bob@demo.local")
    for stray in ({"uid": alice_uid}, {"user_id": alice_uid}, {"account_id": alice_account}):
        refused = bob.get("/api/asset/liability_proof", {"token": "BTC", **stray})
        assert (refused.status, refused.code) == (400, 2001), refused
        assert alice_uid not in refused.raw.decode()
    own = bob.post("/api/asset/liability_proof", {"token_id": "btc"})
    assert own.json["leaf"]["uid"] == brokers["bob"]["uid"] and alice_uid not in own.raw.decode()
    assert Browser(http).get("/api/asset/liability_proof", {"token": "BTC"}).status == 401

    assert bob.get("/api/asset/liability_proof").code == 2002
    assert bob.get("/api/asset/liability_proof", {"token": "BT C"}).code == 2001
    assert bob.get("/api/asset/liability_proof", {"token": "BTC", "root_id": "x"}).code == 2001
    assert bob.get("/api/asset/liability_proof", {"token": "DOGE"}).code == 2004
    assert bob.get("/api/asset/liability_proof", {"token": "BTC", "root_id": "123"}).code == 2004
    assert bob.get("/api/asset/liability_proof", {"token": "ETH"}).code == 2004  # Bob holds no ETH
    assert Browser(http).get("/api/asset/liability_root", {"token": "B$"}).code == 2001


def test_roots_keep_their_history_and_an_earlier_roots_proof_stays_answerable(brokers, http, tmp_path):
    from chalicelib.api.user.routes_liabilities import root_wire

    first = {r.token: r for r in liabilities.recompute()}
    liabilities.recompute()
    history = liabilities.history(MAIN, token="BTC")
    assert [r.root_id for r in history][1:] == [first["BTC"].root_id] and history[0].root_id > history[1].root_id
    alice = log_in(http, "alice@demo.local")
    earlier = alice.get("/api/asset/liability_proof", {"token": "BTC", "root_id": str(first["BTC"].root_id)}).json
    assert earlier["rootId"] == str(first["BTC"].root_id)
    assert verify(tmp_path, earlier, root_wire(first["BTC"]))[0] == 0
    # salts are fresh per root, so the same balance gives an unlinkable leaf
    latest = alice.get("/api/asset/liability_proof", {"token": "BTC"}).json
    assert latest["leaf"]["salt"] != earlier["leaf"]["salt"] and latest["leaf"]["balance"] == "10"


def test_operators_read_roots_with_system_totals_and_finance_may_recompute(brokers, http):
    from tests.functional.test_admin_support import STAFF_PASSWORD, admin_login, audit_rows, make_admin

    liabilities.recompute_all()
    for role in ("finance", "support"):
        make_admin(MAIN, role, [role])
    finance, support = admin_login(http, "finance", STAFF_PASSWORD), admin_login(http, "support", STAFF_PASSWORD)

    latest = finance.read("liabilities/roots", {"token_id": "btc"})
    assert latest.status == 200, latest
    [row] = latest.json["data"]["list"]
    [public] = published(http, "BTC")
    assert (row["root_id"], row["root_hash"], row["user_liabilities"]) == \
        (public["rootId"], public["rootHash"], public["total"])
    # what custody should hold is what users own here: nothing else was deposited
    assert (row["system_accounts"], row["custody_should_hold"], row["scan_drift"]) == \
        ({"custody": "-12.5"}, "12.5", "0")

    assert support.read("liabilities/roots").status == 403
    assert support.call("liabilities/recompute").status == 403
    recomputed = finance.call("liabilities/recompute")
    assert recomputed.status == 200, recomputed
    fresh = {r["token_id"]: r["root_id"] for r in recomputed.json["data"]["list"]}
    assert int(fresh["BTC"]) > int(row["root_id"]) and published(http, "BTC")[0]["rootId"] == fresh["BTC"]
    assert [r["action"] for r in audit_rows(action="liabilities/recompute")] == ["liabilities/recompute"]

    history = finance.read("liabilities/roots", {"scope": "history", "token_id": "BTC", "limit": 1}).json["data"]
    assert [r["root_id"] for r in history["list"]] == [fresh["BTC"]] and history["next_before_id"] == fresh["BTC"]
    older = finance.read("liabilities/roots", {"scope": "history", "token_id": "BTC",
                                               "before_id": history["next_before_id"]}).json["data"]
    assert [r["root_id"] for r in older["list"]] == [row["root_id"]]
    assert finance.read("liabilities/roots", {"scope": "all"}).code == 2001


# --- the service on its own: plain accounts, no orgs or users needed -------------------------

def holder(org_id: str, uid: str, **funds) -> str:
    tx = Transaction()
    accounts.stage_create(tx, accounts.AccountOwner(f"{uid}0", org_id, uid))
    tx.commit()
    fund(org_id, f"{uid}0", {token: D(amount) for token, amount in funds.items()}, f"test-holder-{uid}")
    return f"{uid}0"


def test_proofs_read_a_tree_stored_in_many_chunks(monkeypatch):
    """Small chunks: leaves and inner levels span several items, and every proof still verifies."""
    monkeypatch.setattr(liabilities, "CHUNK_SIZE", 4)
    holders = {f"90{i:02d}": D(i + 1) / 4 for i in range(11)}
    for uid, amount in holders.items():
        holder(SECOND, uid, ETH=amount)
    [root] = liabilities.recompute(SECOND)
    assert (root.token, root.leaf_count, root.total, root.chunk_size) == ("ETH", 11, sum(holders.values()), 4)
    public = merkle.Node(bytes.fromhex(root.root_hash), root.total)
    for uid, amount in holders.items():
        proof = liabilities.proof(SECOND, uid, "ETH")
        assert proof.amount == amount and proof.root.root_id == root.root_id
        assert merkle.verify(merkle.Leaf(proof.salt, uid, "ETH", amount).node, proof.path, public), uid
    with pytest.raises(NotFound):
        liabilities.proof(SECOND, "9999", "ETH")


def test_the_report_states_system_accounts_so_liabilities_compare_with_custody():
    holder(MAIN, "8001", BTC="4")
    holder(MAIN, "8002", BTC="1")
    ledger.post("test", "to-operating", rules.postings(rules.Subject.TRANSFER, rules.transfer(
        "80010", rules.operating_account(MAIN), "BTC", D("0.25"))))
    [report] = liabilities.reports(MAIN, liabilities.recompute(MAIN))
    custody = ledger.balance(rules.custody_account(MAIN), "BTC").total
    assert (report.root.total, custody) == (D("4.75"), D(-5))
    assert report.root.system_totals == {"custody": "-5", "operating": "0.25"}
    assert report.custody_should_hold == 5 and report.scan_drift == 0


def test_a_slower_recompute_never_moves_the_latest_root_back():
    holder(MAIN, "8001", BTC="4")
    [newer] = liabilities.recompute(MAIN)
    older = replace(newer, root_id=newer.root_id - 1, root_hash="00" * 32)
    assert store.publish_root(older) is False
    assert liabilities.proof(MAIN, "8001", "BTC").root.root_id == newer.root_id
    assert [r.root_id for r in liabilities.history(MAIN, token="BTC")] == [newer.root_id, older.root_id]


def test_the_hourly_schedule_publishes_roots():
    from chalice.test import Client

    from app import app

    holder(MAIN, "8001", BTC="4", USDT="10")
    holder(SECOND, "8002", ETH="1")
    [source] = [s for s in app.event_sources if getattr(s, "name", "") == "publish_liability_roots"]
    assert source.schedule_expression.to_string() == "rate(1 hour)"
    with Client(app, stage_name="test") as client:
        answer = client.lambda_.invoke("publish_liability_roots", client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    assert answer.payload == {"roots": 3, "orgs": 2, "leaves": 3}
    assert [r.token for r in liabilities.latest_roots(MAIN)] == ["BTC", "USDT"]
