"""Unknown OpenAPI paths answer BHEX-shaped JSON 404s instead of the gateway's own error.

API Gateway matches path segments from the left and never backtracks, so a variable
child (`{pN}`, named by depth so siblings agree) is registered under each prefix that
has fixed children, a few levels deep. That keeps the resource count modest (API
Gateway allows 300 resources per REST API by default); deeper unknown paths get the
gateway's own JSON 403/404.
"""
from __future__ import annotations

from chalicelib.api.openapi.http import endpoint
from chalicelib.api.openapi.http import VERBS
from chalicelib.domain.errors import RouteNotFound

PREFIXES = ("/openapi", "/openapi/v1", "/openapi/account", "/openapi/account/v1", "/openapi/quote",
            "/openapi/quote/v1")
EXTRA_LEVELS = 3


def _paths() -> list[str]:
    paths = []
    for prefix in PREFIXES:
        depth = prefix.count("/")
        path = prefix
        for level in range(1, EXTRA_LEVELS + 1):
            path = f"{path}/{{p{depth + level}}}"
            paths.append(path)
    return paths


@endpoint(_paths(), verbs=VERBS, params=None)
def unknown_path(**_segments):
    raise RouteNotFound()
