"""The approval page clicked through in headless Chromium (Debian's chromium package,
driven by playwright-core): log in, see what the BApp asks, approve (auth, send_card)."""
from __future__ import annotations

import os
import shutil

import pytest
import requests

from tests.e2e.klip.support import klip_info, mint, partner_token, run_node

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def prepare(stack, payload) -> str:
    answer = requests.post(f"{stack.rest_url}/v2/a2a/prepare", json=payload, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["request_key"]


def test_a_user_logs_in_and_approves_auth_and_send_card_in_chromium(stack, tmp_path):
    if not os.path.exists(CHROMIUM) and shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is required: apt-get install -y chromium chromium-driver")
    info = klip_info(stack)
    alice, bob = info["users"]
    (card_id,) = mint(stack, info, partner_token(stack, info), alice["address"], 1)
    contract = info["partner"]["contract_address"]
    auth_key = prepare(stack, {"bapp": {"name": "Chromium BApp", "callback": {}}, "type": "auth"})
    card_key = prepare(stack, {"bapp": {"name": "Card BApp", "callback": {}}, "type": "send_card",
                               "transaction": {"to": bob["address"], "card_id": str(card_id), "contract": contract}})

    out = run_node("approval_page.js", {
        "rest_url": stack.rest_url, "user": {"email": alice["email"], "password": alice["password"]},
        "screenshot_dir": str(tmp_path),
        "requests": [
            {"request_key": auth_key, "bapp": "Chromium BApp", "expect_rows": [["Action", "Share your wallet address"]]},
            {"request_key": card_key, "bapp": "Card BApp",
             "expect_rows": [["Action", "Send a card"], ["Card", f"#{card_id}"], ["To", bob["address"]]]},
        ]})

    assert [entry["address"] for entry in out] == [alice["address"]] * 2
    auth = requests.get(f"{stack.rest_url}/v2/a2a/result", params={"request_key": auth_key}, timeout=30).json()
    assert auth["status"] == "completed" and auth["result"] == {"klaytn_address": alice["address"]}
    card = requests.get(f"{stack.rest_url}/v2/a2a/result", params={"request_key": card_key}, timeout=30).json()
    assert card["status"] == "completed" and card["result"]["status"] == "success"
    listed = requests.get(f"{stack.rest_url}/v2/a2a/cards", timeout=30,
                          params={"sca": contract, "eoa": bob["address"], "cursor": ""}).json()
    assert card_id in [c["card_id"] for c in listed["cards"]]
    assert all((tmp_path / f"{key}.png").exists() for key in (auth_key, card_key))
