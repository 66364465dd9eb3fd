"""Demo data for the local stack: `seed_demo()` returns the credentials for stack.json.

Runs against whatever AWS the environment points at (the local moto server, or moto
in-process in tests) through the ordinary services and stores. Every write is either an
overwrite of a fixed item or an operation with a fixed operation id, so a second run in
the same moto lifetime changes nothing and returns the same answer.

DEMO ONLY: the API keys and secrets below are derived from fixed labels so that a rerun
can return them without storing them anywhere; real keys come from `create_*_key`.
"""
from __future__ import annotations

import hashlib
import json
import string
from decimal import Decimal as D

from chalicelib.domain import ledger as rules
from chalicelib.domain.ledger import Subject
from chalicelib.services import admins, api_keys, catalog, ledger, users
from chalicelib.store import catalog as listings

EXCHANGE_ID = "301"
PASSWORD = "Demo-pass-1"
ADMIN_USERNAME, ADMIN_PASSWORD = "admin", "Demo-admin-1"
SEED_SCOPE = "seed"

# token: (precision, chains, full name, min deposit, withdraw fee, min withdraw, daily max)
TOKENS = {
    "BTC": ("0.00000001", [{"chainType": "BTC"}], "Bitcoin", "0.0001", "0.0005", "0.001", "100"),
    "ETH": ("0.00000001", [{"chainType": "ERC20"}], "Ethereum", "0.001", "0.005", "0.01", "1000"),
    "USDT": ("0.000001", [{"chainType": "ERC20"}, {"chainType": "TRC20"}], "Tether USD", "1", "1", "10",
             "1000000"),
}
# symbol: (base, quote, tick, step, min qty, max qty, min notional, min price, max price, market quote step)
SYMBOLS = {
    "BTCUSDT": ("BTC", "USDT", "0.01", "0.000001", "0.000001", "1000", "1", "0.01", "10000000", "0.01"),
    "ETHUSDT": ("ETH", "USDT", "0.01", "0.0001", "0.0001", "10000", "1", "0.01", "1000000", "0.01"),
    "ETHBTC": ("ETH", "BTC", "0.000001", "0.001", "0.001", "10000", "0.0001", "0.000001", "100", "0.000001"),
}
ORGS = [
    {"org_id": "7002", "name": "Demo Broker", "domains": ["localhost", "127.0.0.1", "broker.local"]},
    {"org_id": "7003", "name": "Second Broker", "domains": ["second.local"]},
]
MAKER_FEE, TAKER_FEE = D("0.001"), D("0.002")
DEMO_USERS = ["alice@demo.local", "bob@demo.local"]
USER_FUNDS = {"BTC": D("10"), "ETH": D("100"), "USDT": D("1000000")}
OPERATING_FUNDS = {"BTC": D("100"), "ETH": D("1000"), "USDT": D("10000000")}
_ALPHABET = string.ascii_letters + string.digits


def demo_text(label: str, length: int = 64) -> str:
    """Fixed letters-and-digits text for a label (demo keys and secrets only)."""
    out, counter = [], 0
    while len(out) < length:
        block = hashlib.sha256(f"broker-local-demo:{label}:{counter}".encode()).digest()
        out.extend(_ALPHABET[byte % len(_ALPHABET)] for byte in block)
        counter += 1
    return "".join(out[:length])


def seed_exchange() -> None:
    for token, (precision, chains, full_name, *_) in TOKENS.items():
        listings.put_exchange_token(listings.ExchangeTokenRecord(
            exchange_id=EXCHANGE_ID, token_id=token, name=token, full_name=full_name, precision=D(precision),
            chains=json.dumps(chains)))
    for symbol, (base, quote, tick, step, min_qty, max_qty, notional, min_price, max_price, quote_step) \
            in SYMBOLS.items():
        listings.put_exchange_symbol(listings.ExchangeSymbolRecord(
            exchange_id=EXCHANGE_ID, symbol=symbol, base=base, quote=quote, tick_size=D(tick), step_size=D(step),
            min_qty=D(min_qty), max_qty=D(max_qty), min_notional=D(notional), min_price=D(min_price),
            max_price=D(max_price), market_quote_step=D(quote_step)))


