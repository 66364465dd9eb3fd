import json
import threading
import time
from dataclasses import replace
from decimal import Decimal as D
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.domain import custody as rules
from chalicelib.domain.custody import (
    Deposit,
    DepositState,
    ReportKind,
    Withdrawal,
    WithdrawalReport,
    WithdrawalState,
    WithdrawalStatus,
)
from chalicelib.domain.errors import (
    AmountOffPrecision,
    CallbackConflict,
    CallbackRejected,
    CustodyUnavailable,
    InvalidAddress,
    InvalidParameter,
    WithdrawQuotaExceeded,
    WithdrawTooSmall,
)
from chalicelib.domain.ids import id_time_ms
from chalicelib.gateways import custody as gateway

USDT_CHAINS = ((("chainType", "ERC20"),), (("chainType", "TRC20"), ("requiredConfirmNum", 30)))
TERMS = rules.WithdrawalTerms("USDT", fee=D(1), min_amount=D(10), daily_max=D(1000), precision=D("0.01"),
                              review_threshold=D(500), four_eyes_threshold=D(900))


def listed(*chains):
    """Chains as `TokenListing.chains` holds them."""
    return tuple(((("chainType", chain),)) for chain in chains)


def withdrawal(state=WithdrawalState.PROCESSING, **changes):
    base = Withdrawal(7, "o", "u", "a", "USDT", "ERC20", "0x" + "1" * 40, None, D(10), D(1), state, 3, "c1",
                      "20240101", 0, 0, handed_at=1)
    return replace(base, **changes)


def deposit(**changes):
    base = Deposit(1, "o", "u", "a", "USDT", "ERC20", "0xabc", 0, "0x" + "2" * 40, None, D(5), 0, 12,
                   DepositState.PENDING, 0, 0, 0)
    return replace(base, **changes)


def report(kind, **fields):
    return WithdrawalReport(7, ReportKind(kind), **fields)


# --- statuses ---------------------------------------------------------------------------

def test_every_withdrawal_state_renders_as_one_of_the_eight_bhex_statuses():
    assert {state.status for state in WithdrawalState} == set(WithdrawalStatus)
    assert WithdrawalState.REVIEW.status == 1 and WithdrawalState.BROADCAST.status == 8
    assert WithdrawalState.CANCELED.status == WithdrawalStatus.BROKER_REJECT_STATUS


def test_only_review_and_queued_withdrawals_may_be_canceled():
    assert {s for s in WithdrawalState if s.cancelable} == {WithdrawalState.REVIEW, WithdrawalState.QUEUED}


def test_a_credited_deposit_can_be_withdrawn_and_a_pending_or_ignored_one_has_no_balance_added():
    assert DepositState.CREDITED.status == 2
    assert DepositState.PENDING.status == DepositState.IGNORED.status == 10


# --- chains and addresses ------------------------------------------------------------------

def test_a_token_chain_defaults_to_the_first_listed_and_takes_its_confirmations_from_the_listing():
    assert rules.chain_rules("USDT", USDT_CHAINS).chain == "ERC20"
    assert rules.chain_rules("USDT", USDT_CHAINS).required_confirmations == 12
    assert rules.chain_rules("USDT", USDT_CHAINS, "trc20").required_confirmations == 30


def test_a_chain_the_token_is_not_listed_on_is_refused():
    with pytest.raises(InvalidParameter) as refused:
        rules.chain_rules("USDT", USDT_CHAINS, "OMNI")
    assert refused.value.param == "chainType"


def test_a_token_without_chains_has_one_chain_named_like_it():
    btc = rules.chain_rules("BTC", ())
    assert (btc.chain, btc.required_confirmations, btc.needs_tag) == ("BTC", 2, False)


