"""One OpenAPI 3.1 document per family, from the operations registry.

Parameters come from the JSON schema pydantic writes for each operation's params type (the
same type the view validates with): on GET each top-level field is a query parameter; on
POST (PUT, ...) the fields are a request body, form-encoded or JSON as the operation takes.
Models shared by several operations become `components/schemas` entries.

A form field or a query parameter cannot be null, so the `null` branch pydantic writes for
an optional field is left out: a caller omits the field instead.
"""
from __future__ import annotations

import copy
import functools
import re
from typing import Any

from pydantic import TypeAdapter

from chalicelib.api import operations
from chalicelib.api.apidocs.families import FAMILIES, FamilyDoc
from chalicelib.api.operations import FORM, Operation
from chalicelib.api.rendering import Family

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
REF = "#/components/schemas/"


def document(family: Family) -> dict:
    """The family's document; a family without registered operations has none (KeyError)."""
    return copy.deepcopy(_document(family))


@functools.lru_cache(maxsize=None)
def _document(family: Family) -> dict:
    registered = operations.operations(family)
    if not registered:
        raise KeyError(family)
    doc = FAMILIES[family]
    schemas, param_schemas = _schemas(registered)
    if {"Success", "Error"} & set(schemas):
        raise ValueError("a params model may not be named Success or Error (the document's own schemas)")
    paths: dict[str, dict] = {}
    for index, op in enumerate(registered):
        item = paths.setdefault(op.path, {})
        for method in op.methods:
            item[method.lower()] = _operation(doc, op, method, param_schemas.get(index), schemas)
    components: dict[str, Any] = {
        "schemas": {**schemas, "Success": doc.success, "Error": doc.error},
        "responses": {"Error": {"description": f"An error in the {doc.title}'s format",
                                "content": {"application/json": {"schema": {"$ref": REF + "Error"}}}}},
    }
    if doc.schemes:
        components["securitySchemes"] = doc.schemes
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": doc.title, "version": API_VERSION, "description": doc.description},
        # relative to the document (`<stage>/docs/openapi/<family>.json`): the stage's root
        "servers": [{"url": "../.."}],
        "tags": [{"name": tag} for tag in sorted({_tag(doc, op.path) for op in registered})],
        "paths": dict(sorted(paths.items())),
        "components": components,
    }


def _schemas(registered: list[Operation]) -> tuple[dict, dict[int, dict]]:
    inputs = [(index, "validation", _adapter(op.params)) for index, op in enumerate(registered)
              if op.params is not None]
    keyed, top = TypeAdapter.json_schemas(inputs, ref_template=REF + "{model}", by_alias=True)
    schemas = {name: _no_null(schema) for name, schema in top.get("$defs", {}).items()}
    return schemas, {index: _no_null(schema) for (index, _), schema in keyed.items()}


@functools.lru_cache(maxsize=None)
def _adapter(params_type: Any) -> TypeAdapter:
    return TypeAdapter(params_type)


