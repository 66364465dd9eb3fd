"""Botocore event hooks on every client the app talks to AWS through.

pynamodb keeps one botocore client per model connection and `chalicelib.gateways.aws`
caches one boto3 client per service; both are plain botocore clients, so a handler
registered on each client's event emitter sees every request and its parsed answer.
The fault harness kills the "process" from these hooks and the cost model counts
requests with them; neither needs a change in production code.
"""
from __future__ import annotations

from typing import Callable, Iterator

from pynamodb.models import Model

from chalicelib.gateways import aws
from chalicelib.store.table import Entity

# (service, operation, api params) before the request is built
BeforeHook = Callable[[str, str, dict], None]
# (service, operation, api params, parsed answer) after the answer arrived, errors included
AfterHook = Callable[[str, str, dict, dict], None]


def _models(root: type = Model) -> Iterator[type]:
    """Children before parents: pynamodb caches a connection on the first class that asks
    and subclasses inherit it, so a base class asking first would hand its schema (without
    the indexes) to every subclass."""
    for sub in root.__subclasses__():
        yield from _models(sub)
        yield sub


def app_clients(services: tuple[str, ...] = ("sqs", "apigatewaymanagementapi")) -> list:
    """Every botocore client in use now: the pynamodb connections and the cached boto3 ones."""
    clients = {}
    for model in _models():
        meta = getattr(model, "Meta", None)
        if getattr(meta, "table_name", None) is None or model is Entity:
            continue
        client = model._get_connection().connection.client
        clients[id(client)] = client
    for service in services:
        try:
            client = aws.client(service)
        except Exception:  # a service this stage does not use
            continue
        clients[id(client)] = client
    return list(clients.values())


def install(name: str, before: BeforeHook | None = None, after: AfterHook | None = None,
            services: tuple[str, ...] = ("sqs",)) -> None:
    """Registers the hooks (one per client and name: a later install replaces them) on every
    client of `app_clients`.

    Call it again after `aws.reset()`: boto3 clients are created afresh then.
    """
    for client in app_clients(services):
        service = client.meta.service_model.service_name
        pending: dict[int, dict] = {}

        def remember(params, model, _service=service, _pending=pending, **_):
            _pending[id(model)] = params
            if before is not None:
                before(_service, model.name, params)

        def answered(parsed, model, _service=service, _pending=pending, **_):
            params = _pending.pop(id(model), {})
            if after is not None:
                after(_service, model.name, params, parsed or {})

        # botocore keeps the first handler of a unique_id: a new harness's hooks replace the last one's
        for event, handler, unique_id in ((f"before-parameter-build.{service}", remember, f"{name}-before-{id(client)}"),
                                          (f"after-call.{service}", answered, f"{name}-after-{id(client)}")):
            client.meta.events.unregister(event, unique_id=unique_id)
            client.meta.events.register(event, handler, unique_id=unique_id)
