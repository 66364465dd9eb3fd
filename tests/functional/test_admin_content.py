"""Admin API site content (banners, announcements with a language) and customer-service
tickets, which users open and read through the User API and support answers here."""
from __future__ import annotations

from tests.functional.test_admin_support import (  # noqa: F401  (fixtures)
    OTHER_HOST, OTHER_ORG, admin_login, audit_rows, data, http, make_admin, owner, seeded, staff,
)
from tests.functional.test_user_api_support import Browser, log_in


def test_banners_and_announcements_by_language_are_written_here_and_shown_to_users(staff, http):
    operator = staff["operator"]
    banner = data(operator.call("content/save", {"kind": "banner", "title": "Spring", "image_url": "https://x/b.png",
                                                 "locale": "en-US", "sort": "5"}))
    korean = data(operator.call("content/save", {"kind": "announcement", "title": "공지", "body": "점검",
                                                 "locale": "ko-KR"}))
    draft = data(operator.call("content/save", {"kind": "announcement", "title": "Draft", "published": "false"}))
    listed = data(operator.read("content/list", {"kind": "announcement"}))
    assert listed["total"] == 2 and {i["id"] for i in listed["list"]} == {korean["id"], draft["id"]}
    assert data(operator.read("content/list", {"kind": "announcement", "locale": "ko-KR"}))["total"] == 1
    public = Browser(http)
    shown = public.get("/s_api/basic/announcements", {"locale": "ko-KR"}).json
    assert [a["title"] for a in shown] == ["공지"]
    assert [b["title"] for b in public.get("/s_api/basic/banners").json] == ["Spring"]
    edited = data(operator.call("content/save", {"kind": "banner", "item_id": banner["id"], "title": "Summer",
                                                 "locale": "en-US"}))
    assert edited["id"] == banner["id"] and edited["title"] == "Summer"
    data(operator.call("content/delete", {"kind": "announcement", "item_id": korean["id"]}))
    assert public.get("/s_api/basic/announcements", {"locale": "ko-KR"}).json == []
    saved = audit_rows(action="content/save")
    assert len(saved) == 4 and saved[0]["before"]["title"] == "Spring" and saved[0]["after"]["title"] == "Summer"
    deleted = audit_rows(action="content/delete")[0]
    assert deleted["target"] == f"announcement:{korean['id']}" and deleted["after"] is None


def test_content_parameters_are_checked_and_unknown_items_are_not_found(owner):
    assert owner.call("content/save", {"kind": "popup", "title": "x"}).status == 400
    assert owner.call("content/save", {"kind": "banner"}).status == 400
    assert owner.call("content/save", {"kind": "banner", "title": "x", "starts_at": 10, "ends_at": 5}).status == 400
    missing = owner.call("content/save", {"kind": "banner", "item_id": "123", "title": "x"})
    assert (missing.status, missing.code) == (400, 2004)
    assert owner.call("content/delete", {"kind": "banner", "item_id": "123"}).code == 2004
    assert not audit_rows(action="content/save")


def test_one_orgs_content_is_neither_listed_nor_editable_by_another(owner, http):
    mine = data(owner.call("content/save", {"kind": "banner", "title": "Ours"}))
    make_admin(OTHER_ORG, "boss", ["owner"], "Other-admin-1")
    stranger = admin_login(http, "boss", "Other-admin-1", host=OTHER_HOST)
    assert data(stranger.read("content/list", {"kind": "banner"}))["total"] == 0
    assert stranger.call("content/delete", {"kind": "banner", "item_id": mine["id"]}).code == 2004
    assert data(owner.read("content/detail", {"kind": "banner", "item_id": mine["id"]}))["title"] == "Ours"


