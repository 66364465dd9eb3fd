"""The org's withdrawal review thresholds, kept in its settings (per token, token units).

`withdraw_review_threshold`: above it one admin approves; `four_eyes_threshold`: above it two
different admins do. "*" stands for every token without its own entry.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from chalicelib.domain import money
from chalicelib.domain.errors import InvalidParameter
from chalicelib.services import catalog
from chalicelib.store import catalog as store

REVIEW, FOUR_EYES = "withdraw_review_threshold", "four_eyes_threshold"


def thresholds(org_id: str) -> dict:
    settings = catalog.org(org_id).settings
    return {REVIEW: dict(settings.get(REVIEW) or {}), FOUR_EYES: dict(settings.get(FOUR_EYES) or {})}


def set_thresholds(org_id: str, token_id: str, review: Optional[Decimal], four_eyes: Optional[Decimal]) -> dict:
    if token_id != "*":
        catalog.org(org_id).token(token_id)
    if review is not None and four_eyes is not None and four_eyes < review:
        raise InvalidParameter("four_eyes_threshold", "The four-eyes threshold cannot be below the review threshold")
    current = thresholds(org_id)
    for name, value in ((REVIEW, review), (FOUR_EYES, four_eyes)):
        if value is None:
            current[name].pop(token_id, None)
        else:
            current[name][token_id] = money.text(value)
    store.update_org_settings(org_id, current)
    catalog.invalidate()
    return thresholds(org_id)
