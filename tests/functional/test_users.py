from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.domain.errors import (
    EmailAlreadyRegistered,
    IdempotencyMismatch,
    InvalidInviteCode,
    InvalidParameter,
    MissingParameter,
    NotFound,
    PhoneAlreadyRegistered,
)
from chalicelib.services import events, users
from chalicelib.store import accounts
from chalicelib.store import catalog as listings

ORG, OTHER_ORG = "7002", "7003"
PASSWORD = "correct-horse-1"


@pytest.fixture(autouse=True)
def orgs():
    for org_id in (ORG, OTHER_ORG):
        listings.put_org(listings.OrgRecord(org_id=org_id, name=f"Org {org_id}", exchange_id="301"))


def register(org_id=ORG, operation_id="r1", **fields):
    fields.setdefault("password", PASSWORD)
    return users.register_user(org_id, operation_id=operation_id, **fields)


def test_a_registered_user_gets_a_numeric_uid_and_a_main_account_owned_by_them_in_their_org():
    user = register(email="Alice@Example.com")
    assert user.uid.isdigit() and user.main_account_id.isdigit() and user.uid != user.main_account_id
    assert user.email == "alice@example.com"
    assert (user.kyc_level, user.login_frozen, user.trade_frozen, user.withdraw_frozen) == (0, False, False, False)
    assert accounts.owner_of(user.main_account_id) == accounts.AccountOwner(user.main_account_id, ORG, user.uid)
    assert users.user_of_account(user.main_account_id) == user


def test_registration_tells_the_org_a_user_registered_without_revealing_contact_details():
    user = register(email="alice@example.com")
    [event] = events.replay(f"org:{ORG}")
    assert (event.type, event.payload["uid"], event.payload["register_type"]) == ("org.userRegister", user.uid, 2)
    assert "alice" not in str(event.payload)


def test_an_email_already_registered_in_the_org_is_refused_in_any_letter_case():
    register(email="alice@example.com", operation_id="r1")
    with pytest.raises(EmailAlreadyRegistered):
        register(email="ALICE@example.com", operation_id="r2")


def test_a_mobile_already_registered_in_the_org_is_refused():
    register(phone="138 0000 0000", national_code="+86", operation_id="r1")
    with pytest.raises(PhoneAlreadyRegistered):
        register(phone="13800000000", national_code="86", operation_id="r2")


def test_the_same_mobile_number_under_another_national_code_is_another_user():
    first = register(phone="13800000000", national_code="86", operation_id="r1")
    second = register(phone="13800000000", national_code="1", operation_id="r2")
    assert first.uid != second.uid


def test_the_same_email_in_two_orgs_makes_two_separate_users():
    mine = register(ORG, email="alice@example.com")
    theirs = register(OTHER_ORG, email="alice@example.com")
    assert mine.uid != theirs.uid
    assert users.find_by_login(ORG, "alice@example.com") == mine
    assert users.find_by_login(OTHER_ORG, "alice@example.com") == theirs


def test_a_user_of_another_org_is_not_found_by_uid():
    theirs = register(OTHER_ORG, email="bob@example.com")
    with pytest.raises(NotFound):
        users.get_user(ORG, theirs.uid)
    assert users.get_user(OTHER_ORG, theirs.uid) == theirs


def test_registering_into_an_org_that_does_not_exist_is_refused_and_leaves_nothing():
    with pytest.raises(NotFound):
        register("9999", email="alice@example.com")
    assert users.find_by_login("9999", "alice@example.com") is None
    assert register(ORG, email="alice@example.com", operation_id="r2").email == "alice@example.com"


def test_a_registration_replayed_with_the_same_operation_id_returns_the_same_user_once():
    first = register(email="alice@example.com")
    replays = [register(email="alice@example.com") for _ in range(3)]
    assert all(user == first for user in replays)
    assert [u.uid for u in users.list_users(ORG)] == [first.uid]


def test_a_replayed_operation_id_with_other_details_gets_the_mismatch_error():
    register(email="alice@example.com")
    with pytest.raises(IdempotencyMismatch):
        register(email="carol@example.com")


def test_registration_needs_an_email_or_a_mobile_and_a_valid_one():
    with pytest.raises(MissingParameter):
        register()
    with pytest.raises(InvalidParameter):
        register(email="not-an-email")
    with pytest.raises(MissingParameter):
        register(phone="13800000000")
    with pytest.raises(InvalidParameter):
        register(email="alice@example.com", password="short")


def test_a_user_can_log_in_by_email_or_by_mobile_in_either_written_form():
    user = register(email="alice@example.com", phone="13800000000", national_code="86")
    assert users.find_by_login(ORG, " Alice@Example.com ") == user
    assert users.find_by_login(ORG, "13800000000", national_code="86") == user
    assert users.find_by_login(ORG, "+86 13800000000") == user
    assert users.find_by_login(ORG, "86-13800000000") == user
    assert users.find_by_login(ORG, "13800000000") is None
    assert users.find_by_login(OTHER_ORG, "alice@example.com") is None


def test_the_password_is_stored_as_a_salted_scrypt_hash_that_verifies_only_the_right_password():
    user = register(email="alice@example.com")
    assert user.password_hash.startswith("scrypt$16384$8$1$") and PASSWORD not in user.password_hash
    assert PASSWORD not in repr(user)
    assert users.verify_password(user, PASSWORD)
    assert not users.verify_password(user, PASSWORD + "x")
    other = register(email="bob@example.com", operation_id="r2")
    assert other.password_hash != user.password_hash


