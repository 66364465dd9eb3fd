"""What is listed: exchange tokens and symbols, orgs, and each org's listing settings."""
from __future__ import annotations

import json
import time
from typing import Iterable, Optional

from pynamodb.attributes import BooleanAttribute, ListAttribute, UnicodeAttribute

from chalicelib.store.attributes import DecimalAttribute, IntegerAttribute
from chalicelib.store.table import Entity, Gsi1


class ExchangeTokenRecord(Entity):
    exchange_id = UnicodeAttribute()
    token_id = UnicodeAttribute()
    name = UnicodeAttribute()
    full_name = UnicodeAttribute()
    precision = DecimalAttribute()
    icon_url = UnicodeAttribute(default="")
    chains = UnicodeAttribute(default="[]")
    updated_at = IntegerAttribute()


class ExchangeSymbolRecord(Entity):
    exchange_id = UnicodeAttribute()
    symbol = UnicodeAttribute()
    base = UnicodeAttribute()
    quote = UnicodeAttribute()
    tick_size = DecimalAttribute()
    step_size = DecimalAttribute()
    min_price = DecimalAttribute()
    max_price = DecimalAttribute()
    min_qty = DecimalAttribute()
    max_qty = DecimalAttribute()
    min_notional = DecimalAttribute()
    market_quote_step = DecimalAttribute()
    trading = BooleanAttribute(default=True)
    updated_at = IntegerAttribute()


class OrgRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    org_id = UnicodeAttribute()
    name = UnicodeAttribute()
    exchange_id = UnicodeAttribute()
    org_type = UnicodeAttribute(default="BROKER")
    domains = ListAttribute(of=UnicodeAttribute, default=list)
    settings = UnicodeAttribute(default="{}")
    updated_at = IntegerAttribute()


class OrgDomainRecord(Entity):
    """Host name -> org, so a request's Host resolves its tenant in one read."""

    org_id = UnicodeAttribute()


class OrgTokenRecord(Entity):
    org_id = UnicodeAttribute()
    token_id = UnicodeAttribute()
    listed = BooleanAttribute(default=True)
    allow_deposit = BooleanAttribute(default=True)
    allow_withdraw = BooleanAttribute(default=True)
    min_deposit = DecimalAttribute()
    withdraw_fee = DecimalAttribute()
    min_withdraw = DecimalAttribute()
    max_withdraw_daily = DecimalAttribute()
    # the org's own presentation and per-withdrawal cap (None: the exchange's / no cap)
    name = UnicodeAttribute(null=True)
    full_name = UnicodeAttribute(null=True)
    icon_url = UnicodeAttribute(null=True)
    max_withdraw = DecimalAttribute(null=True)
    updated_at = IntegerAttribute()


class OrgSymbolRecord(Entity):
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    org_id = UnicodeAttribute()
    symbol = UnicodeAttribute()
    listed = BooleanAttribute(default=True)
    can_trade = BooleanAttribute(default=True)
    can_buy = BooleanAttribute(default=True)
    can_sell = BooleanAttribute(default=True)
    hide_from_openapi = BooleanAttribute(default=False)
    maker_fee = DecimalAttribute()
    taker_fee = DecimalAttribute()
    # the org's tighter filters over the exchange's (None: the exchange's own); the book is
    # shared, so a tick or step must be a multiple of the exchange's and bands lie inside its
    tick_size = DecimalAttribute(null=True)
    step_size = DecimalAttribute(null=True)
    min_qty = DecimalAttribute(null=True)
    max_qty = DecimalAttribute(null=True)
    min_notional = DecimalAttribute(null=True)
    min_price = DecimalAttribute(null=True)
    max_price = DecimalAttribute(null=True)
    updated_at = IntegerAttribute()


def now_ms() -> int:
    return int(time.time() * 1000)


def exchange_key(exchange_id: str) -> str:
    return f"EXCH#{exchange_id}"


def org_key(org_id: str) -> str:
    return f"ORG#{org_id}"


def put_exchange_token(record: ExchangeTokenRecord) -> None:
    record.pk, record.sk, record.updated_at = exchange_key(record.exchange_id), f"TOKEN#{record.token_id}", now_ms()
    record.save()


