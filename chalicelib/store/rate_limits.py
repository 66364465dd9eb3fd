"""Fixed-window request counters shared by every Lambda instance.

One item per (subject, kind, window): `RATE#<subject>#<kind>` / `<window start, s>`.
A request adds its cost with one conditional UpdateItem: `ADD used :cost` on condition
that the window's `used` stays within the limit. The condition is evaluated by DynamoDB
on the item itself, so concurrent requests on many instances can never overshoot the
limit together. A refused request adds nothing. Items expire through the table's TTL
shortly after their window ends.
"""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from chalicelib.store.attributes import IntegerAttribute
from chalicelib.store.table import Entity

TTL_GRACE_SECONDS = 120


class RateWindowRecord(Entity):
    used = IntegerAttribute(null=True)


def _key(subject: str, kind: str) -> str:
    return f"RATE#{subject}#{kind}"


def take(subject: str, kind: str, window_start: int, window_seconds: int, cost: int, limit: int) -> bool:
    """Adds `cost` to the window's count if it stays at most `limit`; False if it would not."""
    if cost <= 0:
        return True
    if cost > limit:
        return False
    record = RateWindowRecord(_key(subject, kind), str(window_start))
    try:
        record.update(
            actions=[RateWindowRecord.used.add(cost),
                     RateWindowRecord.expires_at.set(window_start + window_seconds + TTL_GRACE_SECONDS)],
            condition=RateWindowRecord.used.does_not_exist() | (RateWindowRecord.used <= limit - cost),
        )
    except UpdateError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def used(subject: str, kind: str, window_start: int) -> int:
    try:
        record = RateWindowRecord.get(_key(subject, kind), str(window_start), consistent_read=True)
    except RateWindowRecord.DoesNotExist:
        return 0
    return record.used or 0
