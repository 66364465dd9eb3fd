import asyncio
import json

import requests
import websockets


def test_the_health_route_reports_every_part_up(stack):
    answer = requests.get(f"{stack.rest_url}/health", timeout=10)
    body = answer.json()
    assert answer.status_code == 200, body
    assert body["status"] == "up"
    assert {"dynamodb", "matching_queue", "matching_dead_letter_queue", "custody_queue", "websocket"} <= set(
        body["parts"])
    assert all(part["up"] for part in body["parts"].values())


def test_a_websocket_client_receives_an_event_appended_through_the_app(stack):
    async def scenario():
        async with websockets.connect(stack.ws_url) as socket:
            await socket.send(json.dumps({"op": "subscribe", "stream": "symbol:DEMO"}))
            subscribed = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert subscribed["op"] == "subscribed"
            appended = requests.post(f"{stack.rest_url}/dev/events", timeout=10, json={
                "stream": "symbol:DEMO", "type": "demo.hello", "payload": {"n": 1}}).json()
            pushed = json.loads(await asyncio.wait_for(socket.recv(), 10))
            return appended, pushed

    appended, pushed = asyncio.run(scenario())
    assert pushed["type"] == "demo.hello" and pushed["payload"] == {"n": 1}
    assert pushed["id"] == appended["id"]


def test_a_reconnecting_client_replays_what_it_missed_from_its_last_id(stack):
    for n in range(3):
        requests.post(f"{stack.rest_url}/dev/events", timeout=10,
                      json={"stream": "symbol:REPLAY", "type": "demo", "payload": {"n": n}})

    async def scenario():
        async with websockets.connect(stack.ws_url) as socket:
            await socket.send(json.dumps({"op": "subscribe", "stream": "symbol:REPLAY", "from_id": 1}))
            frames = [json.loads(await asyncio.wait_for(socket.recv(), 10)) for _ in range(3)]
            return frames

    frames = asyncio.run(scenario())
    assert frames[0]["op"] == "subscribed"
    assert [f["payload"]["n"] for f in frames[1:]] == [1, 2]


def test_unknown_paths_and_wrong_methods_answer_json(stack):
    for method, path in (("GET", "/no/such/route"), ("DELETE", "/health")):
        answer = requests.request(method, f"{stack.rest_url}{path}", timeout=10)
        assert answer.status_code >= 400
        assert isinstance(answer.json(), dict)
