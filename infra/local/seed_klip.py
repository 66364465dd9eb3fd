"""Klip demo data for the local stack: the KLAY token, KLAY for the demo users, a demo
card partner. `seed_klip()` returns what goes under `klip` in `.local/stack.json`.

Wire it into `infra.local.seed.seed_demo` after the demo users exist::

    from infra.local.seed_klip import seed_klip
    ...
    result["klip"] = seed_klip(main)

or run it against a running stack (the e2e tests do, when stack.json has no `klip`)::

    AWS_ENDPOINT_URL=http://127.0.0.1:5000 python -m infra.local.seed_klip

Idempotent like `seed_demo`: fixed items and fixed operation ids.
"""
from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Optional

from chalicelib.services import catalog, partners, users, wallets
from chalicelib.services.a2a import DEMO_KIP7_CONTRACT
from chalicelib.store import catalog as listings
from infra.local import seed

KLAY = "KLAY"
KLAY_CHAIN = "KLAYTN"      # an EVM chain: 0x-40-hex addresses
KLAY_FUNDS = D("1000")


def seed_klay(org_ids: list[str]) -> None:
    listings.put_exchange_token(listings.ExchangeTokenRecord(
        exchange_id=seed.EXCHANGE_ID, token_id=KLAY, name=KLAY, full_name="Klaytn", precision=D("0.000001"),
        chains=json.dumps([{"chainType": KLAY_CHAIN, "requiredConfirmNum": 1}])))
    for org_id in org_ids:
        listings.put_org_token(listings.OrgTokenRecord(
            org_id=org_id, token_id=KLAY, min_deposit=D("0.1"), withdraw_fee=D("0.01"), min_withdraw=D("0.1"),
            max_withdraw_daily=D("100000")))
    catalog.invalidate()


def seed_klip(org_id: Optional[str] = None) -> dict:
    org_id = org_id or seed.ORGS[0]["org_id"]
    seed_klay([org["org_id"] for org in seed.ORGS])
    demo_users = []
    for email in seed.DEMO_USERS:
        user = users.find_by_login(org_id, email)
        if user is None:
            continue
        seed.fund(org_id, user.main_account_id, {KLAY: KLAY_FUNDS}, f"seed-klay-{email}")
        demo_users.append({"uid": user.uid, "email": email, "password": seed.PASSWORD,
                           "address": wallets.user_address(org_id, user.uid)})
    partner = partners.seed_demo_partner(org_id)
    return {"partner": partner, "users": demo_users, "klay_token": KLAY, "kip7_contract": DEMO_KIP7_CONTRACT,
            "kip7_token": "USDT"}


if __name__ == "__main__":
    print(json.dumps(seed_klip(), indent=2))
