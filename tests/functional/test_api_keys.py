import json
import logging
import re

import boto3
import pytest

from chalicelib.domain.errors import ApiKeyAlreadyExists, InvalidParameter, NotFound
from chalicelib.domain.ledger import operating_account
from chalicelib.gateways import kms
from chalicelib.services import api_keys, events, users
from chalicelib.store import catalog as listings

ORG, OTHER_ORG = "7002", "7003"
KEY_SHAPE = re.compile(r"^[A-Za-z0-9]{64}$")


@pytest.fixture(autouse=True)
def orgs():
    for org_id in (ORG, OTHER_ORG):
        listings.put_org(listings.OrgRecord(org_id=org_id, name=f"Org {org_id}", exchange_id="301"))
    kms.forget_cached()


@pytest.fixture
def alice():
    return users.register_user(ORG, email="alice@example.com", password="alice-pass-1", operation_id="alice")


def raw_table_text() -> str:
    client = boto3.client("dynamodb", region_name="us-east-1")
    items = [item for page in client.get_paginator("scan").paginate(TableName="broker-main")
             for item in page["Items"]]
    return json.dumps(items)


def create_key(user, key_type=api_keys.USER_TRADE, operation_id="k1", **options):
    return api_keys.create_user_key(ORG, user.uid, key_type=key_type, operation_id=operation_id, **options)


def test_a_new_user_key_is_64_letters_and_digits_with_a_64_character_secret(alice):
    view, secret = create_key(alice, label="bot", ip_whitelist=["10.0.0.1"])
    assert KEY_SHAPE.match(view.api_key) and KEY_SHAPE.match(secret) and view.api_key != secret
    assert (view.kind, view.org_id, view.uid, view.account_id) == ("user", ORG, alice.uid, alice.main_account_id)
    assert (view.key_type, view.label, view.ip_whitelist, view.enabled) == (1, "bot", ("10.0.0.1",), True)


def test_the_secret_is_stored_only_encrypted_nowhere_in_the_table_in_plain_text(alice, caplog):
    caplog.set_level(logging.DEBUG)
    view, secret = create_key(alice)
    api_keys.authenticate_user_key(view.api_key)
    text = raw_table_text()
    assert view.api_key in text
    assert secret not in text
    assert secret not in caplog.text
    assert secret not in repr(api_keys.authenticate_user_key(view.api_key))


def test_the_secret_is_answered_once_and_a_replayed_creation_answers_the_same_key_without_it(alice):
    view, secret = create_key(alice, operation_id="k1")
    again, no_secret = create_key(alice, operation_id="k1")
    assert secret and no_secret is None
    assert again == view
    assert [k.api_key for k in api_keys.list_user_keys(ORG, alice.uid)] == [view.api_key]


def test_authenticating_a_key_answers_its_secret_owner_and_user_status(alice):
    view, secret = create_key(alice, key_type=api_keys.USER_READ_ONLY)
    users.set_frozen(ORG, alice.uid, trade=True)
    found = api_keys.authenticate_user_key(view.api_key)
    assert found.secret == secret
    assert (found.uid, found.org_id, found.account_id, found.key_type) == (alice.uid, ORG, alice.main_account_id, 0)
    assert found.read_only and found.trade_frozen and not found.login_frozen and not found.withdraw_frozen


def test_an_unknown_or_malformed_key_authenticates_as_nobody():
    assert api_keys.authenticate_user_key("A" * 64) is None
    assert api_keys.authenticate_user_key("short") is None
    assert api_keys.authenticate_user_key("") is None
    assert api_keys.authenticate_org_key("B" * 64) is None


def test_a_disabled_key_is_reported_disabled_and_can_be_enabled_again(alice):
    view, _ = create_key(alice)
    assert not api_keys.set_user_key_enabled(ORG, alice.uid, view.api_key, False).enabled
    assert api_keys.authenticate_user_key(view.api_key).enabled is False
    api_keys.set_user_key_enabled(ORG, alice.uid, view.api_key, True)
    assert api_keys.authenticate_user_key(view.api_key).enabled is True


def test_the_ip_whitelist_is_normalized_replaced_and_checked_by_address_or_network(alice):
    view, _ = create_key(alice, ip_whitelist="1.2.3.4, 10.0.0.0/8 1.2.3.4")
    assert view.ip_whitelist == ("1.2.3.4", "10.0.0.0/8")
    assert view.allows_ip("10.20.30.40") and view.allows_ip("1.2.3.4") and not view.allows_ip("1.2.3.5")
    updated = api_keys.set_user_key_ips(ORG, alice.uid, view.api_key, [])
    assert updated.ip_whitelist == () and updated.allows_ip("8.8.8.8")
    with pytest.raises(InvalidParameter):
        api_keys.set_user_key_ips(ORG, alice.uid, view.api_key, ["not-an-ip"])


