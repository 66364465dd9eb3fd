"""Posts frames to WebSocket connections through the API Gateway management API."""
from __future__ import annotations

import functools
import logging

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib import settings

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def _client(endpoint: str):
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, region_name=settings.region(),
                        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2}))


def send(connection_id: str, frame: str) -> bool:
    """True if delivered; False if the connection is gone (the caller forgets it)."""
    endpoint = settings.websocket_endpoint()
    if endpoint is None:
        log.warning("no websocket endpoint configured; push to %s dropped", connection_id)
        return True
    try:
        _client(endpoint).post_to_connection(ConnectionId=connection_id, Data=frame.encode())
        return True
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("GoneException", "410"):
            return False
        raise


def close(connection_id: str) -> None:
    endpoint = settings.websocket_endpoint()
    if endpoint is None:
        return
    try:
        _client(endpoint).delete_connection(ConnectionId=connection_id)
    except ClientError:
        pass
