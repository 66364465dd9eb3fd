from decimal import Decimal as D

import pytest

from chalicelib.domain.ledger import custody_account, operating_account
from chalicelib.services import admins, api_keys, catalog, ledger, users
from infra.local.seed import seed_demo


@pytest.fixture
def seeded():
    catalog.invalidate()
    return seed_demo()


def test_seeding_twice_answers_the_same_credentials_and_duplicates_nothing(seeded):
    assert seed_demo() == seeded
    org_id = seeded["org"]["org_id"]
    assert len(users.list_users(org_id)) == 2
    assert len(api_keys.list_org_keys(org_id)) == 1
    assert len(admins.list_admins(org_id)) == 1
    for user in seeded["users"]:
        assert len(api_keys.list_user_keys(org_id, user["uid"])) == 1
        assert len(ledger.flows(user["account_id"])) == 4  # BTC, ETH, USDT and the Klip demo's KLAY


def test_the_seeded_ledger_reconciles_with_the_demo_balances(seeded):
    seed_demo()
    assert ledger.reconcile().ok
    for user in seeded["users"]:
        assert {b.token: b.available for b in ledger.balances(user["account_id"])} == {
            "BTC": D(10), "ETH": D(100), "USDT": D(1000000), "KLAY": D(1000)}
    assert ledger.balance(operating_account("7002"), "BTC").available == D(100)
    assert ledger.balance(custody_account("7002"), "USDT").available == D(-12000000)


def test_the_seeded_credentials_work(seeded):
    org_id = seeded["org"]["org_id"]
    for user in seeded["users"]:
        found = users.authenticate(org_id, user["email"], user["password"])
        assert found.uid == user["uid"] and found.main_account_id == user["account_id"]
        key = api_keys.authenticate_user_key(user["api_key"])
        assert (key.uid, key.secret, key.key_type, key.ip_whitelist) == (user["uid"], user["api_secret"], 1, ())
    org_key = api_keys.authenticate_org_key(seeded["org"]["api_key"])
    assert (org_key.org_id, org_key.level, org_key.secret) == (org_id, "asset", seeded["org"]["api_secret"])
    admin = seeded["admin"]
    assert admins.verify_admin_login(admin["org_id"], admin["username"], admin["password"]).roles == ("owner",)


def test_both_demo_orgs_list_every_token_and_symbol_of_exchange_301(seeded):
    assert seeded["exchange_id"] == "301"
    assert [(o["org_id"], o["name"]) for o in seeded["orgs"]] == [("7002", "Demo Broker"), ("7003", "Second Broker")]
    assert catalog.org_for_host("localhost:8000") == "7002"
    assert catalog.org_for_host("second.local") == "7003"
    for org_id in ("7002", "7003"):
        view = catalog.org(org_id)
        assert set(view.tokens) == {"BTC", "ETH", "USDT", "KLAY"}
        assert set(view.symbols) == {"BTCUSDT", "ETHUSDT", "ETHBTC"}
        assert view.symbol("BTCUSDT").fees.maker == D("0.001")
        assert view.token("USDT").min_deposit == D(1)
        assert {dict(chain)["chainType"] for chain in view.token("USDT").chains} == {"ERC20", "TRC20"}
    rules = catalog.exchange_rules("301", "ETHBTC")
    assert (rules.tick_size, rules.step_size, rules.base_precision) == (D("0.000001"), D("0.001"), D("0.00000001"))


def test_the_second_org_has_no_demo_users(seeded):
    assert users.list_users("7003") == []
    assert users.find_by_login("7003", "alice@demo.local") is None
