"""Composition root: registers each API family's blueprint and the event handlers.

WebSocket handlers must be declared on `app` itself (Chalice does not wrap them inside a
Blueprint), so they live here and call plain functions in chalicelib.
"""
from chalice import Chalice, Rate

from chalicelib import logs
from chalicelib.api import websocket
from chalicelib.api.admin import admin_api
from chalicelib.api.apidocs import docs_api
from chalicelib.api.custody_callbacks import custody_callbacks
from chalicelib.api.klip import a2a_api, approval_page, partners_api
from chalicelib.api.oauth import oauth_api
from chalicelib.api.openapi import openapi_blueprint
from chalicelib.api.org import org_blueprint
from chalicelib.api.platform import platform
from chalicelib.api.user import user_api
from chalicelib.services import campaigns
from chalicelib.services import events
from chalicelib.services import ledger
from chalicelib.services import liabilities
from chalicelib.services import orders
from chalicelib.services import statistics
from chalicelib.services import withdrawals
from chalicelib.workers import custody
from chalicelib.workers import matcher

app = Chalice(app_name="broker")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.log.setLevel("INFO")

app.register_blueprint(platform)
app.register_blueprint(openapi_blueprint)
app.register_blueprint(custody_callbacks)
app.register_blueprint(partners_api)
app.register_blueprint(a2a_api)
app.register_blueprint(approval_page)
app.register_blueprint(user_api)
app.register_blueprint(org_blueprint)
app.register_blueprint(oauth_api)
app.register_blueprint(admin_api)
app.register_blueprint(docs_api)
app.api.binary_types.append("multipart/form-data")  # uploads through API Gateway arrive intact


@app.middleware("http")
def log_request(event, get_response):
    return logs.around_request(event, get_response)


@app.on_ws_connect()
def ws_connect(event):
    return websocket.connect(event.to_dict())


@app.on_ws_message()
def ws_message(event):
    return websocket.message(event.to_dict())


@app.on_ws_disconnect()
def ws_disconnect(event):
    return websocket.disconnect(event.to_dict())


@app.on_sqs_message(queue="broker-matching.fifo", batch_size=10, name="matcher")
def match_orders(event):
    return matcher.handle_batch(event.to_dict())


@app.on_sqs_message(queue="broker-custody.fifo", batch_size=1, name="custody")
def broadcast_withdrawals(event):
    return custody.handle_batch(event.to_dict())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def requeue_stale_withdrawals(event):
    """Withdrawals whose hand-over to the custody queue was lost still get broadcast."""
    return {"requeued": withdrawals.requeue_stale(min_age_seconds=60)}


@app.schedule(Rate(1, unit=Rate.MINUTES))
def requeue_stale_matching_work(event):
    """Orders whose enqueue was lost after their commit still reach the matcher."""
    return {"requeued": orders.requeue_stale_work(min_age_seconds=60)}


@app.schedule(Rate(1, unit=Rate.MINUTES))
def relay_pending_events(event):
    """Finishes relaying events whose request died between commit and relay."""
    return {"relayed": events.relay_pending(min_age_seconds=30)}


@app.schedule(Rate(1, unit=Rate.MINUTES))
def count_org_statistics(event):
    """Counts new org events into the Org API statistics (within the events' 30-day retention)."""
    return {"counted": statistics.catch_up_all()}


@app.schedule(Rate(1, unit=Rate.MINUTES))
def pay_campaign_bonuses(event):
    """Pays what campaign rules owe for new org events (within the events' 30-day retention)."""
    return {"events_read": campaigns.catch_up_all()}


@app.schedule(Rate(1, unit=Rate.HOURS))
def reconcile_ledger(event):
    result = ledger.reconcile()
    if not result.ok:
        logs.logger.error("ledger reconciliation found differences", extra={
            "unbalanced_tokens": {k: str(v) for k, v in result.unbalanced_tokens.items()},
            "mismatched_balances": result.mismatched_balances[:50]})
    return {"ok": result.ok}


@app.schedule(Rate(1, unit=Rate.HOURS))
def publish_liability_roots(event):
    """Proof of liabilities: a fresh Merkle root per org and token (docs/PROOF_OF_LIABILITIES.md)."""
    return liabilities.recompute_all()
