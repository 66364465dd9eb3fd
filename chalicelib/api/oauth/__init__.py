"""The OAuth 2.0 family: `/api/v2/oauth2/...` (docs/OAUTH_API.md).

Register with `app.register_blueprint(oauth_api)` (routes carry their full paths).
Importing the package registers every route, the dispatch table and the family's error
renderer.
"""
from chalicelib.api.oauth import errors, routes_resources, routes_server  # noqa: F401  (registration)
from chalicelib.api.oauth.http import OPERATIONS, oauth_api

__all__ = ["oauth_api", "OPERATIONS"]