def _no_null(schema: Any) -> Any:
    """The schema without `null` alternatives (and their `default: null`), recursively."""
    if isinstance(schema, list):
        return [_no_null(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: _no_null(value) for key, value in schema.items()}
    branches = result.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        kept = [branch for branch in branches if branch != {"type": "null"}]
        del result["anyOf"]
        if len(kept) == 1:
            result = {**kept[0], **result}
        else:
            result["anyOf"] = kept
        if result.get("default", 0) is None:
            del result["default"]
    return result


def _resolve(schema: dict, schemas: dict) -> dict:
    while "$ref" in schema and schema["$ref"].startswith(REF):
        schema = schemas[schema["$ref"][len(REF):]]
    return schema


def _tag(doc: FamilyDoc, path: str) -> str:
    rest = path[len(doc.base):] if path.startswith(doc.base) else path
    return rest.strip("/").split("/")[0] or doc.family.value


def _operation_id(method: str, path: str) -> str:
    return method.lower() + "_" + re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")


def _description(doc: FamilyDoc, op: Operation) -> str:
    lines = []
    if op.permission and doc.family == Family.ADMIN:
        lines.append(f"Permission: `{op.permission}`.")
    if op.permission and op.auth == operations.OAUTH2:
        lines.append(f"Scope: `{op.permission}`.")
    return " ".join(lines)


def _operation(doc: FamilyDoc, op: Operation, method: str, params: dict | None, schemas: dict) -> dict:
    spec: dict[str, Any] = {
        "operationId": _operation_id(method, op.path),
        "summary": op.summary or op.path,
        "tags": [_tag(doc, op.path)],
        "security": doc.requirement(op.auth, op.permission),
        "responses": _responses(doc, op),
    }
    description = _description(doc, op)
    if op.alias_of:
        spec["x-alias-of"] = op.alias_of
        description = f"Another path for `{op.alias_of}`. {description}".strip()
    if description:
        spec["description"] = description
    parameters = _path_parameters(op.path, params, schemas)
    if params is not None:
        if method == "GET":
            parameters += _query_parameters(_without(params, schemas, _path_names(op.path)), schemas)
        else:
            in_query = _in_query(params, schemas)
            if in_query:
                parameters += [p for p in _query_parameters(params, schemas) if p["name"] in in_query]
            body = _without(params, schemas, _path_names(op.path) | in_query)
            if op.body_media and _resolve(body, schemas).get("properties", True):
                spec["requestBody"] = _body(op, body, schemas)
    if parameters:
        spec["parameters"] = parameters
    return spec


def _path_names(path: str) -> set[str]:
    return set(re.findall(r"\{([^/{}]+)\}", path))


def _in_query(params: dict, schemas: dict) -> set[str]:
    """Fields a non-GET operation reads from the query string (`json_schema_extra={"x-in": "query"}`)."""
    model = _resolve(params, schemas)
    return {name for name, schema in model.get("properties", {}).items() if schema.get("x-in") == "query"}


def _path_parameters(path: str, params: dict | None, schemas: dict) -> list[dict]:
    """Each `{variable}` of the path, typed by the params model's field of that name."""
    properties = _resolve(params, schemas).get("properties", {}) if params is not None else {}
    result = []
    for name in re.findall(r"\{([^/{}]+)\}", path):
        schema = properties.get(name) or {"type": "string"}
        parameter = {"name": name, "in": "path", "required": True, "schema": schema}
        if schema.get("description"):
            parameter["description"] = schema["description"]
        result.append(parameter)
    return result


def _without(params: dict, schemas: dict, names: set[str]) -> dict:
    """The params object schema less the fields that travel elsewhere (path, query)."""
    model = _resolve(params, schemas)
    if not names & set(model.get("properties", {})):
        return params
    kept = {k: v for k, v in model["properties"].items() if k not in names}
    result = {**model, "properties": kept}
    if "required" in model:
        result["required"] = [name for name in model["required"] if name not in names]
        if not result["required"]:
            del result["required"]
    return result


def _query_parameters(params: dict, schemas: dict) -> list[dict]:
    model = _resolve(params, schemas)
    if model.get("type") != "object":
        raise ValueError(f"a GET operation's parameters are one object model, not {params}")
    required = set(model.get("required", ()))
    result = []
    for name, schema in model.get("properties", {}).items():
        parameter = {"name": name, "in": "query", "required": name in required, "schema": schema}
        if schema.get("description"):
            parameter["description"] = schema["description"]
        if _resolve(schema, schemas).get("type") == "array":
            parameter.update(style="form", explode=False)  # comma-separated, as the models read them
        result.append(parameter)
    return result


def _body(op: Operation, params: dict, schemas: dict) -> dict:
    model = _resolve(params, schemas)
    content: dict[str, dict] = {}
    for media in op.body_media:
        entry: dict[str, Any] = {"schema": params}
        if media == FORM and model.get("type") == "object":
            arrays = {name: {"style": "form", "explode": False}
                      for name, schema in model.get("properties", {}).items()
                      if _resolve(schema, schemas).get("type") == "array"}
            if arrays:
                entry["encoding"] = arrays
        content[media] = entry
    required = bool(model.get("required")) or any(
        _resolve(branch, schemas).get("required") for branch in params.get("oneOf", ()))
    return {"required": required, "content": content}


def _responses(doc: FamilyDoc, op: Operation) -> dict:
    if op.produces == operations.JSON:
        success = {"description": "Success", "content": {"application/json": {"schema": {"$ref": REF + "Success"}}}}
    else:
        success = {"description": f"Success ({op.produces})",
                   "content": {op.produces: {"schema": {"type": "string"}}}}
    return {"200": success, **{status: {"$ref": "#/components/responses/Error"} for status in doc.error_statuses}}
