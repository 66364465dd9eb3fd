"""3.5 Finance: airdrops, lock-up, unlock, convert and mapping, from the operating account
(or `from_uid`)."""
from __future__ import annotations

import json
from typing import Optional

from pydantic import Field, model_validator

from chalicelib.api.org.http import ASSET, OrgRequest, endpoint
from chalicelib.api.org.params import Amount, Flag, Uid, Uplink, invalid, missing, named
from chalicelib.domain import money
from chalicelib.domain.errors import InvalidParameter, MissingParameter
from chalicelib.services import org_finance
from chalicelib.services.org_finance import AirdropItem

_TRUE = ("1", "true", "yes")


DATA_TYPES = ("json", "simple")


class Airdrop(Uplink):
    """One credit (`uid`, `token_id`, `amount`) or a batch in `items` (at most 500)."""

    items: Optional[str] = Field(None, description="`simple`: `uid,token,amount[,to_lock];...`; `json`: "
                                                   "`[{\"uid\", \"token_id\", \"amount\", \"to_lock\"}]`")
    data_type: Optional[str] = Field(None, description="the format of `items`: json (default) or simple",
                                     json_schema_extra={"enum": list(DATA_TYPES)})
    uid: Optional[Uid] = named("uid", "user_id", default=None)
    token_id: Optional[str] = None
    amount: Optional[Amount] = None
    to_lock: Optional[Flag] = Field(None, description="credit the lock-up position instead")
    from_uid: Optional[Uid] = Field(None, description="pay from this user instead of the operating account")
    desc: Optional[str] = None

    @model_validator(mode="after")
    def _single_or_batch(self):
        if self.items is None:
            for name in ("uid", "token_id", "amount"):
                if getattr(self, name) is None:
                    raise missing(name)
        elif (self.data_type or "json").strip().lower() not in DATA_TYPES:
            raise invalid("data_type must be simple or json", "data_type")
        return self


class Lock(Uplink):
    uid: Uid = named("uid", "user_id")
    token_id: str
    amount: Amount
    desc: Optional[str] = None


class Unlock(Lock):
    amount: Amount = named("amount", "unlock_amount")


class Convert(Uplink):
    """Needs a bound: `min_target_amount`, or `expected_rate` with `max_slippage`."""

    uid: Uid = named("uid", "user_id")
    source_token_id: str
    source_amount: Amount
    target_token_id: str
    min_target_amount: Optional[Amount] = None
    expected_rate: Optional[Amount] = None
    max_slippage: Optional[Amount] = Field(None, description="a fraction of `expected_rate`")
    from_uid: Optional[Uid] = Field(None, description="take the target from this user instead of the operating "
                                                      "account")


class Mapping(Uplink):
    """At the org's `mapping_rates` setting for the pair."""

    target_token_id: str
    uid: Uid = named("uid", "user_id")
    source_token_id: str
    source_amount: Amount
    to_lock: Optional[Flag] = None
    from_uid: Optional[Uid] = None


def _item(uid, token, amount, to_lock, position: int) -> AirdropItem:
    uid, token = str(uid or "").strip(), str(token or "").strip()
    if not uid.isdigit():
        raise InvalidParameter("items", f"Item {position}: uid is not valid")
    if not token:
        raise InvalidParameter("items", f"Item {position}: token is missing")
    return AirdropItem(uid, token, money.parse(amount, "items"), str(to_lock).strip().lower() in _TRUE)


def _items(request: OrgRequest) -> list[AirdropItem]:
    raw = request.get("items")
    if raw is None:
        return [AirdropItem(request.uid(), request.require("token_id"), request.required_decimal("amount"),
                            bool(request.flag("to_lock", default=False)))]
    data_type = request.text("data_type", default="json").strip().lower()
    if data_type == "simple":
        items = []
        for n, row in enumerate(row for row in raw.split(";") if row.strip()):
            parts = [part.strip() for part in row.split(",")]
            if not 3 <= len(parts) <= 5:
                raise InvalidParameter("items", "Each simple item is uid,token,amount[,to_lock[,subject]]")
            items.append(_item(parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else "false", n))
        return items
    if data_type != "json":
        raise InvalidParameter("data_type", "data_type must be simple or json")
    try:
        rows = json.loads(raw)
    except ValueError:
        raise InvalidParameter("items", "items is not valid JSON") from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise InvalidParameter("items", "items must be a JSON list of objects")
    return [_item(row.get("uid", row.get("target_user_id")), row.get("token_id"), row.get("amount"),
                  row.get("to_lock", row.get("to_target_lock", False)), n) for n, row in enumerate(rows)]


@endpoint(["/finance/airdrop", "/finance/air_drop"], level=ASSET, params=Airdrop,
          summary="Credit users from the operating account")
def org_finance_airdrop(request: OrgRequest):
    return org_finance.airdrop(request.org_id, _items(request), from_uid=request.optional_uid("from_uid"),
                               desc=request.text("desc"), operation_id=request.operation_id())


@endpoint(["/finance/lock"], level=ASSET, params=Lock, summary="Move a user's available balance to lock-up")
def org_finance_lock(request: OrgRequest):
    return org_finance.lock(request.org_id, request.uid(), request.require("token_id"),
                            request.required_decimal("amount"), desc=request.text("desc"),
                            operation_id=request.operation_id())


@endpoint(["/finance/unlock"], level=ASSET, params=Unlock, summary="Release a user's lock-up")
def org_finance_unlock(request: OrgRequest):
    return org_finance.unlock(request.org_id, request.uid(), request.require("token_id"),
                              request.required_decimal("amount", "unlock_amount"), desc=request.text("desc"),
                              operation_id=request.operation_id())


@endpoint(["/finance/convert"], level=ASSET, params=Convert, summary="Convert a user's token at the last price")
def org_finance_convert(request: OrgRequest):
    return org_finance.convert(
        request.org_id, request.uid(), source_token=request.require("source_token_id"),
        source_amount=request.required_decimal("source_amount"), target_token=request.require("target_token_id"),
        min_target_amount=request.decimal("min_target_amount"), expected_rate=request.decimal("expected_rate"),
        max_slippage=request.decimal("max_slippage"), from_uid=request.optional_uid("from_uid"),
        operation_id=request.operation_id())


@endpoint(["/finance/mapping"], level=ASSET, params=Mapping, summary="Map a user's token to another at a set rate")
def org_finance_mapping(request: OrgRequest):
    if request.get("target_token_id") is None:
        raise MissingParameter("target_token_id")
    return org_finance.mapping(
        request.org_id, request.uid(), source_token=request.require("source_token_id"),
        source_amount=request.required_decimal("source_amount"), target_token=request.require("target_token_id"),
        to_lock=bool(request.flag("to_lock", default=False)), from_uid=request.optional_uid("from_uid"),
        operation_id=request.operation_id())
