"""Reviews through the Admin API: the withdrawal queue with four eyes, and the KYC queue."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from chalicelib.domain.custody import Holder
from chalicelib.services import withdrawals
from tests.functional.test_admin_support import (  # noqa: F401  (fixtures)
    ORG, audit_rows, clock, http, make_admin, seeded, staff,
)

EXTERNAL = "0x" + "ab" * 20


@pytest.fixture
def thresholds(staff):
    answer = staff["owner"].call("reviews/set_thresholds", {"token_id": "USDT", "review_threshold": "100",
                                                            "four_eyes_threshold": "1000"})
    assert answer.status == 200, answer
    return answer.json["data"]


def withdraw(seeded, amount: str, operation_id: str) -> str:
    alice = seeded["users"][0]
    made = withdrawals.create_withdrawal(Holder(ORG, alice["uid"], alice["account_id"]), token="USDT",
                                         amount=D(amount), address=EXTERNAL, chain="ERC20",
                                         client_order_id=operation_id)
    return made["withdrawal_id"]


def test_only_the_owner_sets_the_thresholds_and_four_eyes_cannot_be_below_review(staff, thresholds):
    assert thresholds["four_eyes_threshold"] == {"USDT": "1000"}
    refused = staff["finance"].call("reviews/set_thresholds", {"token_id": "USDT", "four_eyes_threshold": "1"})
    assert refused.status == 403
    wrong = staff["owner"].call("reviews/set_thresholds", {"token_id": "USDT", "review_threshold": "10",
                                                           "four_eyes_threshold": "5"})
    assert wrong.status == 400


def test_a_withdrawal_above_the_four_eyes_threshold_needs_two_different_admins(seeded, staff, thresholds):
    withdrawal_id = withdraw(seeded, "5000", "w-big")
    queue = staff["reviewer"].read("reviews/withdrawal_queue").json["data"]["list"]
    assert [(w["withdrawal_id"], w["approvals_needed"]) for w in queue] == [(withdrawal_id, 2)]
    first = staff["reviewer"].call("reviews/withdrawal_approve", {"withdrawal_id": withdrawal_id})
    assert first.json["data"]["state"] == "REVIEW" and first.json["data"]["waiting_for_another_admin"]
    twice = staff["reviewer"].call("reviews/withdrawal_approve", {"withdrawal_id": withdrawal_id})
    assert twice.json["data"]["state"] == "REVIEW" and twice.json["data"]["approval_count"] == 1
    second = staff["finance"].call("reviews/withdrawal_approve", {"withdrawal_id": withdrawal_id})
    assert second.json["data"]["state"] == "QUEUED" and second.json["data"]["approval_count"] == 2
    rows = audit_rows(action="reviews/withdrawal_approve")
    assert len(rows) == 3 and {r["username"] for r in rows} == {"reviewer", "finance"}
    assert rows[0]["before"]["approval_count"] == 1 and rows[0]["after"]["state"] == "QUEUED"


def test_below_the_four_eyes_threshold_one_approval_queues_it(seeded, staff, thresholds):
    withdrawal_id = withdraw(seeded, "500", "w-mid")
    answer = staff["finance"].call("reviews/withdrawal_approve", {"withdrawal_id": withdrawal_id})
    assert answer.json["data"]["state"] == "QUEUED"


def test_a_rejected_withdrawal_gives_the_funds_back_and_needs_a_reason(seeded, staff, thresholds):
    from chalicelib.services import ledger

    account = seeded["users"][0]["account_id"]
    before = ledger.balance(account, "USDT").available
    withdrawal_id = withdraw(seeded, "5000", "w-no")
    missing = staff["reviewer"].call("reviews/withdrawal_reject", {"withdrawal_id": withdrawal_id})
    assert missing.code == 2002
    rejected = staff["reviewer"].call("reviews/withdrawal_reject", {"withdrawal_id": withdrawal_id,
                                                                    "reason": "address on a sanctions list"})
    assert rejected.json["data"]["state"] == "REJECTED"
    assert ledger.balance(account, "USDT").available == before


def test_an_admin_of_another_org_cannot_see_or_decide_this_orgs_withdrawals(seeded, staff, thresholds, http):
    from tests.functional.test_admin_support import OTHER_HOST, OTHER_ORG, admin_login

    withdrawal_id = withdraw(seeded, "5000", "w-foreign")
    make_admin(OTHER_ORG, "boss", ["owner"])
    foreign = admin_login(http, "boss", "Staff-pass-12", host=OTHER_HOST)
    assert foreign.read("reviews/withdrawal_queue").json["data"]["list"] == []
    refused = foreign.call("reviews/withdrawal_approve", {"withdrawal_id": withdrawal_id})
    assert refused.status == 400
    assert withdrawals.org_withdrawal(ORG, withdrawal_id)["approval_count"] == 0
