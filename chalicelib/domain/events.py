"""Events: what changed, for whom, on which stream."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class Event:
    stream: str
    type: str
    payload: dict[str, Any]
    org_id: Optional[str] = None
    user_id: Optional[str] = None


@dataclass(frozen=True)
class StoredEvent:
    id: int
    stream: str
    type: str
    payload: dict[str, Any] = field(default_factory=dict)
    org_id: Optional[str] = None
    user_id: Optional[str] = None
    time: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "stream": self.stream, "type": self.type, "org_id": self.org_id,
                "user_id": self.user_id, "time": self.time, "payload": self.payload}


def user_stream(uid: str) -> str:
    return f"user:{uid}"


def org_stream(org_id: str) -> str:
    return f"org:{org_id}"


def symbol_stream(symbol: str) -> str:
    return f"symbol:{symbol}"


SYSTEM_STREAM = "system"
PUBLIC_STREAM_PREFIXES = ("symbol:",)


def is_public(stream: str) -> bool:
    return stream.startswith(PUBLIC_STREAM_PREFIXES)
