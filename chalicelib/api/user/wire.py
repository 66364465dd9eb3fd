"""User API wire shapes: camelCase objects after the real BHOP web/app API (spec §15.5).

Ids and times of records are strings of digits where BHOP sends them as strings
(`orderId`, `userId`), amounts are decimal strings, flags are booleans. Services answer
snake_case dictionaries; `camel` turns those into this family's spelling.
"""
from __future__ import annotations

from typing import Any, Optional

from chalicelib.domain import money
from chalicelib.domain.ledger import Subject
from chalicelib.services import catalog
from chalicelib.services.users import REGISTER_EMAIL, REGISTER_MOBILE, User


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel_key(str(k)): camel(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [camel(v) for v in value]
    return value


def mask_email(email: Optional[str]) -> str:
    if not email:
        return ""
    name, _, domain = email.partition("@")
    return (name[:2] + "***" if len(name) > 2 else name[:1] + "***") + "@" + domain


def mask_mobile(mobile: Optional[str]) -> str:
    if not mobile:
        return ""
    return mobile[:3] + "****" + mobile[-2:] if len(mobile) > 6 else mobile[:1] + "****"


def user(u: User) -> dict:
    return {
        "userId": u.uid, "registerType": REGISTER_MOBILE if u.mobile and not u.email else REGISTER_EMAIL,
        "email": mask_email(u.email), "nationalCode": u.national_code or "", "mobile": mask_mobile(u.mobile),
        "bindEmail": bool(u.email), "bindMobile": bool(u.mobile), "bindGA": u.has_ga,
        "bindTradePwd": u.has_trade_password, "kycLevel": u.kyc_level, "verifyStatus": u.kyc_level,
        "defaultAccountId": u.main_account_id, "accountId": u.main_account_id, "inviteCode": u.invite_code,
        "inviteUserId": u.inviter_uid or "", "antiPhishingCode": bool(u.anti_phishing_code),
        "loginFrozen": u.login_frozen, "tradeFrozen": u.trade_frozen, "withdrawFrozen": u.withdraw_frozen,
        "registerDate": str(u.created_at), "userType": 1,
    }


def balance(b) -> dict:
    return {"tokenId": b.token, "tokenName": b.token, "total": money.text(b.total), "free": money.text(b.available),
            "locked": money.text(b.locked), "position": money.text(b.position)}


def _subject_name(subject: int) -> str:
    try:
        return Subject(subject).name
    except ValueError:
        return str(subject)


def flow(f) -> dict:
    return {"id": str(f.flow_id), "accountId": f.account_id, "tokenId": f.token, "tokenName": f.token,
            "flowType": _subject_name(f.subject), "flowTypeValue": f.subject, "change": money.text(f.change),
            "available": money.text(f.available_change), "lockedChange": money.text(f.locked_change),
            "total": money.text(f.total_after), "reference": f.reference, "created": str(f.created_at)}


def order(view: dict, org: Optional[catalog.OrgView] = None) -> dict:
    """From `services.orders.order_view`."""
    base = quote = ""
    if org is not None and view["symbol"] in org.symbols:
        rules = org.symbols[view["symbol"]].rules
        base, quote = rules.base_asset, rules.quote_asset
    return {
        "time": str(view["created_at"]), "updateTime": str(view.get("updated_at") or view["created_at"]),
        "orderId": view["order_id"], "accountId": view["account_id"], "clientOrderId": view["client_order_id"],
        "exchangeId": view.get("exchange_id") or "", "symbolId": view["symbol"], "symbolName": view["symbol"],
        "baseTokenId": base, "baseTokenName": base, "quoteTokenId": quote, "quoteTokenName": quote,
        "price": view["price"] or "0", "origQty": view["quantity"], "executedQty": view["executed_qty"],
        "executedAmount": view["executed_quote"], "avgPrice": view["average_price"] or "0",
        "type": view["type"], "side": view["side"], "timeInForce": view["time_in_force"], "status": view["status"],
        "fees": [{"feeTokenId": view["fee_asset"], "feeTokenName": view["fee_asset"], "fee": view["fee_paid"]}]
        if view.get("fee_asset") else [],
    }


def trade(view: dict) -> dict:
    """From `services.orders.trade_view` (the caller's side only)."""
    return {
        "tradeId": view["trade_id"], "orderId": view["order_id"], "matchOrderId": view["match_order_id"],
        "symbolId": view["symbol"], "symbolName": view["symbol"], "price": view["price"], "quantity": view["qty"],
        "amount": view["quote_qty"], "side": "BUY" if view["is_buyer"] else "SELL", "isMaker": view["is_maker"],
        "fee": view["fee"], "feeTokenId": view["fee_asset"], "feeTokenName": view["fee_asset"],
        "time": str(view["time"]),
    }


def deposit(view: dict) -> dict:
    return {
        "orderId": view["deposit_id"], "tokenId": view["token"], "tokenName": view["token"], "chainType": view["chain"],
        "address": view["address"], "addressTag": view.get("address_tag") or "",
        "fromAddress": view.get("from_address") or "", "quantity": view["amount"], "status": view["status"],
        "statusCode": view["status_code"], "state": view["state"], "confirmNum": view["confirmations"],
        "requiredConfirmNum": view["required_confirmations"],
        "txid": "" if view.get("internal") else view.get("tx_hash") or "", "isInternalTransfer": view["internal"],
        "time": str(view["created_at"]),
    }


def withdrawal(view: dict) -> dict:
    return {
        "orderId": view["withdrawal_id"], "clientOrderId": view["client_order_id"], "accountId": view["account_id"],
        "tokenId": view["token"], "tokenName": view["token"], "chainType": view["chain"], "address": view["address"],
        "addressTag": view.get("address_tag") or "", "quantity": view["amount"],
        "arriveQuantity": view["arrive_amount"], "fee": view["fee"], "feeTokenId": view["fee_token"],
        "totalQuantity": view["total"], "status": view["status"], "statusCode": view["status_code"],
        "state": view["state"], "txid": view.get("tx_id") or "", "confirmNum": view["confirmations"],
        "requiredConfirmNum": view["required_confirmations"], "needBrokerAudit": view["needs_review"],
        "isInternalTransfer": view["internal"], "cancelable": view["cancelable"], "reason": view.get("reason") or "",
        "time": str(view["created_at"]), "updateTime": str(view["updated_at"]),
    }


def api_key(view, secret: Optional[str] = None) -> dict:
    """From `services.api_keys.ApiKeyView`; the secret only in the answer to a creation."""
    answer = {"id": view.key_id, "apiKey": view.api_key, "tag": view.label, "type": view.key_type,
              "readOnly": view.read_only, "ipWhiteList": ",".join(view.ip_whitelist),
              "status": 1 if view.enabled else 0,
              "enabled": view.enabled, "accountId": view.account_id, "created": str(view.created_at)}
    if secret is not None:
        answer["secretKey"] = secret
    return answer
