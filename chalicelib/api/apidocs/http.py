"""The docs routes: each family's OpenAPI 3.1 document and a Swagger UI page over them.

    GET /docs                       the page (HTML: the only non-JSON answer here besides its assets)
    GET /docs/openapi               the documents: family, title, url, operation count (JSON)
    GET /docs/openapi/{family}.json one family's document (JSON)
    GET /docs/assets/{name}         the page's script and Swagger UI's files

Five API Gateway resources. Documents are built once per process from the operations
registry (`generator.document`).
"""
from __future__ import annotations

import os

from chalice import Blueprint, Response

from chalicelib.api import operations, rendering
from chalicelib.api.apidocs import swagger_ui
from chalicelib.api.apidocs.families import FAMILIES
from chalicelib.api.apidocs.generator import document
from chalicelib.api.rendering import Family
from chalicelib.api.routing import route
from chalicelib.domain.errors import RouteNotFound

docs_api = Blueprint(__name__)

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
SUFFIX = ".json"
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    # Swagger UI styles elements inline; every script is one of ours or its bundle
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
}
OWN_ASSETS = {"docs.js": "application/javascript; charset=utf-8"}


def document_url(family: Family) -> str:
    return f"docs/openapi/{family.value}{SUFFIX}"


def _static(name: str) -> bytes:
    with open(os.path.join(STATIC, name), "rb") as handle:
        return handle.read()


@route(docs_api, "/docs", family=Family.PLATFORM)
def docs_page():
    return Response(body=_static("docs.html").decode("utf-8"), status_code=200, headers=PAGE_HEADERS)


@route(docs_api, "/docs/openapi", family=Family.PLATFORM)
def list_documents():
    return {"documents": [{"family": family.value, "title": FAMILIES[family].title, "url": document_url(family),
                           "operations": len(operations.operations(family))} for family in operations.families()]}


@route(docs_api, "/docs/openapi/{name}", family=Family.PLATFORM)
def family_document(name):
    family = _family(name)
    if family is None or not operations.operations(family):
        raise RouteNotFound(f"No OpenAPI document {name}; see /docs/openapi")
    return rendering.ok(document(family), headers={"Cache-Control": "public, max-age=300"})


@route(docs_api, "/docs/assets/{name}", family=Family.PLATFORM)
def docs_asset(name):
    if name in OWN_ASSETS:
        body, content_type = _static(name), OWN_ASSETS[name]
    else:
        body, content_type = swagger_ui.read(name), swagger_ui.FILES.get(name)
    if body is None:
        raise RouteNotFound(f"No docs asset {name}")
    return Response(body=body.decode("utf-8"), status_code=200,
                    headers={"Content-Type": content_type, "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "public, max-age=3600"})


def _family(name: str):
    if not name.endswith(SUFFIX):
        return None
    try:
        return Family(name[: -len(SUFFIX)])
    except ValueError:
        return None
