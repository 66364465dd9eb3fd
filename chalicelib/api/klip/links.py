"""Absolute URLs the Klip families hand out (card_uri, images, the approval page).

`PUBLIC_BASE_URL` (e.g. https://api.example.com) wins when set; otherwise the URL the
request came in on: `X-Forwarded-Proto` (API Gateway sets it) and `Host`, plus the stage
path when the host is API Gateway's own execute-api name.
"""
from __future__ import annotations

import os


def base_url(request) -> str:
    configured = os.environ.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    headers = request.headers
    host = headers.get("host") or "localhost"
    proto = (headers.get("x-forwarded-proto") or "http").split(",")[0].strip()
    stage = (request.context or {}).get("stage")
    prefix = f"/{stage}" if stage and host.endswith(".amazonaws.com") else ""
    return f"{proto}://{host}{prefix}"


def card_uri(base: str, contract: str, card_id: int) -> str:
    return f"{base}/v2/card/{contract.lower()}/{card_id}"


def image_url(base: str, key: str) -> str:
    return f"{base}/{key}"


def approval_url(base: str, request_key: str) -> str:
    return f"{base}/a2a?request_key={request_key}"