def seed_org(org: dict) -> None:
    org_id = org["org_id"]
    listings.put_org(listings.OrgRecord(org_id=org_id, name=org["name"], exchange_id=EXCHANGE_ID,
                                        domains=org["domains"]))
    for token, (*_, min_deposit, fee, min_withdraw, daily_max) in TOKENS.items():
        listings.put_org_token(listings.OrgTokenRecord(
            org_id=org_id, token_id=token, min_deposit=D(min_deposit), withdraw_fee=D(fee),
            min_withdraw=D(min_withdraw), max_withdraw_daily=D(daily_max)))
    for symbol in SYMBOLS:
        listings.put_org_symbol(listings.OrgSymbolRecord(org_id=org_id, symbol=symbol, maker_fee=MAKER_FEE,
                                                         taker_fee=TAKER_FEE))


def fund(org_id: str, account_id: str, amounts: dict, operation_id: str) -> None:
    """Value enters through the org's custody account, so every token still sums to zero."""
    custody = rules.custody_account(org_id)
    entries = [posting for token, amount in amounts.items()
               for posting in rules.postings(Subject.DEPOSIT, rules.transfer(custody, account_id, token, amount))]
    ledger.post(SEED_SCOPE, operation_id, entries, reference=operation_id)


def seed_user(org_id: str, email: str) -> dict:
    user = users.register_user(org_id, email=email, password=PASSWORD, operation_id=f"seed-user-{email}")
    fund(org_id, user.main_account_id, USER_FUNDS, f"seed-deposit-{email}")
    api_key, secret = demo_text(f"user-key:{email}"), demo_text(f"user-secret:{email}")
    api_keys.import_user_key(org_id, user.uid, api_key=api_key, secret=secret, key_type=api_keys.USER_TRADE,
                             label="demo", ip_whitelist=[], operation_id=f"seed-key-{email}")
    return {"uid": user.uid, "email": email, "password": PASSWORD, "account_id": user.main_account_id,
            "api_key": api_key, "api_secret": secret}


def seed_demo() -> dict:
    seed_exchange()
    for org in ORGS:
        seed_org(org)
    catalog.invalidate()
    main = ORGS[0]["org_id"]
    fund(main, rules.operating_account(main), OPERATING_FUNDS, "seed-operating-funds")
    demo_users = [seed_user(main, email) for email in DEMO_USERS]
    org_key, org_secret = demo_text(f"org-key:{main}"), demo_text(f"org-secret:{main}")
    api_keys.import_org_key(main, api_key=org_key, secret=org_secret, level="asset", label="demo",
                            ip_whitelist=["127.0.0.1", "::1"], operation_id="seed-org-key")
    admins.create_admin(main, ADMIN_USERNAME, ADMIN_PASSWORD, ["owner"], "seed-admin")
    from infra.local.seed_klip import seed_klip
    from infra.local.seed_oauth import seed as seed_oauth

    klip = seed_klip(main)
    oauth = seed_oauth(main)
    return {
        "exchange_id": EXCHANGE_ID,
        "org": {"org_id": main, "name": ORGS[0]["name"], "domain": ORGS[0]["domains"][0],
                "api_key": org_key, "api_secret": org_secret},
        "orgs": [{"org_id": org["org_id"], "name": org["name"], "domain": org["domains"][0],
                  "domains": list(org["domains"])} for org in ORGS],
        "users": demo_users,
        "admin": {"org_id": main, "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
        "klip": klip,
        "oauth": oauth,
    }


STAFF_PASSWORD = "Demo-staff-1"
STAFF_ROLES = ("operator", "finance", "reviewer", "support")


def seed_back_office(org_id: str = ORGS[0]["org_id"]) -> dict:
    """One demo admin per role besides the owner (TOTP unbound: each binds it at first
    login through auth/totp_bind), and the second org's owner. The admin IP whitelist stays
    empty, which admits every address; add entries with whitelist/add (the first must admit
    your own address). Separate from `seed_demo` so the demo org keeps a single admin unless
    asked (`python -m infra.local.seed --back-office`)."""
    staff = []
    for role in STAFF_ROLES:
        admins.create_admin(org_id, role, STAFF_PASSWORD, [role], f"seed-admin-{role}")
        staff.append({"org_id": org_id, "username": role, "password": STAFF_PASSWORD, "roles": [role]})
    second = ORGS[1]["org_id"]
    admins.create_admin(second, ADMIN_USERNAME, ADMIN_PASSWORD, ["owner"], "seed-admin")
    staff.append({"org_id": second, "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD, "roles": ["owner"]})
    return {"staff": staff, "whitelist": []}


if __name__ == "__main__":
    import sys

    answer = seed_demo()
    if "--back-office" in sys.argv:
        answer["back_office"] = seed_back_office()
    print(json.dumps(answer, indent=2))
