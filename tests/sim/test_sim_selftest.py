"""Self-tests of the Feishu simulator, driven by a tiny raw WebSocket client.

They pin the wire behaviour collabd's tests rely on (bootstrap, single-use
tickets, pbbp2 push/ack, fragments, ping/pong, redelivery, uuid idempotency,
auth and 429 errors) without involving the C daemon.  Each test gets its own
simulator process (startup is ~0.3 s) so no state leaks between tests.

Run: /usr/bin/python3 -m pytest -q tests/sim
"""

import asyncio
import base64
import json
import os
import sys

import pytest
import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbbp2  # noqa: E402
from simctl import Sim  # noqa: E402

APP_ID = "cli_0123456789abcdef"
APP_SECRET = "simsecret"


@pytest.fixture
def sim():
    s = Sim.start(app_id=APP_ID, app_secret=APP_SECRET)
    yield s
    code = s.stop()
    assert code == 0, f"simulator exit code {code}\n{s.log()}"
    assert APP_SECRET not in s.log(), "app secret leaked into the simulator log"


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 8))


async def ctl(fn, *args, **kwargs):
    """Blocking simctl calls off the event loop, so the ws client keeps reading."""
    return await asyncio.to_thread(fn, *args, **kwargs)


# -- a deliberately small client -------------------------------------------------------

def bootstrap(sim) -> dict:
    status, _, body = sim.call("POST", "/callback/ws/endpoint",
                               {"AppID": APP_ID, "AppSecret": APP_SECRET})
    assert status == 200 and body["code"] == 0, body
    return body["data"]


def service_id_of(url: str) -> int:
    from urllib.parse import parse_qs, urlsplit
    return int(parse_qs(urlsplit(url).query)["service_id"][0])


async def recv_frame(ws, timeout=3):
    data = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(data, bytes)
    return pbbp2.decode(data)


def ack_for(frame, code=200, data=None) -> bytes:
    """Echo the frame back with biz_rt appended and a {"code":...} payload (§1.7)."""
    ack = pbbp2.Frame()
    ack.CopyFrom(frame)
    ack.headers.add(key="biz_rt", value="3")
    body = {"code": code}
    if data is not None:
        body["data"] = base64.b64encode(json.dumps(data).encode()).decode()
    ack.payload = json.dumps(body).encode()
    return pbbp2.encode(ack)


# -- tests --------------------------------------------------------------------------------

def test_event_push_and_ack(sim):
    async def scenario():
        url = bootstrap(sim)["URL"]
        async with websockets.connect(url) as ws:
            await ctl(sim.wait_connected)
            sent = await ctl(sim.inject_message, "oc_chat", "ou_alice", "@_user_1 hi",
                             mentions=[{"key": "@_user_1", "open_id": "ou_bot", "name": "bot"}])
            frame = await recv_frame(ws)
            hdrs = pbbp2.header_dict(frame)
            assert frame.method == 1 and frame.service == service_id_of(url)
            assert hdrs["type"] == "event" and hdrs["sum"] == "1" and hdrs["seq"] == "0"
            assert hdrs["message_id"] == sent["frame_message_id"]
            assert {"trace_id", "timestamp"} <= hdrs.keys()
            doc = json.loads(frame.payload)
            assert doc["schema"] == "2.0"
            assert doc["header"]["event_type"] == "im.message.receive_v1"
            assert doc["header"]["event_id"] == sent["event_id"]
            msg = doc["event"]["message"]
            assert msg["message_id"] == sent["message_id"]
            assert isinstance(msg["content"], str)  # JSON-encoded string, not an object
            assert json.loads(msg["content"]) == {"text": "@_user_1 hi"}
            assert msg["mentions"][0]["id"]["open_id"] == "ou_bot"
            assert doc["event"]["sender"]["sender_id"]["open_id"] == "ou_alice"

            await ws.send(ack_for(frame, data={}))
            ack = await ctl(sim.wait_acked, sent["event_id"])
            assert ack["problems"] == [] and ack["data"] == {} and ack["biz_rt"] == "3"
            assert (await ctl(sim.state))["unacked"] == []
    run(scenario())


def test_fragments_and_bad_frames(sim):
    async def scenario():
        async with websockets.connect(bootstrap(sim)["URL"]) as ws:
            await ctl(sim.wait_connected)
            sent = await ctl(sim.inject_message, "oc_chat", "ou_bob", "x" * 300, fragments=3)
            frames = [await recv_frame(ws) for _ in range(3)]
            hdrs = [pbbp2.header_dict(f) for f in frames]
            assert {h["message_id"] for h in hdrs} == {sent["frame_message_id"]}
            assert [(h["sum"], h["seq"]) for h in hdrs] == [("3", "0"), ("3", "1"), ("3", "2")]
            doc = json.loads(b"".join(f.payload for f in frames))
            assert doc["event"]["message"]["message_id"] == sent["message_id"]
            # One ack for the merged message, on the frame that completed it (like the SDKs).
            await ws.send(ack_for(frames[-1]))
            await ws.send(b"\x00garbage")
            await ws.send("text is not allowed")
            await ctl(sim.wait_acked, sent["event_id"])
            bad = await ctl(sim.wait_for, lambda: len(sim.bad_frames()) >= 2 and sim.bad_frames())
            assert len(bad) == 2
    run(scenario())


