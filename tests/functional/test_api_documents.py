"""The OpenAPI 3.1 documents the app serves: valid, complete for every documented family,
generated from the same models the routes validate with, and a docs page without a CDN."""
from __future__ import annotations

import json
import re

import pytest
from chalice.local import RouteMatcher
from chalice.test import Client
from openapi_spec_validator import OpenAPIV31SpecValidator

from chalicelib.api import operations
from chalicelib.api.apidocs import swagger_ui
from chalicelib.api.rendering import Family
from chalicelib.domain.errors import InvalidParameter, MissingParameter

# Families whose routes still parse parameters by hand, so no (complete) document describes
# them yet: none.
UNDOCUMENTED_FAMILIES: dict[Family, str] = {}
# Route modules outside the seven API families, and why no family document lists them.
OUTSIDE_FAMILIES = {
    "chalicelib.api.platform": "health, public event replay and local developer tools",
    "chalicelib.api.custody_callbacks": "the custody platform's HMAC-signed callbacks",
    "chalicelib.api.apidocs.": "the documents and the docs page themselves",
    "chalicelib.api.openapi.routes_fallback": "unknown BHEX paths, which answer BHEX's JSON 404 and read nothing",
}
# Dispatch routes that no registered operation goes through yet: each answers 404 in JSON.
EMPTY_DISPATCH_ROUTES = {
    "/admin/api/v1/{group}": "one-segment admin action names are allowed; none is registered",
}
MODULE_FAMILIES = {
    "chalicelib.api.user.": Family.USER, "chalicelib.api.openapi.": Family.OPENAPI,
    "chalicelib.api.admin.": Family.ADMIN, "chalicelib.api.oauth.": Family.OAUTH,
    "chalicelib.api.org.": Family.ORG, "chalicelib.api.klip.partners": Family.PARTNER,
    "chalicelib.api.klip.a2a": Family.A2A, "chalicelib.api.klip.approval_page": Family.A2A,
}


@pytest.fixture(scope="module")
def app():
    from app import app as the_app

    return the_app


@pytest.fixture(scope="module")
def http(app):
    with Client(app, stage_name="test") as client:
        yield client.http


@pytest.fixture(scope="module")
def documents(http) -> dict[Family, dict]:
    index = json.loads(http.get("/docs/openapi").body)
    found = {}
    for entry in index["documents"]:
        answer = http.get("/" + entry["url"])
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
        found[Family(entry["family"])] = json.loads(answer.body)
    return found


def family_of(module: str):
    if any(module.startswith(prefix) for prefix in OUTSIDE_FAMILIES):
        return None
    for prefix, family in MODULE_FAMILIES.items():
        if module.startswith(prefix):
            return family
    raise AssertionError(f"routes in {module} belong to no known family: add it to MODULE_FAMILIES")


def family_routes(app, family: Family) -> dict[str, set[str]]:
    """path -> methods of the app's routes whose views live in the family's modules."""
    routes: dict[str, set[str]] = {}
    for path, by_method in app.routes.items():
        for method, entry in by_method.items():
            if family_of(entry.view_function.__module__) == family:
                routes.setdefault(path, set()).add(method)
    return routes


