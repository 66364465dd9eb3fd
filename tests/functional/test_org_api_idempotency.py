"""Every uplink replayed with the same operation id has one effect; the same id with
another payload is refused (6001) and changes nothing."""
from __future__ import annotations

from decimal import Decimal

from chalicelib import settings
from chalicelib.domain.events import org_stream, user_stream
from chalicelib.gateways import aws, notifier
from chalicelib.services import api_keys, events, ledger
from chalicelib.store import ledger as ledger_store
from tests.functional.test_org_api_support import (  # noqa: F401  (fixtures)
    assert_conserved, body, drain_matcher, http, new_user, org_a, seeded,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(300)
APK = b"PK\x03\x04" + bytes(300)


def effects(uids):
    s3 = aws.client("s3").list_objects_v2(Bucket=settings.uploads_bucket()).get("KeyCount", 0)
    return {
        "org_events": events.last_id(org_stream("7002")),
        "user_events": [events.last_id(user_stream(uid)) for uid in uids],
        "flows": sum(1 for _ in ledger_store.scan_flows()),
        "keys": [len(api_keys.list_user_keys("7002", uid)) for uid in uids],
        "mails": len(notifier.read_outbox("7002", limit=200)), "s3": s3,
    }


def comparable(answer):
    """An answer without what is fresh on every call (presigned URLs) or shown once (a secret)."""
    return {k: v for k, v in answer.items() if k not in ("url", "upload_fields", "upload_url", "secret")} \
        if isinstance(answer, dict) else answer


def test_every_uplink_replayed_has_one_effect_and_another_payload_under_its_id_is_refused(org_a):
    alice = new_user(org_a, "alice", funds={"USDT": "100000", "BTC": "2", "ETH": "5"})
    bob = new_user(org_a, "bob", funds={"BTC": "1"})
    a, b = alice["uid"], bob["uid"]
    # a last price for convert and a rate for mapping
    org_a.asset.ok("/trade/spot/createOrder", {"uid": b, "symbol_id": "BTCUSDT", "side": "sell", "quantity": "0.01",
                                               "price": "30000", "client_order_id": "px-s"})
    drain_matcher()
    org_a.asset.ok("/trade/spot/createOrder", {"uid": a, "symbol_id": "BTCUSDT", "side": "buy", "quantity": "0.01",
                                               "price": "30000", "client_order_id": "px-b"})
    drain_matcher()
    org_a.asset.ok("/updateSettings", {"token_id": "ETH", "target_token_id": "USDT", "mapping_rate": "1500",
                                       "client_order_id": "rate"})
    resting = org_a.asset.ok("/trade/spot/createOrder", {"uid": a, "symbol_id": "BTCUSDT", "side": "buy",
                                                         "quantity": "0.01", "price": "100", "client_order_id": "rest"})
    drain_matcher()

    uplinks = [  # (path, params, a change of payload)
        ("/user/registerUser", {"email": "carol@7002.test", "password": "Secret-pass-1"}, {"email": "c2@7002.test"}),
        ("/user/updateInfo", {"uid": a, "anti_phishing_code": "abc"}, {"anti_phishing_code": "xyz"}),
        ("/user/updateKYCInfo", {"uid": a, "country_code": "KR", "first_name": "A", "last_name": "B",
                                 "card_no": "C1234567"}, {"first_name": "Z"}),
        ("/user/verifyKYC", {"uid": a, "passed": "1"}, {"passed": "0"}),
        ("/user/frozenUser", {"uid": b, "frozen": "1"}, {"frozen": "0"}),
        ("/user/updateFavorite", {"uid": a, "symbol_id": "ETHUSDT"}, {"symbol_id": "BTCUSDT"}),
        ("/user/createOpenAPI", {"uid": a, "label": "bot"}, {"label": "other"}),
        ("/user/sendNotice", {"uid": a, "title": "t", "content": "push"}, {"content": "else"}),
        ("/user/sendNotice", {"uid": a, "channel": "email", "title": "t", "content": "mail"}, {"content": "x"}),
        ("/account/frozenUser", {"uid": a, "token_id": "USDT", "amount": "10", "frozen": "1"}, {"amount": "11"}),
        ("/account/createWithdraw", {"uid": a, "token_id": "USDT", "amount": "20", "address": "0x" + "ab" * 20},
         {"amount": "21"}),
        ("/trade/frozenUser", {"uid": b, "symbol_id": "ETHBTC", "frozen": "1"}, {"symbol_id": "ETHUSDT"}),
        ("/trade/spot/createOrder", {"uid": a, "symbol_id": "BTCUSDT", "side": "buy", "quantity": "0.01",
                                     "price": "200"}, {"price": "201"}),
        ("/trade/spot/cancelOrder", {"uid": a, "order_id": resting["order_id"]}, None),
        ("/finance/airdrop", {"uid": a, "token_id": "USDT", "amount": "5"}, {"amount": "6"}),
        ("/finance/airdrop", {"data_type": "simple", "items": f"{a},USDT,1;{b},BTC,0.001,true"},
         {"items": f"{a},USDT,2"}),
        ("/finance/lock", {"uid": a, "token_id": "BTC", "amount": "0.5"}, {"amount": "0.6"}),
        ("/finance/unlock", {"uid": a, "token_id": "BTC", "amount": "0.2"}, {"amount": "0.3"}),
        ("/finance/convert", {"uid": a, "source_token_id": "USDT", "source_amount": "300", "target_token_id": "BTC",
                              "min_target_amount": "0.009"}, {"source_amount": "301"}),
        ("/finance/mapping", {"uid": a, "source_token_id": "ETH", "source_amount": "1", "target_token_id": "USDT"},
         {"source_amount": "2"}),
        ("/updateSettings", {"notify_cancel_order": "1"}, {"notify_cancel_order": "0"}),
    ]
    for n, (path, params, changed) in enumerate(uplinks):
        op = {"client_order_id": f"op-{n}"}
        first = org_a.asset.ok(path, {**params, **op})
        drain_matcher()
        after_first = effects([a, b])
        second = org_a.asset.ok(path, {**params, **op})
        drain_matcher()
        assert effects([a, b]) == after_first, path
        assert comparable(second) == comparable(first), path
        if changed is not None:
            other = org_a.asset.post(path, {**params, **changed, **op})
            assert (other.status_code, body(other)["code"]) == (400, 6001), (path, other.body)
            assert effects([a, b]) == after_first, path
    for kind, name, data in (("pic", "a.png", PNG), ("file", "a.apk", APK)):
        first = body(org_a.asset.upload(f"/{kind}/upload", {"client_order_id": f"up-{kind}"}, name, data))
        before = effects([a, b])
        assert comparable(body(org_a.asset.upload(f"/{kind}/upload", {"client_order_id": f"up-{kind}"}, name,
                                                  data))) == comparable(first)
        assert effects([a, b]) == before
    assert ledger.balance(alice["main_account_id"], "BTC").position == Decimal("0.3")
    assert_conserved()


def test_a_batch_airdrop_sent_four_times_at_once_pays_each_item_once(org_a):
    import threading

    from chalicelib.services import org_finance
    from chalicelib.services.org_finance import AirdropItem

    users = [new_user(org_a, f"r{n}") for n in range(3)]
    items = [AirdropItem(users[n % 3]["uid"], "USDT", Decimal("0.25")) for n in range(90)]
    answers, failures = [], []

    def send():
        try:
            answers.append(org_finance.airdrop("7002", items, operation_id="race-1"))
        except Exception as error:  # noqa: BLE001 - a retryable refusal is allowed, a double payment is not
            failures.append(error)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers and all(a == answers[0] for a in answers), (answers, failures)
    assert all(getattr(f, "retryable", False) for f in failures), failures
    assert [ledger.balance(u["main_account_id"], "USDT").available for u in users] == [Decimal("7.5")] * 3
    assert_conserved()