def test_ping_pong_carries_client_config(sim):
    async def scenario():
        sim.set_config(ping_interval=7, reconnect_interval=3, reconnect_nonce=1)
        data = bootstrap(sim)
        assert data["ClientConfig"] == {"PingInterval": 7, "ReconnectCount": -1,
                                        "ReconnectInterval": 3, "ReconnectNonce": 1}
        service = service_id_of(data["URL"])
        async with websockets.connect(data["URL"]) as ws:
            await ws.send(pbbp2.encode(pbbp2.make_frame(0, 0, service, 0, {"type": "ping"})))
            pong = await recv_frame(ws)
            assert pong.method == 0 and pbbp2.header_dict(pong)["type"] == "pong"
            assert pong.service == service
            assert json.loads(pong.payload)["PingInterval"] == 7
        state = sim.state()
        assert state["pings"] == 1 and state["ping_service_ids"] == [service]
    run(scenario())


def test_ticket_is_single_use_and_handshake_failures(sim):
    async def scenario():
        url = bootstrap(sim)["URL"]
        async with websockets.connect(url):
            pass
        with pytest.raises(websockets.InvalidStatusCode) as reused:
            await websockets.connect(url)
        assert reused.value.status_code == 514
        assert reused.value.headers["handshake-autherrcode"] == "1000040351"
        sim.fail_handshake(403)
        with pytest.raises(websockets.InvalidStatusCode) as refused:
            await websockets.connect(bootstrap(sim)["URL"])
        assert refused.value.headers["handshake-status"] == "403"
        state = sim.state()
        assert state["connections_total"] == 1 and len(state["handshake_rejects"]) == 2
    run(scenario())


def test_queue_while_offline_then_redeliver_unacked(sim):
    async def scenario():
        sim.set_config(redeliver_after=0.3)
        sent = sim.inject_message("oc_chat", "ou_carol", "while you were away")
        assert sent["queued"] is True
        async with websockets.connect(bootstrap(sim)["URL"]) as ws:
            first = await recv_frame(ws)
            await ws.send(ack_for(first, code=500))  # a failed ack leaves it unacked
            again = await recv_frame(ws)
            assert json.loads(again.payload)["header"]["event_id"] == sent["event_id"]
            assert (pbbp2.header_dict(again)["message_id"]
                    != pbbp2.header_dict(first)["message_id"])
            await ws.send(ack_for(again))
            await ctl(sim.wait_acked, sent["event_id"])
            assert (await ctl(sim.state))["unacked"] == []
    run(scenario())


def test_openapi_auth_uuid_dedupe_and_429(sim):
    _, _, tok = sim.call("POST", "/open-apis/auth/v3/tenant_access_token/internal",
                         {"app_id": APP_ID, "app_secret": APP_SECRET})
    assert tok["code"] == 0 and tok["expire"] == 7200
    auth = {"Authorization": "Bearer " + tok["tenant_access_token"]}
    path = "/open-apis/im/v1/messages?receive_id_type=chat_id"
    body = {"receive_id": "oc_chat", "msg_type": "text",
            "content": json.dumps({"text": "hi"}), "uuid": "u-1"}

    status, _, first = sim.call("POST", path, body, auth)
    _, _, second = sim.call("POST", path, body, auth)
    assert status == 200 and first["code"] == 0
    assert second["data"]["message_id"] == first["data"]["message_id"]
    assert len(sim.messages()) == 1 and sim.state()["dup_uuid_hits"] == 1

    bad = dict(body, content={"text": "not a string"}, uuid="u-2")
    status, _, err = sim.call("POST", path, bad, auth)
    assert (status, err["code"]) == (400, 230001)

    sim.fail("/open-apis/im/", status=429, count=1, reset=2)
    status, headers, err = sim.call("POST", path, dict(body, uuid="u-3"), auth)
    assert (status, err["code"]) == (429, 99991400)
    assert headers["x-ogw-ratelimit-reset"] == "2"
    assert sim.call("POST", path, dict(body, uuid="u-3"), auth)[0] == 200

    status, _, err = sim.call("GET", "/open-apis/bot/v3/info")
    assert (status, err["code"]) == (400, 99991661)
    sim.expire_tokens()
    status, _, err = sim.call("GET", "/open-apis/bot/v3/info", headers=auth)
    assert (status, err["code"]) == (400, 99991663)
    assert sim.call("GET", "/nope")[2] == "404 page not found"
    assert [r["code"] for r in sim.requests()][-3:] == [99991661, 99991663, None]
