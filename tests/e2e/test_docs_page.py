"""The docs page in headless Chromium: Swagger UI renders every operation of every
family's document from the app's own files (no CDN), without a script error."""
from __future__ import annotations

import os
import shutil

import pytest
import requests

from tests.e2e.klip.support import run_node

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
METHODS = {"get", "post", "put", "delete", "patch"}


def test_swagger_ui_renders_every_operation_of_every_family_in_chromium(stack):
    if not os.path.exists(CHROMIUM) and shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is required: apt-get install -y chromium chromium-driver")
    index = requests.get(f"{stack.rest_url}/docs/openapi", timeout=30).json()["documents"]
    expected = {}
    for entry in index:
        document = requests.get(f"{stack.rest_url}/{entry['url']}", timeout=30).json()
        expected[entry["family"]] = (document["info"]["title"],
                                     sum(len(METHODS & set(item)) for item in document["paths"].values()))
    assert set(expected) == {"user", "openapi", "admin", "oauth", "org", "partner", "a2a"}

    rendered = run_node("docs_page.js", {"rest_url": stack.rest_url,
                                         "families": {family: n for family, (_, n) in expected.items()}})["families"]

    for family, (title, operations) in expected.items():
        page = rendered[family]
        assert page["errors"] == [], (family, page["errors"])
        assert page["title"].startswith(title), (family, page["title"])
        assert page["operations"] == operations, (family, page["operations"], operations)
