"""A boto3-session stand-in that points Chalice's ``websocket_api`` at the local gateway.

Chalice builds ``https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`` and calls
``app.websocket_api.session.client('apigatewaymanagementapi', endpoint_url=that)``; an
explicit ``endpoint_url`` beats ``AWS_ENDPOINT_URL``, so the only supported hook is the
session. Assign one of these and every ``send``/``close``/``info`` goes to the local
``@connections`` endpoint instead::

    if os.environ.get('LOCAL_WS_ENDPOINT'):
        from infra.local.ws_session import LocalWebsocketSession
        app.websocket_api.session = LocalWebsocketSession()

(The dev server does this itself after loading the app, so app.py need not.)
Other services keep their normal endpoints (``AWS_ENDPOINT_URL``: the moto server).
"""
from __future__ import annotations

import os
from typing import Any


class LocalWebsocketSession:
    def __init__(self, endpoint_url: str | None = None, region_name: str | None = None,
                 session: Any = None):
        import boto3
        self.endpoint_url = endpoint_url or os.environ['LOCAL_WS_ENDPOINT']
        self._session = session or boto3.session.Session()
        self.region_name = (region_name or self._session.region_name
                            or os.environ.get('AWS_DEFAULT_REGION') or 'us-east-1')

    def client(self, service_name: str, endpoint_url: str | None = None, **kwargs: Any) -> Any:
        if service_name == 'apigatewaymanagementapi':
            endpoint_url = self.endpoint_url
        kwargs.setdefault('region_name', self.region_name)
        return self._session.client(service_name, endpoint_url=endpoint_url, **kwargs)

    def __getattr__(self, name: str) -> Any:   # everything else behaves like the session
        return getattr(self._session, name)
