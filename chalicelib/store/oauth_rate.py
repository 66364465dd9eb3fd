"""A sliding-window limit of two requests per window, per access token, shared by every
Lambda instance: `OAUTHRATE#<token hash>` / `-` holds the times of the last two admitted
requests (`older`, `newer`).

A request is admitted with one conditional UpdateItem: only if `older` is absent or has
left the window, shifting `newer` into `older` and writing its own time as `newer`.
DynamoDB evaluates the condition on the item itself, so requests racing on several
instances can never admit a third within one window. A refused request writes nothing.
Unlike `store.rate_limits` (fixed windows, which would let 2 + 2 requests through around
a window boundary) this holds in *any* window, as the seed's "2 per second" reads.
"""
from __future__ import annotations

from typing import Optional

from pynamodb.exceptions import UpdateError

from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity


class OAuthRateRecord(Entity):
    older = IntegerAttribute(null=True)
    newer = IntegerAttribute(null=True)


def admit(subject: str, now_ms: int, window_ms: int, ttl_seconds: int) -> Optional[int]:
    """None when admitted; else the milliseconds until a request would be."""
    record = OAuthRateRecord(f"OAUTHRATE#{subject}", "-")
    try:
        record.update(
            actions=[OAuthRateRecord.older.set(OAuthRateRecord.newer | 0), OAuthRateRecord.newer.set(now_ms),
                     OAuthRateRecord.expires_at.set(now_ms // 1000 + ttl_seconds)],
            condition=OAuthRateRecord.older.does_not_exist() | (OAuthRateRecord.older <= now_ms - window_ms))
    except UpdateError as error:
        if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        try:
            current = OAuthRateRecord.get(f"OAUTHRATE#{subject}", "-", consistent_read=True)
        except OAuthRateRecord.DoesNotExist:
            return 1
        return max(1, (current.older or now_ms) + window_ms - now_ms)
    return None
