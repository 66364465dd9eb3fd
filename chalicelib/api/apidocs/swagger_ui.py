"""Swagger UI's files for the docs page, served by the app itself (no CDN at run time).

They come from the `flask-swagger-ui` package on PyPI (Swagger UI 5, which renders OpenAPI
3.1; only its static `dist/` folder is used, never Flask). `python -m
chalicelib.api.apidocs.swagger_ui` copies them into `VENDORED` at install time, so that
`chalice package`/`deploy`, which zip `chalicelib/` but install only requirements.txt, ship
them; in a development checkout without that step they are read from the installed
package.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from typing import Optional

VENDORED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "swagger-ui")
PACKAGE = "flask_swagger_ui"
# name -> content type; nothing else in the folder is served
FILES = {
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "application/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "LICENSE": "text/plain; charset=utf-8",
    "VERSION": "text/plain; charset=utf-8",
}


def package_dist() -> Optional[str]:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(list(spec.submodule_search_locations)[0], "dist")
    return folder if os.path.isdir(folder) else None


def folder() -> Optional[str]:
    """Where the files are: the vendored copy, else the installed package, else None."""
    if all(os.path.exists(os.path.join(VENDORED, name)) for name in FILES):
        return VENDORED
    return package_dist()


def read(name: str) -> Optional[bytes]:
    where = folder()
    if name not in FILES or where is None:
        return None
    with open(os.path.join(where, name), "rb") as handle:
        return handle.read()


def vendor() -> str:
    source = package_dist()
    if source is None:
        raise SystemExit(f"{PACKAGE} is not installed: pip install -r requirements-dev.txt")
    os.makedirs(VENDORED, exist_ok=True)
    for name in FILES:
        shutil.copyfile(os.path.join(source, name), os.path.join(VENDORED, name))
    return VENDORED


if __name__ == "__main__":
    where = vendor()
    version = open(os.path.join(where, "VERSION"), encoding="utf-8").read().strip()
    print(f"Swagger UI {version} copied to {where}", file=sys.stderr)