def test_authenticate_answers_the_user_only_for_the_right_login_and_password():
    user = register(email="alice@example.com")
    assert users.authenticate(ORG, "alice@example.com", PASSWORD) == user
    assert users.authenticate(ORG, "alice@example.com", "wrong-password") is None
    assert users.authenticate(ORG, "nobody@example.com", PASSWORD) is None
    assert users.authenticate(OTHER_ORG, "alice@example.com", PASSWORD) is None


def test_a_user_registered_without_a_password_cannot_log_in_with_any():
    user = users.register_user(ORG, email="alice@example.com", operation_id="r1")
    assert user.password_hash is None
    assert not users.verify_password(user, "")
    assert not users.verify_password(user, "anything-at-all")


def test_setting_a_new_password_replaces_the_old_one_and_records_when():
    user = register(email="alice@example.com")
    changed = users.set_password(ORG, user.uid, "another-pass-2")
    assert users.verify_password(changed, "another-pass-2") and not users.verify_password(changed, PASSWORD)
    assert changed.password_changed_at >= user.password_changed_at
    with pytest.raises(NotFound):
        users.set_password(OTHER_ORG, user.uid, "another-pass-2")


def test_the_trade_password_is_separate_from_the_login_password():
    user = register(email="alice@example.com")
    assert not user.has_trade_password
    user = users.set_trade_password(ORG, user.uid, "trade-pass-9")
    assert users.verify_trade_password(user, "trade-pass-9") and not users.verify_trade_password(user, PASSWORD)
    assert users.verify_password(user, PASSWORD)


def test_the_ga_secret_is_stored_encrypted_and_read_back_for_its_user_only():
    user = users.set_ga_secret(ORG, register(email="alice@example.com").uid, "JBSWY3DPEHPK3PXP")
    assert user.has_ga and "JBSWY3DPEHPK3PXP" not in user.ga_secret_ciphertext
    assert users.ga_secret(user) == "JBSWY3DPEHPK3PXP"
    assert not users.set_ga_secret(ORG, user.uid, None).has_ga


def test_login_trade_and_withdraw_freeze_independently():
    user = register(email="alice@example.com")
    frozen = users.set_frozen(ORG, user.uid, trade=True)
    assert (frozen.login_frozen, frozen.trade_frozen, frozen.withdraw_frozen) == (False, True, False)
    frozen = users.set_frozen(ORG, user.uid, withdraw=True, trade=False)
    assert (frozen.login_frozen, frozen.trade_frozen, frozen.withdraw_frozen) == (False, False, True)
    assert users.get_user(ORG, user.uid) == frozen


def test_kyc_level_and_anti_phishing_code_are_set_within_their_bounds():
    user = register(email="alice@example.com")
    assert users.set_kyc_level(ORG, user.uid, 2).kyc_level == 2
    with pytest.raises(InvalidParameter):
        users.set_kyc_level(ORG, user.uid, 4)
    assert users.set_anti_phishing_code(ORG, user.uid, "blue-fox").anti_phishing_code == "blue-fox"


def test_a_user_invited_with_an_invite_code_records_the_inviter_of_the_same_org():
    inviter = register(email="alice@example.com")
    assert len(inviter.invite_code) == 8
    invited = register(email="bob@example.com", invite_code=inviter.invite_code.lower(), operation_id="r2")
    assert invited.inviter_uid == inviter.uid and invited.invite_code != inviter.invite_code
    with pytest.raises(InvalidInviteCode):
        register(OTHER_ORG, email="carol@example.com", invite_code=inviter.invite_code, operation_id="r3")


def test_the_users_of_an_org_are_listed_newest_first_and_only_theirs():
    first = register(email="a@example.com", operation_id="r1")
    second = register(email="b@example.com", operation_id="r2")
    register(OTHER_ORG, email="c@example.com", operation_id="r3")
    assert [u.uid for u in users.list_users(ORG)] == [second.uid, first.uid]
    assert [u.uid for u in users.list_users(ORG, before_uid=second.uid)] == [first.uid]


def test_an_account_without_a_user_has_no_user():
    assert users.user_of_account("7002:operating") is None
    assert users.user_of_account("12345") is None


def outcomes(calls):
    def attempt(call):
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - the outcome is what is compared
            return error
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(attempt, calls))


def test_two_registrations_racing_for_one_email_let_exactly_one_win():
    results = outcomes([lambda i=i: register(email="alice@example.com", operation_id=f"race-{i}") for i in range(4)])
    winners = [r for r in results if isinstance(r, users.User)]
    assert len(winners) == 1
    assert all(isinstance(r, EmailAlreadyRegistered) for r in results if r not in winners)
    assert [u.uid for u in users.list_users(ORG)] == [winners[0].uid]


def test_one_registration_sent_several_times_at_once_creates_one_user():
    results = outcomes([lambda: register(email="alice@example.com", operation_id="same")] * 4)
    assert all(isinstance(r, users.User) for r in results), results
    assert len({r.uid for r in results}) == 1
    assert len(users.list_users(ORG)) == 1
