"""The User API family (web and app back end): `/api/...` and `/s_api/...` (docs/USER_API.md).

Register with `app.register_blueprint(user_api)` (no prefix: routes carry their full
paths). Importing the package also registers the user WebSocket channel (`user`, path
`/api/ws/user`) and its push formatter.
"""
from chalicelib.api.user import (  # noqa: F401  (each module registers its routes)
    routes_asset, routes_liabilities, routes_oauth_apps, routes_order, routes_public, routes_tickets, routes_user,
    stream,
)
from chalicelib.api.user.http import user_api

__all__ = ["user_api"]
