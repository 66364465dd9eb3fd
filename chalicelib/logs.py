"""Structured JSON logs with the request id on every line (Powertools Logger).

The standard-library loggers of every module are routed through the same formatter, so
`logging.getLogger(__name__)` lines carry the request id too.
"""
from __future__ import annotations

import logging
import time
import uuid

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import utils

logger = Logger(service="broker")
utils.copy_config_to_registered_loggers(source_logger=logger, include={"chalicelib"})


def bind_request(request_id: str | None) -> str:
    request_id = request_id or uuid.uuid4().hex
    logger.append_keys(request_id=request_id)
    return request_id


def clear_request() -> None:
    logger.remove_keys(["request_id"])


def around_request(event, get_response):
    """Binds the request id for every line the request logs, then logs one access line."""
    bind_request((event.context or {}).get("requestId"))
    started = time.monotonic()
    status = 500
    try:
        response = get_response(event)
        status = response.status_code
        return response
    finally:
        logger.info("request", extra={"method": event.method, "route": event.path, "status": status,
                                      "ms": round((time.monotonic() - started) * 1000, 1)})
        clear_request()
