"""Every successful mutating admin call leaves exactly one audit row with before/after;
failures and refusals leave none; a replayed operation id adds none; nothing edits a row."""
from __future__ import annotations

from chalicelib.api.admin.http import ACTIONS
from chalicelib.store import audit as audit_store
from tests.functional.test_admin_support import (  # noqa: F401  (fixtures)
    ORG, audit_rows, clock, http, owner, seeded,
)


def test_no_action_edits_or_deletes_audit_rows_and_the_store_offers_no_way_to():
    assert not [name for name in ACTIONS if name.startswith("audit/") and name != "audit/query"]
    assert not [name for name in dir(audit_store) if name.startswith(("update", "delete", "remove"))]


def test_a_representative_walk_of_mutating_actions_leaves_one_row_each_with_before_and_after(seeded, owner):
    uid = seeded["users"][0]["uid"]
    calls = [
        ("admins/create", {"username": "sam", "password": "Sam-pass-1234", "roles": "support",
                           "operation_id": "c1"}),
        ("admins/set_roles", {"username": "sam", "roles": "support,reviewer"}),
        ("admins/disable", {"username": "sam"}),
        ("whitelist/add", {"ip": "127.0.0.1", "note": "desk"}),
        ("listing/symbol_halt", {"symbol": "ETHBTC"}),
        ("listing/token_update", {"token_id": "ETH", "withdraw_fee": "0.01"}),
        ("users/freeze_login", {"uid": uid, "frozen": "true", "operation_id": "f1"}),
        ("users/freeze_trade", {"uid": uid, "frozen": "true", "symbol": "ETHBTC", "operation_id": "f2"}),
        ("users/freeze_withdraw", {"uid": uid, "frozen": "true"}),
        ("users/disable_api_keys", {"uid": uid}),
    ]
    for name, params in calls:
        answer = owner.call(name, params)
        assert answer.status == 200, (name, answer)
        rows = audit_rows(action=name)
        assert len(rows) == 1, (name, rows)
        row = rows[0]
        assert (row["username"], row["source_ip"]) == ("admin", "127.0.0.1") and row["target"], row
        assert row["after"] is not None and row["time"] > 0, row
    assert audit_rows(action="admins/create")[0]["params"]["password"] == "***"
    assert audit_rows(action="admins/disable")[0]["before"]["enabled"] is True
    assert audit_rows(action="admins/disable")[0]["after"]["enabled"] is False
    assert audit_rows(action="users/freeze_login")[0]["before"]["login_frozen"] is False
    keys = audit_rows(action="users/disable_api_keys")[0]
    assert keys["before"][0]["enabled"] is True and keys["after"][0]["enabled"] is False


def test_a_replayed_operation_id_answers_the_first_result_and_adds_no_row(seeded, owner):
    uid = seeded["users"][0]["uid"]
    params = {"uid": uid, "frozen": "true", "operation_id": "same"}
    first, again = owner.call("users/freeze_login", params), owner.call("users/freeze_login", params)
    assert first.json["data"] == again.json["data"]
    assert len(audit_rows(action="users/freeze_login")) == 1


def test_failed_and_refused_calls_leave_no_row(seeded, owner):
    assert owner.call("admins/disable", {"username": "admin"}).status == 400  # cannot disable yourself
    assert owner.call("listing/symbol_halt", {"symbol": "NOPE"}).status == 400
    assert owner.call("admins/disable", {"username": "admin"}, csrf=False).status == 403
    assert audit_rows(action="admins/disable") == [] and audit_rows(action="listing/symbol_halt") == []


def test_the_audit_log_is_searched_by_admin_action_and_time_newest_first(seeded, owner):
    owner.call("listing/symbol_halt", {"symbol": "ETHBTC"})
    owner.call("listing/symbol_resume", {"symbol": "ETHBTC"})
    everything = owner.read("audit/query").json["data"]["list"]
    assert [r["action"] for r in everything[:2]] == ["listing/symbol_resume", "listing/symbol_halt"]
    by_action = owner.read("audit/query", {"action": "listing/symbol_halt"}).json["data"]["list"]
    assert [r["action"] for r in by_action] == ["listing/symbol_halt"]
    by_admin = owner.read("audit/query", {"admin": "admin", "action": "listing/symbol_resume"}).json["data"]["list"]
    assert len(by_admin) == 1
    after_all = owner.read("audit/query", {"start_time": everything[0]["time"] + 1}).json["data"]["list"]
    assert after_all == []
    page = owner.read("audit/query", {"limit": 1}).json["data"]
    rest = owner.read("audit/query", {"before_id": page["next_before_id"]}).json["data"]["list"]
    assert rest[0]["action"] == "listing/symbol_halt"
