"""The User OpenAPI family, wire-compatible with BHEX's broker OpenAPI (docs/OPENAPI.md).

Register with `app.register_blueprint(openapi_blueprint)` (no prefix: routes carry their
full BHEX paths). Importing the package also registers the family's error renderer,
its WebSocket channels (`bhex_user`, `bhex_quote_v1`, `bhex_quote_v2`) and their event
formatters.
"""
from chalicelib.api.openapi import wire  # noqa: F401  (registers the BHEX error renderer)
from chalicelib.api.openapi import (  # noqa: F401  (each module registers its routes)
    routes_account, routes_fallback, routes_funds, routes_general, routes_market, routes_orders, streams,
)
from chalicelib.api.openapi.http import openapi_blueprint

__all__ = ["openapi_blueprint"]
