from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.domain.errors import AdminUsernameTaken, IdempotencyMismatch, InvalidParameter, NotFound
from chalicelib.services import admins
from chalicelib.store import catalog as listings

ORG, OTHER_ORG = "7002", "7003"
PASSWORD = "admin-pass-1"


@pytest.fixture(autouse=True)
def orgs():
    for org_id in (ORG, OTHER_ORG):
        listings.put_org(listings.OrgRecord(org_id=org_id, name=f"Org {org_id}", exchange_id="301"))


def create(username="root", roles=("owner",), org_id=ORG, operation_id="a1", password=PASSWORD):
    return admins.create_admin(org_id, username, password, roles, operation_id)


def test_an_admin_logs_in_with_the_right_password_only():
    admin = create()
    assert admins.verify_admin_login(ORG, "root", PASSWORD) == admin
    assert admins.verify_admin_login(ORG, "ROOT", PASSWORD) == admin
    assert admins.verify_admin_login(ORG, "root", "wrong-pass-1") is None
    assert admins.verify_admin_login(ORG, "nobody", PASSWORD) is None
    assert admins.verify_admin_login(ORG, "", PASSWORD) is None


def test_an_admin_of_one_org_cannot_log_in_to_another():
    create()
    assert admins.verify_admin_login(OTHER_ORG, "root", PASSWORD) is None
    with pytest.raises(NotFound):
        admins.get_admin(OTHER_ORG, "root")


def test_the_admin_password_is_kept_as_a_scrypt_hash_and_never_shown():
    admin = create()
    assert admin.password_hash.startswith("scrypt$") and PASSWORD not in admin.password_hash
    assert "scrypt" not in repr(admin)


def test_usernames_are_unique_per_org_regardless_of_case_but_may_repeat_across_orgs():
    create("root", operation_id="a1")
    with pytest.raises(AdminUsernameTaken):
        create("Root", operation_id="a2")
    assert create("root", org_id=OTHER_ORG, operation_id="a1").org_id == OTHER_ORG


def test_creating_an_admin_is_idempotent_on_its_operation_id():
    first = create(operation_id="a1")
    assert create(operation_id="a1") == first
    assert [a.username for a in admins.list_admins(ORG)] == ["root"]
    with pytest.raises(IdempotencyMismatch):
        create("other", operation_id="a1")


def test_roles_must_be_known_and_not_empty():
    with pytest.raises(InvalidParameter):
        create(roles=())
    with pytest.raises(InvalidParameter):
        create(roles=("owner", "god"))
    admin = create(roles=("finance", "reviewer", "finance"))
    assert admin.roles == ("finance", "reviewer")
    assert admins.set_admin_roles(ORG, "root", ["support"]).roles == ("support",)


def test_an_org_that_does_not_exist_gets_no_admins():
    with pytest.raises(NotFound):
        create(org_id="9999")


def test_a_disabled_admin_cannot_log_in_until_enabled_again():
    create()
    admins.set_admin_enabled(ORG, "root", False)
    assert admins.verify_admin_login(ORG, "root", PASSWORD) is None
    admins.set_admin_enabled(ORG, "root", True)
    assert admins.verify_admin_login(ORG, "root", PASSWORD) is not None


def test_a_changed_password_replaces_the_old_one():
    create()
    changed = admins.set_admin_password(ORG, "root", "new-admin-pass-2")
    assert admins.verify_admin_login(ORG, "root", "new-admin-pass-2") == changed
    assert admins.verify_admin_login(ORG, "root", PASSWORD) is None


def test_the_totp_secret_is_stored_encrypted_and_can_be_removed():
    create()
    admin = admins.set_admin_totp_secret(ORG, "root", "JBSWY3DPEHPK3PXP")
    assert admin.has_totp and "JBSWY3DPEHPK3PXP" not in admin.totp_secret_ciphertext
    assert admins.admin_totp_secret(admin) == "JBSWY3DPEHPK3PXP"
    assert not admins.set_admin_totp_secret(ORG, "root", None).has_totp


def test_admins_of_an_org_are_listed_by_username():
    create("zed", operation_id="a1")
    create("amy", roles=("support",), operation_id="a2")
    create("other", org_id=OTHER_ORG, operation_id="a3")
    assert [(a.username, a.roles) for a in admins.list_admins(ORG)] == [("amy", ("support",)), ("zed", ("owner",))]


def test_one_admin_creation_sent_several_times_at_once_creates_one_admin():
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: create(operation_id="same"), range(4)))
    assert len({a.admin_id for a in results}) == 1
    assert len(admins.list_admins(ORG)) == 1