def test_a_deleted_key_no_longer_authenticates(alice):
    view, _ = create_key(alice)
    api_keys.delete_user_key(ORG, alice.uid, view.api_key)
    assert api_keys.authenticate_user_key(view.api_key) is None
    assert api_keys.list_user_keys(ORG, alice.uid) == []
    with pytest.raises(NotFound):
        api_keys.delete_user_key(ORG, alice.uid, view.api_key)


def test_another_user_or_org_cannot_see_change_or_delete_a_key(alice):
    bob = users.register_user(ORG, email="bob@example.com", operation_id="bob")
    view, _ = create_key(alice)
    with pytest.raises(NotFound):
        api_keys.set_user_key_enabled(ORG, bob.uid, view.api_key, False)
    with pytest.raises(NotFound):
        api_keys.delete_user_key(OTHER_ORG, alice.uid, view.api_key)
    with pytest.raises(NotFound):
        api_keys.create_user_key(OTHER_ORG, alice.uid, key_type=1, operation_id="k2")
    assert api_keys.list_user_keys(ORG, bob.uid) == []
    assert api_keys.authenticate_user_key(view.api_key).enabled


def test_only_read_only_and_trade_keys_exist_for_users(alice):
    with pytest.raises(InvalidParameter):
        create_key(alice, key_type=10)


def test_org_keys_come_in_read_and_asset_levels_and_act_for_the_operating_account():
    asset, asset_secret = api_keys.create_org_key(ORG, level="asset", operation_id="o1")
    read, _ = api_keys.create_org_key(ORG, level="read", ip_whitelist=["192.168.1.1"], operation_id="o2")
    assert (asset.kind, asset.level, asset.key_type, asset.read_only) == ("org", "asset", 10, False)
    assert (read.level, read.key_type, read.read_only, read.uid) == ("read", 11, True, None)
    assert asset.account_id == operating_account(ORG)
    found = api_keys.authenticate_org_key(asset.api_key)
    assert (found.org_id, found.level, found.secret) == (ORG, "asset", asset_secret)
    assert {k.api_key for k in api_keys.list_org_keys(ORG)} == {asset.api_key, read.api_key}
    assert api_keys.list_org_keys(OTHER_ORG) == []
    with pytest.raises(InvalidParameter):
        api_keys.create_org_key(ORG, level="admin", operation_id="o3")


def test_org_keys_and_user_keys_are_not_accepted_in_each_others_place(alice):
    user_key, _ = create_key(alice)
    org_key, _ = api_keys.create_org_key(ORG, level="asset", operation_id="o1")
    assert api_keys.authenticate_org_key(user_key.api_key) is None
    assert api_keys.authenticate_user_key(org_key.api_key) is None


def test_org_keys_of_one_org_cannot_be_changed_by_another():
    key, _ = api_keys.create_org_key(ORG, level="read", operation_id="o1")
    with pytest.raises(NotFound):
        api_keys.set_org_key_enabled(OTHER_ORG, key.api_key, False)
    assert not api_keys.set_org_key_enabled(ORG, key.api_key, False).enabled
    api_keys.delete_org_key(ORG, key.api_key)
    assert api_keys.authenticate_org_key(key.api_key) is None


def test_an_imported_key_keeps_its_given_key_and_secret_and_cannot_be_imported_twice(alice):
    key, secret = "K" * 64, "s" * 64
    view = api_keys.import_user_key(ORG, alice.uid, api_key=key, secret=secret, key_type=1, operation_id="i1")
    assert api_keys.import_user_key(ORG, alice.uid, api_key=key, secret=secret, key_type=1,
                                    operation_id="i1") == view
    assert api_keys.authenticate_user_key(key).secret == secret
    with pytest.raises(ApiKeyAlreadyExists):
        api_keys.import_user_key(ORG, alice.uid, api_key=key, secret=secret, key_type=1, operation_id="i2")
    with pytest.raises(InvalidParameter):
        api_keys.import_user_key(ORG, alice.uid, api_key="short", secret=secret, key_type=1, operation_id="i3")


def test_creating_a_key_notifies_the_org_without_the_key_or_its_secret(alice):
    view, secret = create_key(alice, label="bot")
    notices = [e for e in events.replay(f"org:{ORG}") if e.type == "org.apiKeyCreated"]
    assert [(e.payload["uid"], e.payload["key_type"], e.payload["label"]) for e in notices] == [(alice.uid, 1, "bot")]
    assert view.api_key not in str(notices) and secret not in str(notices)


def test_a_secret_ciphertext_decrypts_only_for_the_key_it_was_made_for():
    ciphertext = kms.encrypt("s" * 64, {"purpose": "api-secret", "key": "A" * 64})
    assert kms.decrypt(ciphertext, {"purpose": "api-secret", "key": "A" * 64}) == "s" * 64
    with pytest.raises(Exception, match="InvalidCiphertext"):
        kms.decrypt(ciphertext, {"purpose": "api-secret", "key": "B" * 64})
