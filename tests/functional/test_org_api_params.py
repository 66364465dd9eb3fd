"""The Org API's parameter models: checked before a view runs, with the views' own codes and
messages, tolerant of what seed clients send, and the source of the Org API's OpenAPI document."""
from __future__ import annotations

import json

from chalicelib.api.org.http import PREFIX, ROUTES
from chalicelib.services import users
from tests.functional.test_org_api_support import body, http, new_user, org_a, seeded  # noqa: F401  (fixtures)


def refusal(response) -> tuple[int, int, str]:
    answer = body(response)
    return response.status_code, answer["code"], answer["msg"]


def registered(email: str) -> bool:
    return users.find_by_login("7002", email) is not None


def test_the_org_document_describes_every_path_with_its_level_media_and_signature(http):
    document = json.loads(http.get("/docs/openapi/org.json").body)
    paths = document["paths"]
    assert {PREFIX + path for path in ROUTES} == set(paths)
    info = paths[f"{PREFIX}/user/getInfo"]
    assert set(info) == {"get", "post"} and info["get"]["security"] == [{"apiKey": [], "signature": []}]
    query = {p["name"]: p for p in info["get"]["parameters"]}
    assert query["uid"]["required"] and query["uid"]["schema"]["pattern"] == "^[0-9]+$"
    assert query["timestamp"]["required"] and "signature" not in query
    assert set(info["post"]["requestBody"]["content"]) == {"application/x-www-form-urlencoded"}
    upload = paths[f"{PREFIX}/pic/upload"]
    assert set(upload) == {"post"}
    multipart = upload["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert multipart == {"$ref": "#/components/schemas/PicUpload"}
    assert document["components"]["schemas"]["PicUpload"]["properties"]["file"]["format"] == "binary"
    listing = {p["name"]: p for p in paths[f"{PREFIX}/getTokens"]["get"]["parameters"]}
    assert listing["listType"]["schema"]["enum"] == ["simple", "full"]
    assert paths[f"{PREFIX}/basic/tokens"]["get"]["summary"] == \
        "The tokens the org lists (alias of `/api/v2/org/getTokens`)"
    assert paths[f"{PREFIX}/order/create"]["post"]["summary"] == \
        "Place a spot order for a user (asset key; alias of `/api/v2/org/trade/spot/createOrder`)"
    assert "asset key" not in info["get"]["summary"]


def test_a_bad_parameter_is_refused_before_the_view_with_the_views_code_and_message(org_a):
    user = new_user(org_a, "params")
    assert refusal(org_a.read.post("/user/getLoginHistory", {"uid": user["uid"], "limit": "101"})) == \
        (400, 2001, "limit must be 1 to 100")
    assert refusal(org_a.asset.post("/user/frozenUser", {"uid": user["uid"], "frozen": "maybe",
                                                         "client_order_id": "fz"})) == \
        (400, 2001, "Parameter 'frozen' must be true or false")
    assert refusal(org_a.read.post("/notification/list", {"wait": "21"})) == (400, 2001, "wait is 0 to 20 seconds")
    # an unknown user used to be looked up first: now the missing token answers, before any lookup
    assert refusal(org_a.asset.post("/account/createWithdraw", {"uid": "999999999", "amount": "1", "address": "x",
                                                                "client_order_id": "w"})) == \
        (400, 2002, "Missing required parameter 'token_id'")
    assert refusal(org_a.read.post("/user/getInfo", {"uid": "12a"})) == (400, 2001, "Parameter 'uid' is not valid")


def test_an_uplink_without_its_operation_id_changes_nothing(org_a):
    response = org_a.asset.post("/user/registerUser", {"email": "noid@7002.test", "password": "Secret-pass-1"})
    assert refusal(response) == (400, 2002, "Every uplink takes a unique client_order_id")
    retried = org_a.asset.post("/user/registerUser", {"email": "noid@7002.test", "client_order_id": "bad id!"})
    assert refusal(retried) == (400, 2001, "client_order_id is 1 to 64 characters of letters, digits and _ . : -")
    assert not registered("noid@7002.test")


def test_the_names_and_extra_parameters_seed_clients_send_are_still_accepted(org_a):
    user = new_user(org_a, "alias")
    assert org_a.read.ok("/user/getInfo", {"user_id": user["uid"]})["uid"] == user["uid"]
    assert org_a.read.ok("/getInfo", {"client_order_id": "not-needed", "lang": "en"})["org_id"] == "7002"
    assert org_a.read.ok("/getTokens", {"list_type": "SIMPLE"}) == org_a.read.ok("/getTokens", {"listType": "simple"})
    assert org_a.read.ok("/notification/list", {"last_event_id": "0", "limit": ""})["last_event_id"] >= 0