def template(path: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")


def missing_from(document: dict, routes: dict[str, set[str]]) -> list[str]:
    """Routes the document does not describe: a static path absent from it, or a variable
    (dispatch) path that no documented path goes through."""
    documented = document["paths"]
    missing = []
    for path in sorted(routes):
        if "{" not in path:
            if path not in documented:
                missing.append(path)
        elif path not in EMPTY_DISPATCH_ROUTES and not any(template(path).match(c) for c in documented):
            missing.append(path)
    return missing


def test_the_index_lists_one_document_per_family_with_registered_operations(documents):
    assert set(documents) == set(operations.families())
    assert {Family.ADMIN, Family.OAUTH, Family.USER} <= set(documents)


def test_every_document_is_valid_openapi_3_1(documents):
    for family, document in documents.items():
        assert document["openapi"].startswith("3.1"), family
        errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
        assert errors == [], (family, errors[:5])


def test_every_route_of_a_documented_family_is_in_its_document(app, documents):
    documented = [family for family in Family if family in documents and family not in UNDOCUMENTED_FAMILIES]
    assert documented, "no family is fully documented"
    for family in documented:
        routes = family_routes(app, family)
        assert routes, family
        assert missing_from(documents[family], routes) == [], family


def test_a_route_added_without_an_operation_would_fail_the_check(app, documents):
    routes = family_routes(app, Family.ADMIN)
    assert missing_from(documents[Family.ADMIN], routes) == []
    routes["/admin/api/v2/reports"] = {"GET"}
    assert missing_from(documents[Family.ADMIN], routes) == ["/admin/api/v2/reports"]


def test_every_documented_operation_is_served_by_a_route_with_its_method(app, documents):
    matcher = RouteMatcher(list(app.routes))
    for family, document in documents.items():
        for path, item in document["paths"].items():
            route = matcher.match_route(path).route
            for method in item:
                assert method.upper() in app.routes[route], (family, method, path, route)


def test_each_undocumented_family_still_has_undescribed_routes_so_the_list_cannot_go_stale(app, documents):
    for family in UNDOCUMENTED_FAMILIES:
        routes = family_routes(app, family)
        assert routes, f"{family.value} has no routes: take it out of UNDOCUMENTED_FAMILIES"
        missing = missing_from(documents.get(family, {"paths": {}}), routes)
        assert missing, f"{family.value} is fully documented now: take it out of UNDOCUMENTED_FAMILIES"


def test_parameters_come_from_the_routes_own_models(documents):
    user = documents[Family.USER]["paths"]
    proof = {p["name"]: p for p in user["/api/asset/liability_proof"]["get"]["parameters"]}
    assert proof["token"]["required"] is True and proof["token"]["schema"]["pattern"] == "^[A-Za-z0-9]{1,32}$"
    assert proof["root_id"]["required"] is False and proof["root_id"]["schema"]["type"] == "integer"
    ticket = user["/api/user/ticket"]["post"]
    assert set(ticket["requestBody"]["content"]) == {"application/x-www-form-urlencoded", "application/json"}
    assert set(ticket["requestBody"]["content"]["application/json"]["schema"]["discriminator"]["mapping"]) == {
        "create", "reply", "close"}
    assert ticket["security"] == [{"session": [], "csrf": []}]

    oauth = documents[Family.OAUTH]["paths"]
    asset = {p["name"] for p in oauth["/api/v2/oauth2/account/getAsset"]["get"]["parameters"]}
    assert asset == {"tokenId"}  # the resource models' camelCase aliases
    assert oauth["/api/v2/oauth2/trade/spot/placeOrder"]["post"]["security"] == [{"oauth2": ["trade"]}]
    assert set(oauth["/api/v2/oauth2/token"]["post"]["requestBody"]["content"]) == {
        "application/x-www-form-urlencoded"}
    flows = documents[Family.OAUTH]["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]
    assert flows["tokenUrl"] == "/api/v2/oauth2/token" and "trade" in flows["scopes"]

    bhex = documents[Family.OPENAPI]["paths"]
    order = bhex["/openapi/v1/order"]
    assert set(order) == {"get", "post", "delete"}  # one path, a model per verb
    placed = order["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"symbol", "side", "type", "quantity", "timestamp"} <= set(_resolved(documents[Family.OPENAPI],
                                                                                placed)["required"])
    queried = {p["name"]: p for p in order["get"]["parameters"]}
    assert queried["orderId"]["schema"]["type"] == "integer" and queried["timestamp"]["required"] is True
    assert order["delete"]["security"] == [{"apiKey": [], "signature": []}]
    assert bhex["/openapi/quote/v1/depth"]["get"]["security"] == []

    admin = documents[Family.ADMIN]["paths"]
    assert set(admin["/admin/api/v1/users/search"]) == {"get", "post"}
    assert set(admin["/admin/api/v1/orders/cancel"]) == {"post"}
    assert admin["/admin/api/v1/orders/cancel"]["post"]["security"] == [{"session": [], "csrf": []}]
    assert admin["/admin/api/v1/auth/login"]["post"]["security"] == []


def _resolved(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_optional_fields_are_omitted_never_null_in_query_and_form(documents):
    for family, document in documents.items():
        assert '{"type": "null"}' not in json.dumps(document), family


def test_the_docs_page_is_html_that_loads_only_the_apps_own_files(http):
    page = http.get("/docs")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.body.decode()
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    for asset in re.findall(r"(?:src|href)=\"(docs/assets/[^\"]+)\"", html) + ["docs/assets/docs.js"]:
        answer = http.get("/" + asset)
        assert answer.status_code == 200 and len(answer.body) > 500, asset


def test_the_bundled_swagger_ui_renders_openapi_3_1():
    assert swagger_ui.read("VERSION").decode().strip().lstrip("v").split(".")[0] >= "5"


@pytest.mark.parametrize("path", ["/docs/openapi/orgs.json", "/docs/openapi/nothing.json", "/docs/openapi/admin",
                                  "/docs/assets/../../app.py", "/docs/assets/secret.txt"])
def test_unknown_documents_and_assets_answer_in_json_and_never_a_file(http, path):
    answer = http.get(path)
    assert answer.status_code in (403, 404) and isinstance(json.loads(answer.body), dict)


def test_an_operation_is_described_once_per_path_and_method():
    existing = operations.operations(Family.ADMIN)[0]
    with pytest.raises(ValueError, match="registered twice"):
        operations.register(existing)


def test_parameter_errors_name_the_field_for_models_and_tagged_unions():
    from chalicelib.api.user.routes_tickets import TicketQuery, TicketWrite

    with pytest.raises(InvalidParameter) as bad:
        operations.parse_params(TicketQuery, {"limit": "0"})
    assert bad.value.param == "limit"
    with pytest.raises(MissingParameter) as missing:
        operations.parse_params(TicketWrite, {"action": "reply", "ticket_id": "1"})
    assert missing.value.param == "content"
    with pytest.raises(MissingParameter) as untagged:
        operations.parse_params(TicketWrite, {}, unnamed="action")
    assert untagged.value.param == "action"
    assert operations.parse_params(TicketWrite, {"action": "close", "ticket_id": "7"}).ticket_id == "7"
