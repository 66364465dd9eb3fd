"""boto3 clients, created lazily and cached so tests can swap the endpoint and reset."""
from __future__ import annotations

import functools

import boto3
from botocore.config import Config

from chalicelib import settings

_CONFIG = Config(connect_timeout=3, read_timeout=25, retries={"max_attempts": 3, "mode": "standard"})


@functools.lru_cache(maxsize=None)
def client(service: str):
    return boto3.client(service, region_name=settings.region(), config=_CONFIG)


@functools.lru_cache(maxsize=None)
def queue_url(queue_name: str) -> str:
    return client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]


def reset() -> None:
    client.cache_clear()
    queue_url.cache_clear()
