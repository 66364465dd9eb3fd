"""Helpers of the Klip end-to-end tests: the Node packages, the demo data, the Partners API."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def node_modules() -> str:
    """Installs tests/e2e/klip's pinned packages from the npm registry (once; never committed)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node 20 and npm are required for the Klip end-to-end tests")
    version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    assert int(version.lstrip("v").split(".")[0]) >= 20, f"Node 20+ required, found {version}"
    marker = os.path.join(HERE, "node_modules", "klip-sdk", "package.json")
    if not os.path.exists(marker) or not os.path.exists(os.path.join(HERE, "node_modules", "playwright-core")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, timeout=600,
                       env={**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"})
    return os.path.join(HERE, "node_modules")


def run_node(script: str, config: dict, timeout: int = 300) -> dict:
    node_modules()
    done = subprocess.run(["node", os.path.join(HERE, script), json.dumps(config)], cwd=HERE, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def klip_info(stack) -> dict:
    """The Klip demo data: from stack.json when seed_demo wires seed_klip in, else seeded
    now through infra.local.seed_klip against the stack's moto endpoint."""
    probe = requests.get(f"{stack.rest_url}/v2/a2a/result", params={"request_key": "probe"}, timeout=30)
    if probe.status_code == 403:  # Chalice's answer for a route that does not exist
        pytest.fail("app.py does not register the Klip blueprints yet (chalicelib/api/klip/__init__.py)")
    if "klip" in stack.info:
        return stack.info["klip"]
    if not hasattr(stack, "_klip"):
        env = {**os.environ, "AWS_ENDPOINT_URL": stack.aws_endpoint, "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": stack.info.get("region", "us-east-1"),
               "STAGE": stack.info.get("stage", "local"), "PYTHONPATH": ROOT}
        done = subprocess.run([sys.executable, "-m", "infra.local.seed_klip"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        stack._klip = json.loads(done.stdout)
    return stack._klip


def partner_token(stack, info) -> str:
    partner = info["partner"]
    answer = requests.post(f"{stack.rest_url}/v2/partner/auth", timeout=30,
                           json={"email": partner["email"], "password": partner["password_sha256"]})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def mint(stack, info, token: str, to: str, count: int) -> list[int]:
    ids = []
    while count > 0:
        batch = min(count, 40)
        answer = requests.post(f"{stack.rest_url}/v2/wallet/mint", timeout=60, headers={"Authorization": token}, json={
            "pin": info["partner"]["pin"], "to_address": [to] * batch, "name": "E2E card",
            "contract_address": info["partner"]["contract_address"], "description": "", "image": "", "sendable": True})
        assert answer.status_code == 200, answer.text
        ids += [card["card_id"] for card in answer.json()["cards"]]
        count -= batch
    return ids


def random_address() -> str:
    return "0x" + secrets.token_hex(20)
