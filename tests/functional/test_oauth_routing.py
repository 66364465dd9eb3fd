"""The family's few API Gateway resources: static paths win over the variable dispatch
routes in Chalice's local router (what `chalice local` and the local stack use) and in
chalice.test.Client, every operation is reachable, and the family stays in its budget."""
from __future__ import annotations

from chalice.local import RouteMatcher

from chalicelib.api.oauth import OPERATIONS
from tests.functional.test_oauth_support import PREFIX, Api, http, oauth  # noqa: F401  (fixtures)
from tests.infra.test_api_gateway_quota import resources

STATIC = ("authorize", "token", "check_token", "refresh_token", "error")


def test_the_oauth_family_uses_at_most_25_api_gateway_resources():
    from app import app

    ours = {r for r in resources(app.routes) if r.startswith(PREFIX.strip("/"))}
    assert len(ours) <= 25, sorted(ours)


def test_chalice_local_routes_each_static_path_before_the_variable_ones():
    from app import app

    matcher = RouteMatcher(list(app.routes))
    for name in STATIC:
        assert matcher.match_route(f"{PREFIX}/{name}").route == f"{PREFIX}/{name}"
    assert matcher.match_route(f"{PREFIX}/user/getInfo").route == f"{PREFIX}/{{group}}/{{item}}"
    assert matcher.match_route(f"{PREFIX}/trade/spot/placeOrder").route == f"{PREFIX}/{{group}}/{{item}}/{{action}}"
    assert matcher.match_route(f"{PREFIX}/token/x").route == f"{PREFIX}/{{group}}/{{item}}"


def test_every_registered_operation_is_served_by_its_own_view(oauth, http):
    api = Api(http)
    for op in OPERATIONS:
        method = op.methods[0]
        answer = api.get(op.path) if method == "GET" else api.post(op.path, {})
        assert answer.status != 403 or answer.code == 1211, (op.path, answer)  # 403 without a code: no such route
        assert answer.json is not None or answer.headers["content-type"].startswith(("text/", "application/javascript")), \
            (op.path, answer)
    assert api.get(f"{PREFIX}/token").status == 405
    assert api.get(f"{PREFIX}/error").status == 400
    assert api.get(f"{PREFIX}/assets/consent.js").headers["content-type"].startswith("application/javascript")
    assert api.get(f"{PREFIX}/assets/other.js").status == 404
