"""OpenAPI rate limits per API key: request weight per minute and new orders per window.

BHEX levels (its `RateLimitService`): a key's level sets its weight budget per minute
and its order budget per window. The level comes from the org's settings
(`openapi_api_level`, default 2, BHEX's default). What `brokerInfo` advertises is built
from the same `Level`, so clients see exactly what is enforced.

Windows are fixed (`floor(now / interval)`), counted in DynamoDB
(`chalicelib.store.rate_limits`), so they hold across Lambda instances.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from chalicelib.domain.errors import RateLimited, TooManyOrders
from chalicelib.store import rate_limits as store


@dataclass(frozen=True)
class Level:
    weight_per_minute: int
    orders: int
    orders_seconds: int


# BHEX's table: level -> weight per minute ; orders per window of N seconds.
LEVELS: dict[int, Level] = {
    1: Level(1500, 30, 30),
    2: Level(3000, 60, 60),
    3: Level(5000, 40, 2),
    4: Level(8000, 100, 2),
    5: Level(10000, 200, 2),
    6: Level(12000, 250, 2),
    7: Level(15000, 300, 2),
    8: Level(18000, 400, 2),
    9: Level(20000, 500, 2),
}
DEFAULT_LEVEL = 2
WEIGHT_WINDOW_SECONDS = 60


def level_of(org_settings: Optional[dict]) -> Level:
    try:
        number = int((org_settings or {}).get("openapi_api_level", DEFAULT_LEVEL))
    except (TypeError, ValueError):
        number = DEFAULT_LEVEL
    return LEVELS.get(number, LEVELS[DEFAULT_LEVEL])


def advertised(level: Level) -> list[dict]:
    """brokerInfo `rateLimits` (BHEX's real field set, including `intervalUnit`)."""
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalUnit": 1,
         "limit": level.weight_per_minute},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalUnit": level.orders_seconds,
         "limit": level.orders},
    ]


def _window(now_seconds: float, seconds: int) -> tuple[int, int]:
    """(window start, seconds until the next window, at least 1)."""
    start = int(now_seconds // seconds) * seconds
    return start, max(1, math.ceil(start + seconds - now_seconds))


def charge(api_key: str, level: Level, *, weight: int, orders: int, now_seconds: float) -> None:
    """Counts one request; raises RateLimited (-1003) or TooManyOrders (-1015) if over."""
    start, retry = _window(now_seconds, WEIGHT_WINDOW_SECONDS)
    if not store.take(api_key, "W", start, WEIGHT_WINDOW_SECONDS, weight, level.weight_per_minute):
        raise RateLimited(
            f"Too many requests, current limit is {level.weight_per_minute} requests per 1 MINUTE .",
            retry_after=retry)
    if orders:
        start, retry = _window(now_seconds, level.orders_seconds)
        if not store.take(api_key, "O", start, level.orders_seconds, orders, level.orders):
            raise TooManyOrders(
                f"Too many new orders; current limit is {level.orders} orders per {level.orders_seconds} SECOND.",
                retry_after=retry)
