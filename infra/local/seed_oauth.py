"""OAuth demo apps for the local stack: one confidential and one public client of the
demo org, allowed every scope. `seed()` returns what goes under `oauth` in
`.local/stack.json`.

Wire it into `infra.local.seed.seed_demo` after the orgs exist::

    from infra.local.seed_oauth import seed as seed_oauth
    ...
    result["oauth"] = seed_oauth(main)

or run it against a running stack (the OAuth e2e test does, when stack.json has no `oauth`)::

    AWS_ENDPOINT_URL=http://127.0.0.1:5000 python -m infra.local.seed_oauth

Idempotent like `seed_demo`: fixed client ids, and secrets derived from fixed labels
(DEMO ONLY; real apps get random ones through the Admin API).
"""
from __future__ import annotations

import json
from typing import Optional

from chalicelib.domain import oauth
from chalicelib.services import oauth_clients
from infra.local import seed as demo

CONFIDENTIAL_REDIRECTS = ["http://127.0.0.1:8700/oauth/callback", "https://demo-app.example/oauth/callback"]
PUBLIC_REDIRECTS = ["http://127.0.0.1:8701/oauth/callback"]


def _app(org_id: str, label: str, name: str, client_type: str, redirect_uris: list[str]) -> dict:
    client_id = demo.demo_text(f"oauth-client:{org_id}:{label}", 32).lower()
    secret = demo.demo_text(f"oauth-secret:{org_id}:{label}", 64) if client_type == oauth.CONFIDENTIAL else None
    created = oauth_clients.create_app(org_id, name=name, client_type=client_type, redirect_uris=redirect_uris,
                                       scopes=list(oauth.SCOPES), created_by="seed", client_id=client_id,
                                       client_secret=secret)
    return {"client_id": created.app.client_id, "client_secret": created.client_secret, "client_type": client_type,
            "name": name, "redirect_uris": list(created.app.redirect_uris), "scopes": list(created.app.scopes)}


def seed(org_id: Optional[str] = None) -> dict:
    org_id = org_id or demo.ORGS[0]["org_id"]
    domain = next(org["domains"][0] for org in demo.ORGS if org["org_id"] == org_id)
    base = "/api/v2/oauth2"
    return {
        "org_id": org_id,
        "authorize_path": f"{base}/authorize", "token_path": f"{base}/token", "domain": domain,
        "confidential": _app(org_id, "confidential", "Demo Portfolio Tracker", oauth.CONFIDENTIAL,
                             CONFIDENTIAL_REDIRECTS),
        "public": _app(org_id, "public", "Demo Mobile App", oauth.PUBLIC, PUBLIC_REDIRECTS),
    }


if __name__ == "__main__":
    print(json.dumps(seed(), indent=2))
