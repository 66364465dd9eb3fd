"""The Org API (seed §5): `/api/v2/org/...` for an org's own back end (docs/ORG_API.md).

Register with `app.register_blueprint(org_blueprint)` (no prefix: routes carry their full
paths). Importing the package registers every route, the `org` WebSocket channel (and
its path `/api/v2/org/ws`) and that channel's event delivery.
"""
from chalicelib.api.org import (  # noqa: F401  (each module registers its routes)
    notifications, routes_account, routes_finance, routes_org, routes_statistics, routes_trade, routes_user,
    routes_util,
)
from chalicelib.api.org.http import org_blueprint

__all__ = ["org_blueprint"]