def put_exchange_symbol(record: ExchangeSymbolRecord) -> None:
    record.pk, record.sk, record.updated_at = exchange_key(record.exchange_id), f"SYMBOL#{record.symbol}", now_ms()
    record.save()


def put_org(record: OrgRecord) -> None:
    record.pk, record.sk, record.updated_at = org_key(record.org_id), "META", now_ms()
    record.gsi1pk, record.gsi1sk = "ORGS", record.org_id
    record.save()
    for domain in record.domains:
        OrgDomainRecord(f"DOMAIN#{domain.lower()}", "META", org_id=record.org_id).save()


def put_org_token(record: OrgTokenRecord) -> None:
    record.pk, record.sk, record.updated_at = org_key(record.org_id), f"TOKEN#{record.token_id}", now_ms()
    record.save()


def put_org_symbol(record: OrgSymbolRecord) -> None:
    record.pk, record.sk, record.updated_at = org_key(record.org_id), f"SYMBOL#{record.symbol}", now_ms()
    record.gsi1pk, record.gsi1sk = f"SYMORG#{record.symbol}", record.org_id
    record.save()


def org_token(org_id: str, token_id: str) -> Optional[OrgTokenRecord]:
    try:
        return OrgTokenRecord.get(org_key(org_id), f"TOKEN#{token_id}", consistent_read=True)
    except OrgTokenRecord.DoesNotExist:
        return None


def org_symbol(org_id: str, symbol: str) -> Optional[OrgSymbolRecord]:
    try:
        return OrgSymbolRecord.get(org_key(org_id), f"SYMBOL#{symbol}", consistent_read=True)
    except OrgSymbolRecord.DoesNotExist:
        return None


def exchange_tokens(exchange_id: str) -> list[ExchangeTokenRecord]:
    return list(ExchangeTokenRecord.query(exchange_key(exchange_id), ExchangeTokenRecord.sk.startswith("TOKEN#")))


def exchange_symbols(exchange_id: str) -> list[ExchangeSymbolRecord]:
    return list(ExchangeSymbolRecord.query(exchange_key(exchange_id), ExchangeSymbolRecord.sk.startswith("SYMBOL#")))


def org(org_id: str) -> Optional[OrgRecord]:
    try:
        return OrgRecord.get(org_key(org_id), "META")
    except OrgRecord.DoesNotExist:
        return None


def org_for_domain(domain: str) -> Optional[str]:
    try:
        return OrgDomainRecord.get(f"DOMAIN#{domain.lower()}", "META").org_id
    except OrgDomainRecord.DoesNotExist:
        return None


def all_orgs() -> list[OrgRecord]:
    return list(OrgRecord.gsi1.query("ORGS"))


def org_tokens(org_id: str) -> list[OrgTokenRecord]:
    return list(OrgTokenRecord.query(org_key(org_id), OrgTokenRecord.sk.startswith("TOKEN#")))


def org_symbols(org_id: str) -> list[OrgSymbolRecord]:
    return list(OrgSymbolRecord.query(org_key(org_id), OrgSymbolRecord.sk.startswith("SYMBOL#")))


def orgs_listing_symbol(symbol: str) -> list[OrgSymbolRecord]:
    return list(OrgSymbolRecord.gsi1.query(f"SYMORG#{symbol}"))


def settings_of(record: OrgRecord) -> dict:
    return json.loads(record.settings or "{}")


def update_org_settings(org_id: str, changes: dict) -> dict:
    record = OrgRecord.get(org_key(org_id), "META")
    merged = {**settings_of(record), **changes}
    record.update(actions=[OrgRecord.settings.set(json.dumps(merged, sort_keys=True)),
                           OrgRecord.updated_at.set(now_ms())])
    return merged


def chains_of(record: ExchangeTokenRecord) -> list[dict]:
    return json.loads(record.chains or "[]")


def batch_symbols(exchange_id: str, symbols: Iterable[str]) -> list[ExchangeSymbolRecord]:
    keys = [(exchange_key(exchange_id), f"SYMBOL#{symbol}") for symbol in symbols]
    return list(ExchangeSymbolRecord.batch_get(keys))
