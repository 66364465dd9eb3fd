import io
import json
import logging

from chalice.test import Client

from app import app
from chalicelib import logs


def test_every_request_logs_a_json_line_with_its_request_id():
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(logs.logger.registered_formatter)
    logging.getLogger("broker").addHandler(handler)
    try:
        with Client(app, stage_name="local") as client:
            client.http.get("/events/symbol:BTCUSDT")
    finally:
        logging.getLogger("broker").removeHandler(handler)
    lines = [json.loads(line) for line in written.getvalue().splitlines()]
    access = [line for line in lines if line["message"] == "request"]
    assert access[-1]["route"] == "/events/{stream}" and access[-1]["status"] == 200
    assert access[-1]["request_id"] and access[-1]["level"] == "INFO"


def test_private_streams_are_not_replayed_on_the_public_route():
    with Client(app, stage_name="local") as client:
        answer = client.http.get("/events/user:123")
    assert answer.status_code == 403
    assert answer.json_body["code"] == 1010


def test_the_developer_event_route_appends_to_public_streams_only():
    with Client(app, stage_name="local") as client:
        refused = client.http.post("/dev/events", headers={"Content-Type": "application/json"},
                                   body=json.dumps({"stream": "user:1"}))
        accepted = client.http.post("/dev/events", headers={"Content-Type": "application/json"},
                                    body=json.dumps({"stream": "symbol:X", "payload": {"a": 1}}))
    assert refused.status_code == 400 and refused.json_body["code"] == 2001
    assert accepted.json_body["id"] == 1 and accepted.json_body["payload"] == {"a": 1}


def test_bad_json_gets_a_json_error_not_a_server_error():
    with Client(app, stage_name="local") as client:
        answer = client.http.post("/dev/events", headers={"Content-Type": "application/json"}, body="{nope")
    assert answer.status_code == 400 and answer.json_body["code"] == 2001
