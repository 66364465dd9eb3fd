"""Deployment settings, read from the environment that `.chalice/config.json` sets."""
from __future__ import annotations

import os


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


def table_name() -> str:
    return _env("BROKER_TABLE", "broker-main")


def region() -> str:
    return os.environ.get("AWS_REGION") or _env("AWS_DEFAULT_REGION", "us-east-1")


def matching_queue() -> str:
    return _env("MATCHING_QUEUE", "broker-matching.fifo")


def matching_dead_letter_queue() -> str:
    return _env("MATCHING_DLQ", "broker-matching-dlq.fifo")


def custody_queue() -> str:
    return _env("CUSTODY_QUEUE", "broker-custody.fifo")


def uploads_bucket() -> str:
    return _env("UPLOADS_BUCKET", "broker-uploads-local")


def wallet_kms_key() -> str:
    return _env("WALLET_KMS_KEY", "alias/broker-wallet")


def stage() -> str:
    return _env("STAGE", "local")


def is_local() -> bool:
    return stage() in ("local", "test")


def websocket_endpoint() -> str | None:
    """Where pushes go: the local `@connections` server, or the deployed WebSocket API."""
    local = os.environ.get("LOCAL_WS_ENDPOINT")
    if local:
        return local
    api_id = os.environ.get("WS_API_ID")
    if not api_id:
        return None
    ws_stage = os.environ.get("WS_STAGE", "api")
    return f"https://{api_id}.execute-api.{region()}.amazonaws.com/{ws_stage}"


def custody_dead_letter_queue() -> str:
    return _env("CUSTODY_DLQ", "broker-custody-dlq.fifo")