def test_a_user_opens_a_ticket_support_answers_and_the_user_reads_the_answer(staff, http):
    user = log_in(http, "alice@demo.local")
    opened = user.post("/api/user/ticket", {"action": "create", "subject": "Deposit missing",
                                            "content": "My USDT deposit has not arrived", "category": "deposit",
                                            "client_order_id": "t-1"})
    assert opened.status == 200 and opened.json["status"] == "OPEN", opened
    ticket_id = opened.json["ticket_id"]
    retried = user.post("/api/user/ticket", {"action": "create", "subject": "Deposit missing",
                                             "content": "My USDT deposit has not arrived", "category": "deposit",
                                             "client_order_id": "t-1"})
    assert retried.json["ticket_id"] == ticket_id
    support = staff["support"]
    queue = data(support.read("tickets/list"))["list"]
    assert [t["ticket_id"] for t in queue] == [ticket_id]
    answered = data(support.call("tickets/answer", {"ticket_id": ticket_id, "content": "Credited now."}))
    assert answered["status"] == "ANSWERED"
    seen = user.get("/api/user/tickets", {"ticket_id": ticket_id}).json
    assert [(m["author"], m["body"]) for m in seen["messages"]] == [
        ("user", "My USDT deposit has not arrived"), ("admin", "Credited now.")]
    assert "author_id" not in seen["messages"][1]
    assert user.post("/api/user/ticket", {"action": "reply", "ticket_id": ticket_id,
                                          "content": "Thanks"}).json["status"] == "OPEN"
    assert data(support.call("tickets/close", {"ticket_id": ticket_id}))["status"] == "CLOSED"
    refused = user.post("/api/user/ticket", {"action": "reply", "ticket_id": ticket_id, "content": "One more"})
    assert refused.status == 400
    assert data(support.read("tickets/list"))["list"] == []
    assert [t["status"] for t in data(support.read("tickets/list", {"status": "CLOSED"}))["list"]] == ["CLOSED"]
    rows = audit_rows(action="tickets/answer")
    assert rows[0]["before"]["status"] == "OPEN" and rows[0]["after"]["status"] == "ANSWERED"
    assert audit_rows(action="tickets/close")[0]["after"]["status"] == "CLOSED"


def test_ticket_requests_are_validated_and_need_the_csrf_token(seeded, http):
    user = log_in(http, "alice@demo.local")
    no_action = user.post("/api/user/ticket", {"subject": "x", "content": "y"})
    assert (no_action.status, no_action.code) == (400, 2002) and "action" in no_action.json["msg"]
    unknown = user.post("/api/user/ticket", {"action": "create", "subject": "x", "content": "y",
                                             "client_order_id": "a", "colour": "red"})
    assert unknown.status == 400 and "colour" in unknown.json["msg"]
    no_csrf = user.post("/api/user/ticket", {"action": "create", "subject": "x", "content": "y",
                                             "client_order_id": "b"}, csrf=False)
    assert no_csrf.status == 403
    assert user.get("/api/user/tickets").json["list"] == []


def test_users_see_only_their_own_tickets_and_support_only_their_orgs(staff, http):
    alice = log_in(http, "alice@demo.local")
    ticket = alice.post("/api/user/ticket", {"action": "create", "subject": "Help", "content": "Please",
                                             "client_order_id": "t-a"}).json
    bob = log_in(http, "bob@demo.local")
    assert bob.get("/api/user/tickets").json["list"] == []
    assert bob.get("/api/user/tickets", {"ticket_id": ticket["ticket_id"]}).code == 2004
    assert bob.post("/api/user/ticket", {"action": "close", "ticket_id": ticket["ticket_id"]}).code == 2004
    make_admin(OTHER_ORG, "helper", ["support"], "Other-admin-1")
    foreign = admin_login(http, "helper", "Other-admin-1", host=OTHER_HOST)
    assert data(foreign.read("tickets/list"))["list"] == []
    assert foreign.call("tickets/answer", {"ticket_id": ticket["ticket_id"], "content": "hi"}).code == 2004
    assert staff["reviewer"].read("tickets/list").status == 403
    assert staff["support"].call("content/save", {"kind": "banner", "title": "x"}).status == 403
    assert [t["ticket_id"] for t in alice.get("/api/user/tickets").json["list"]] == [ticket["ticket_id"]]
