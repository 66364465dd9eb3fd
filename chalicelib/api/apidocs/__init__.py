"""OpenAPI 3.1 documents of the API families and the docs page (docs/API_DOCUMENTS.md).

Register with `app.register_blueprint(docs_api)`: `/docs` (Swagger UI) and
`/docs/openapi/{family}.json`, generated from `chalicelib.api.operations`.
"""
from chalicelib.api.apidocs.generator import document
from chalicelib.api.apidocs.http import docs_api

__all__ = ["docs_api", "document"]