@pytest.mark.parametrize("chain,address", [
    ("ERC20", "0x52908400098527886E0F7030069857D2E4169EE7"),
    ("BTC", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
    ("BTC", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
    ("TRC20", "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"),
])
def test_well_formed_addresses_pass_the_check_of_their_chain(chain, address):
    assert rules.chain_rules("X", listed(chain)).check_address(f" {address} ", None) == (address, None)


@pytest.mark.parametrize("chain,address", [
    ("ERC20", "0x52908400098527886E0F7030069857D2E4169EE"),
    ("ERC20", "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"),
    ("BTC", "0x52908400098527886E0F7030069857D2E4169EE7"),
    ("TRC20", "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU0"),
])
def test_an_address_of_another_shape_is_refused(chain, address):
    with pytest.raises(InvalidAddress):
        rules.chain_rules("X", listed(chain)).check_address(address, None)


def test_a_tag_is_refused_on_a_chain_without_tags_and_checked_on_a_chain_with_them():
    with pytest.raises(InvalidAddress) as refused:
        rules.chain_rules("USDT", USDT_CHAINS).check_address("0x" + "a" * 40, "123")
    assert refused.value.param == "addressExt"
    xrp = rules.chain_rules("XRP", ())
    assert xrp.needs_tag
    assert xrp.check_address("rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe", "4294967295")[1] == "4294967295"
    with pytest.raises(InvalidAddress):
        xrp.check_address("rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe", "4294967296")


def test_an_unknown_chain_may_ask_for_a_tag_in_its_listing():
    rules_ = rules.chain_rules("ABC", ((("chainType", "ABC"), ("needAddressTag", True)),))
    assert rules_.needs_tag and rules_.required_confirmations == 6
    assert rules_.check_address("abc-wallet-01", "memo 1") == ("abc-wallet-01", "memo 1")


# --- quotas and review --------------------------------------------------------------------------

def test_an_amount_under_the_minimum_over_the_day_or_off_precision_is_refused():
    TERMS.check(D(10), used_today=D(0))
    with pytest.raises(WithdrawTooSmall):
        TERMS.check(D("9.99"), D(0))
    with pytest.raises(WithdrawQuotaExceeded):
        TERMS.check(D(11), used_today=D(990))
    with pytest.raises(AmountOffPrecision):
        TERMS.check(D("10.001"), D(0))
    with pytest.raises(InvalidParameter):
        TERMS.check(D(-10), D(0))


def test_a_daily_maximum_of_zero_means_no_daily_limit():
    unlimited = replace(TERMS, daily_max=D(0))
    unlimited.check(D(10 ** 9), used_today=D(10 ** 9))
    assert unlimited.remaining_today(D(5)) is None


def test_amounts_above_the_thresholds_need_one_then_two_approvals():
    assert [TERMS.approvals_needed(D(x)) for x in ("500", "500.01", "900", "900.01")] == [0, 1, 1, 2]
    assert replace(TERMS, review_threshold=None, four_eyes_threshold=None).approvals_needed(D(10 ** 9)) == 0


def test_thresholds_come_from_a_per_token_map_with_a_default_entry():
    settings = {"withdraw_review_threshold": {"BTC": "1", "*": 100}}
    assert rules.threshold(settings, "withdraw_review_threshold", "BTC") == D(1)
    assert rules.threshold(settings, "withdraw_review_threshold", "USDT") == D(100)
    assert rules.threshold(settings, "withdraw_four_eyes_threshold", "BTC") is None


def test_a_time_range_narrows_the_id_window_and_ids_bound_it_exclusively():
    before, after = rules.id_window(from_id=None, to_id=None, start_ms=1_700_000_000_000, end_ms=1_700_000_001_000)
    assert id_time_ms(after + 1) == 1_700_000_000_000 and id_time_ms(before) == 1_700_000_001_001
    assert rules.id_window(from_id=50, to_id=10) == (50, 10)


# --- ledger postings ------------------------------------------------------------------------------

def total_per_account(entries):
    totals = {}
    for entry in entries:
        totals[entry.movement.account_id] = totals.get(entry.movement.account_id, D(0)) + entry.movement.total
    return totals


def test_settling_sends_the_amount_to_custody_and_the_fee_to_the_fee_account_out_of_the_lock():
    w = withdrawal()
    entries = rules.settle_postings(w, fee_shard=3)
    assert total_per_account(entries) == {"a": D(-11), "o:custody": D(10), "o:fee:3": D(1)}
    assert all(e.movement.available == 0 for e in entries if e.movement.account_id == "a")


def test_a_refund_gives_back_the_whole_lock():
    [entry] = rules.refund_postings(withdrawal())
    assert (entry.movement.available, entry.movement.locked) == (D(11), D(-11))


def test_an_internal_transfer_across_orgs_passes_through_both_custody_accounts():
    same = withdrawal(internal=True, fee=D(0), target_org_id="o", target_account_id="b")
    assert total_per_account(rules.internal_postings(same)) == {"a": D(-10), "b": D(10)}
    other = replace(same, target_org_id="p")
    assert total_per_account(rules.internal_postings(other)) == {
        "a": D(-10), "o:custody": D(10), "p:custody": D(-10), "b": D(10)}


# --- deposits ----------------------------------------------------------------------------------------

def test_a_deposit_is_credited_once_when_its_confirmations_reach_the_required_number():
    after, credit = rules.advance_deposit(deposit(), 11, min_deposit=D(1), now_ms=5)
    assert (after.state, credit) == (DepositState.PENDING, False)
    after, credit = rules.advance_deposit(after, 12, D(1), 6)
    assert (after.state, credit, after.credited_at) == (DepositState.CREDITED, True, 6)
    again, credit = rules.advance_deposit(after, 20, D(1), 7)
    assert (again.state, credit, again.confirmations, again.credited_at) == (DepositState.CREDITED, False, 20, 6)


def test_a_late_report_with_fewer_confirmations_changes_nothing():
    seen = deposit(confirmations=8)
    assert rules.advance_deposit(seen, 3, D(1), 9) == (seen, False)


def test_a_deposit_below_the_minimum_is_ignored_and_one_of_exactly_the_minimum_is_credited():
    ignored, credit = rules.advance_deposit(deposit(amount=D("0.99")), 50, D(1), 1)
    assert (ignored.state, credit) == (DepositState.IGNORED, False)
    exact, credit = rules.advance_deposit(deposit(amount=D(1)), 50, D(1), 1)
    assert (exact.state, credit) == (DepositState.CREDITED, True)


def test_a_report_that_disagrees_with_the_recorded_output_is_a_conflict():
    stored = deposit()
    same = rules.DepositReport("ERC20", "0xabc", 0, "USDT", stored.address, None, D(5), 3)
    rules.check_same_deposit(stored, same)
    with pytest.raises(CallbackConflict):
        rules.check_same_deposit(stored, replace(same, amount=D(6)))


def test_deposit_reports_are_parsed_exactly_and_evm_hashes_lowercased():
    parsed = rules.parse_deposit_report({"chain": "erc20", "tx_hash": "0xABC", "output_index": "2", "token": "usdt",
                                         "address": "0x" + "2" * 40, "amount": "1.000000000000000001",
                                         "confirmations": 3})
    assert (parsed.chain, parsed.tx_hash, parsed.output_index, parsed.token) == ("ERC20", "0xabc", 2, "USDT")
    assert parsed.amount == D("1.000000000000000001")
    for bad in ({"amount": "1e3"}, {"amount": "-1"}, {"confirmations": -1}, {"output_index": True}):
        with pytest.raises(InvalidParameter):
            rules.parse_deposit_report({"chain": "ERC20", "tx_hash": "0x1", "token": "USDT", "address": "x",
                                        "amount": "1", "confirmations": 1, **bad})


# --- withdrawal reports ------------------------------------------------------------------------------

def test_reports_move_a_withdrawal_forward_and_settle_it_on_confirmation():
    w = withdrawal()
    auditing = rules.apply_report(w, report("auditing"), 1).step.after
    broadcast = rules.apply_report(auditing, report("broadcast", tx_id="0xt", confirmations=1), 2).step.after
    assert (broadcast.state, broadcast.tx_id) == (WithdrawalState.BROADCAST, "0xt")
    done = rules.apply_report(broadcast, report("confirmed", tx_id="0xt", confirmations=3), 3).step
    assert (done.after.state, done.effect, done.after.confirmations) == (WithdrawalState.SUCCESS, "settle", 3)


def test_a_late_report_of_an_earlier_stage_changes_nothing():
    broadcast = withdrawal(WithdrawalState.BROADCAST, tx_id="0xt")
    assert rules.apply_report(broadcast, report("auditing"), 1) == rules.ReportOutcome(None)


@pytest.mark.parametrize("kind,state", [("failed", WithdrawalState.FAILED),
                                        ("audit_rejected", WithdrawalState.AUDIT_REJECTED)])
def test_a_failure_or_an_audit_rejection_refunds(kind, state):
    step = rules.apply_report(withdrawal(WithdrawalState.SENDING), report(kind, reason="no"), 1).step
    assert (step.after.state, step.effect, step.after.reason) == (state, "refund", "no")


def test_a_repeated_final_report_is_no_change_and_a_contradicting_one_is_a_conflict_without_effect():
    success = withdrawal(WithdrawalState.SUCCESS, tx_id="0xt")
    assert rules.apply_report(success, report("confirmed", tx_id="0xt"), 1) == rules.ReportOutcome(None)
    assert rules.apply_report(success, report("failed"), 1) == rules.ReportOutcome(None, conflict=True)


def test_a_success_reported_before_its_broadcast_still_learns_the_tx_id():
    success = withdrawal(WithdrawalState.SUCCESS)
    step = rules.apply_report(success, report("broadcast", tx_id="0xt"), 1).step
    assert (step.after.state, step.after.tx_id, step.effect) == (WithdrawalState.SUCCESS, "0xt", None)


@pytest.mark.parametrize("state", [WithdrawalState.REVIEW, WithdrawalState.QUEUED])
def test_a_report_on_a_withdrawal_never_handed_to_custody_is_refused(state):
    with pytest.raises(CallbackConflict):
        rules.apply_report(withdrawal(state, handed_at=None), report("confirmed", tx_id="x"), 1)


def test_a_broadcast_report_without_a_tx_id_is_refused():
    with pytest.raises(InvalidParameter):
        rules.parse_withdrawal_report({"request_id": "7", "status": "broadcast"})
    assert rules.parse_withdrawal_report({"request_id": "7", "status": "FAILED"}).kind is ReportKind.FAILED


# --- signatures --------------------------------------------------------------------------------------

def signed(secret="s", timestamp="1000000", nonce="n1", body=b'{"a":1}', path="/p"):
    return rules.SignedMessage(timestamp, nonce, rules.signature(secret, timestamp, nonce, "POST", path, body))


def test_a_correctly_signed_fresh_message_passes():
    rules.check_signed("s", "POST", "/p", b'{"a":1}', signed(), now_ms=1_000_000 + 299_000)


@pytest.mark.parametrize("change", [
    {"secret": "other"}, {"body": b'{"a":2}'}, {"path": "/q"},
])
def test_a_signature_over_anything_else_is_rejected(change):
    with pytest.raises(CallbackRejected):
        rules.check_signed("s", "POST", "/p", b'{"a":1}', signed(**change), now_ms=1_000_000)


def test_a_timestamp_outside_the_window_either_way_is_rejected():
    for now in (1_000_000 + 300_001, 1_000_000 - 300_001):
        with pytest.raises(CallbackRejected):
            rules.check_signed("s", "POST", "/p", b'{"a":1}', signed(), now_ms=now)


def test_a_message_without_nonce_or_signature_is_rejected():
    with pytest.raises(CallbackRejected):
        rules.check_signed("s", "POST", "/p", b"", rules.SignedMessage("1000000", "", "x"), now_ms=1_000_000)


# --- the HTTP adapter ------------------------------------------------------------------------------

REQUEST = gateway.BroadcastRequest("42", "o", "u", "USDT", "ERC20", "0x" + "1" * 40, None, D("10.50"))


class FakeCustody:
    """Answers from a script; records what it was sent."""

    def __init__(self, *answers):
        self.answers, self.sent = list(answers), []

    def __call__(self, request, timeout):
        self.sent.append((request, timeout))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def http_custody(transport, **options):
    return gateway.HttpCustody("https://custody.example/api", "key-1", "secret-1", transport=transport,
                               sleep=lambda seconds: None, **options)


def test_requests_to_custody_are_signed_over_timestamp_nonce_method_path_and_body():
    fake = FakeCustody((200, b'{"request_id": "42", "status": "accepted"}'))
    assert http_custody(fake).broadcast(REQUEST) == gateway.BroadcastReceipt("42", "accepted")
    [(sent, timeout)] = fake.sent
    headers = {name.lower(): value for name, value in sent.header_items()}
    assert (sent.full_url, timeout, headers["x-custody-key"]) == ("https://custody.example/api/v1/withdrawals", 5,
                                                                  "key-1")
    assert json.loads(sent.data) == {**REQUEST.body(), "amount": "10.5"}
    rules.check_signed("secret-1", "POST", "/api/v1/withdrawals", sent.data, rules.SignedMessage(
        headers["x-custody-timestamp"], headers["x-custody-nonce"], headers["x-custody-signature"]),
        now_ms=int(headers["x-custody-timestamp"]))


def test_timeouts_and_server_errors_are_retried_with_the_same_request_id():
    fake = FakeCustody(TimeoutError("read timed out"), (503, b""), (200, b"{}"))
    assert http_custody(fake).broadcast(REQUEST).request_id == "42"
    assert [json.loads(request.data)["request_id"] for request, _ in fake.sent] == ["42"] * 3


def test_custody_that_never_answers_is_unavailable_and_a_duplicate_request_counts_as_accepted():
    with pytest.raises(CustodyUnavailable):
        http_custody(FakeCustody(*[(502, b"")] * 3)).broadcast(REQUEST)
    assert http_custody(FakeCustody((409, b'{"request_id": "42"}'))).broadcast(REQUEST).status == "accepted"


def test_a_client_error_from_custody_is_a_refusal_with_its_reason():
    with pytest.raises(gateway.CustodyRefused, match="address blacklisted"):
        http_custody(FakeCustody((422, b'{"msg": "address blacklisted"}'))).broadcast(REQUEST)


def test_a_deposit_address_request_names_the_user_token_and_chain():
    fake = FakeCustody((200, b'{"address": "rAbc", "address_tag": "77"}'))
    issued = http_custody(fake).deposit_address(gateway.AddressRequest("o", "u", "a", "XRP", "XRP", True))
    assert issued == gateway.IssuedAddress("rAbc", "77")
    assert json.loads(fake.sent[0][0].data) == {"org_id": "o", "uid": "u", "account_id": "a", "token": "XRP",
                                                "chain": "XRP"}


def test_a_real_slow_answer_times_out_and_the_retry_gets_through():
    calls = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            calls.append(self.path)
            if len(calls) == 1:
                time.sleep(1.5)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"status": "accepted"}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        custody = gateway.HttpCustody(f"http://127.0.0.1:{server.server_port}", "k", "s", timeout_seconds=1,
                                      sleep=lambda seconds: None)
        assert custody.broadcast(REQUEST).status == "accepted"
        assert calls == ["/v1/withdrawals", "/v1/withdrawals"]
    finally:
        server.shutdown()
        server.server_close()
