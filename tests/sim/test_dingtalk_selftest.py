"""Self-tests of the DingTalk simulator, driven by a tiny raw WebSocket client.

They pin the wire behaviour collabd's tests rely on (Stream registration,
single-use tickets, JSON frames and ACK checking, SYSTEM ping echo, disconnect
make-before-break detection, redelivery, sessionWebhook, group send, cards,
token errors) without involving the C daemon.  Each test gets its own
simulator process.

Run: /usr/bin/python3 -m pytest -q tests/sim
"""

import asyncio
import json
import os
import sys
import urllib.parse

import pytest
import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dingctl import DingSim  # noqa: E402

CLIENT_ID = "dingsimclientid"
CLIENT_SECRET = "simsecret"
CID = "cidSimGroup123=="
BOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"


@pytest.fixture
def sim():
    s = DingSim.start(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    yield s
    code = s.stop()
    assert code == 0, f"simulator exit code {code}\n{s.log()}"
    assert CLIENT_SECRET not in s.log(), "client secret leaked into the simulator log"


def run(coro, timeout=10):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def ctl(fn, *args, **kwargs):
    """Blocking dingctl calls off the event loop, so the ws client keeps reading."""
    return await asyncio.to_thread(fn, *args, **kwargs)


# -- a deliberately small client -------------------------------------------------------

def ws_url(sim) -> str:
    status, body = sim.open_connection()
    assert status == 200, body
    assert body["endpoint"] == f"ws://127.0.0.1:{sim.ws_port}/connect"
    return body["endpoint"] + "?ticket=" + urllib.parse.quote(body["ticket"])


async def recv(ws, timeout=3) -> dict:
    text = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(text, str)
    return json.loads(text)


async def recv_topic(ws, topic, timeout=3) -> dict:
    """Next frame with this topic (skipping e.g. SYSTEM frames)."""
    while True:
        frame = await recv(ws, timeout)
        if frame["headers"]["topic"] == topic:
            return frame


def ack(frame, data, code=200) -> str:
    return json.dumps({"code": code, "headers": {"contentType": "application/json",
                                                 "messageId": frame["headers"]["messageId"]},
                       "message": "OK", "data": json.dumps(data)})


def token(sim) -> dict:
    return {"x-acs-dingtalk-access-token": sim.access_token()}


# -- tests --------------------------------------------------------------------------------

def test_robot_message_push_and_ack(sim):
    async def scenario():
        async with websockets.connect(ws_url(sim)) as ws:
            await ctl(sim.wait_connected)
            sent = await ctl(sim.inject_message, CID, "manager7675", "你好",
                             sender_nick="张三")
            frame = await recv(ws)
            assert set(frame) == {"specVersion", "type", "headers", "data"}
            assert frame["specVersion"] == "1.0" and frame["type"] == "CALLBACK"
            h = frame["headers"]
            assert h["topic"] == BOT_TOPIC and h["messageId"] == sent["message_id"]
            assert h["contentType"] == "application/json" and h["time"].isdigit()
            assert {"appId", "connectionId", "simUnknownHeader"} <= h.keys()
            assert isinstance(frame["data"], str)  # JSON inside a string
            data = json.loads(frame["data"])
            assert data["msgId"] == sent["msg_id"] and data["conversationId"] == CID
            assert data["conversationType"] == "2" and data["text"]["content"] == " 你好"
            assert data["robotCode"] == CLIENT_ID and data["isInAtList"] is True
            assert data["senderStaffId"] == "manager7675" and data["senderNick"] == "张三"
            assert data["sessionWebhook"] == sent["session_webhook"]
            assert data["sessionWebhookExpiredTime"] - data["createAt"] == 90 * 60 * 1000

            await ws.send(ack(frame, {"response": None}))
            got = await ctl(sim.wait_acked, sent["msg_id"])
            assert got["problems"] == [] and got["data"] == {"response": None}
            assert got["topic"] == BOT_TOPIC and got["message_id"] == h["messageId"]
            state = await ctl(sim.state)
            assert state["unacked"] == [] and state["connections_total"] == 1
            assert state["opens"][0]["accept_json"] is True
            assert {"type": "CALLBACK", "topic": BOT_TOPIC} in state["opens"][0]["subscriptions"]
    run(scenario())


def test_bad_acks_are_flagged_and_unacked_messages_redelivered(sim):
    async def scenario():
        sim.set_config(redeliver_after=0.3)
        sent = sim.inject_message(CID, "u1", "while you were away")
        assert sent["queued"] is True  # no connection yet
        async with websockets.connect(ws_url(sim)) as ws:
            first = await recv(ws)
            # No "response" wrapper, data not a string: two problems, but code 200 counts.
            await ws.send(json.dumps({"code": 500, "headers": {
                "contentType": "application/json",
                "messageId": first["headers"]["messageId"]}, "message": "err", "data": {}}))
            again = await recv(ws)
            assert again["headers"]["messageId"] != first["headers"]["messageId"]
            assert json.loads(again["data"])["msgId"] == sent["msg_id"]
            await ws.send(json.dumps({"code": 200, "headers": {"messageId": "nope"},
                                      "data": "{}"}))
            await ws.send(ack(again, {"response": "SUCCESS"}))
            await ctl(sim.wait_acked, sent["msg_id"])
            acks = await ctl(sim.acks)
            assert "data is not a string of JSON" in acks[0]["problems"]
            assert "CALLBACK ack data without 'response'" in acks[0]["problems"]
            assert "headers.messageId unknown" in acks[1]["problems"]
            assert acks[2]["problems"] == []
            assert (await ctl(sim.state))["unacked"] == []
    run(scenario())


def test_system_ping_echo(sim):
    async def scenario():
        async with websockets.connect(ws_url(sim)) as ws:
            await ctl(sim.wait_connected)
            await ctl(sim.system_ping)
            ping = await recv(ws)
            assert ping["type"] == "SYSTEM" and ping["headers"]["topic"] == "ping"
            assert "opaque" in json.loads(ping["data"])
            await ws.send(json.dumps({"code": 200, "headers": ping["headers"],
                                      "message": "OK", "data": ping["data"]}))
            await ctl(sim.system_ping)
            ping2 = await recv(ws)
            await ws.send(ack(ping2, {"opaque": "wrong"}))
            acks = await ctl(sim.wait_for, lambda: len(sim.acks()) == 2 and sim.acks())
            assert acks[0]["problems"] == []
            assert acks[1]["problems"] == ["SYSTEM ping ack does not echo the ping's data"]
            state = await ctl(sim.state)
            assert state["pings_sent"] == 2 and state["pings_answered"] == 1
            assert [p["echo_ok"] for p in state["pings"]] == [True, False]
    run(scenario())


def test_disconnect_make_before_break(sim):
    async def scenario():
        old = await websockets.connect(ws_url(sim))
        await ctl(sim.wait_connected)
        rec = await ctl(sim.disconnect, close_after=0.5)
        frame = await recv(old)
        assert frame["type"] == "SYSTEM" and frame["headers"]["topic"] == "disconnect"
        assert json.loads(frame["data"])["reason"]
        await old.send(ack(frame, {}))
        # The old connection is draining: a push must not go there.
        async with websockets.connect(ws_url(sim)) as new:
            await ctl(sim.wait_connected, 2)
            sent = await ctl(sim.inject_message, CID, "u1", "after disconnect")
            assert sent["conn"] != rec["conn"]
            msg = await recv(new)
            await new.send(ack(msg, {"response": None}))
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(old.recv(), 3)  # server closes after close_after
            d = await ctl(sim.wait_disconnect_settled)
            assert d["make_before_break"] is True and d["closed_by"] == "server"
            assert d["acked"] is True

        # Break before make: close first, reconnect afterwards.
        async with websockets.connect(ws_url(sim)) as ws:
            await ctl(sim.wait_connected)
            await ctl(sim.disconnect, close_after=5)
            await recv(ws)
        d = await ctl(sim.wait_disconnect_settled)
        assert d["make_before_break"] is False and d["closed_by"] == "client"
        async with websockets.connect(ws_url(sim)):
            await ctl(sim.wait_for, lambda: sim.state()["disconnects"][-1][
                "reconnected_after_ms"] is not None)
    run(scenario())


def test_ticket_single_use_and_open_errors(sim):
    async def scenario():
        url = ws_url(sim)
        async with websockets.connect(url):
            pass
        with pytest.raises(websockets.InvalidStatusCode) as reused:
            await websockets.connect(url)
        assert reused.value.status_code == 403
        with pytest.raises(websockets.InvalidStatusCode) as unknown:
            await websockets.connect(url.split("?")[0] + "?ticket=bogus")
        assert unknown.value.status_code == 401
    run(scenario())
    status, _, body = sim.call("POST", "/v1.0/gateway/connections/open",
                               {"clientId": CLIENT_ID, "clientSecret": "wrong",
                                "subscriptions": []}, {"Accept": "application/json"})
    assert status == 401 and body["code"] == "invalidClientIdOrSecret" and body["requestid"]
    status, body = sim.open_connection(accept=False)
    assert status == 200 and isinstance(body, str) and body.startswith("<?xml")
    sim.fail_open(status=500)
    assert sim.open_connection()[0] == 500
    assert sim.open_connection()[0] == 200
    assert [o["accept_json"] for o in sim.state()["opens"]] == [True, True, False, True, True]


def test_webhook_send_recorded_and_expiry(sim):
    sent = sim.inject_message(CID, "manager7675", "hi")
    url = urllib.parse.urlsplit(sent["session_webhook"])
    path = f"{url.path}?{url.query}"
    status, _, body = sim.call("POST", path, {
        "msgtype": "markdown", "markdown": {"title": "T", "text": "#### hi @manager7675"},
        "at": {"atUserIds": ["manager7675"]}})
    assert (status, body) == (200, {"errcode": 0, "errmsg": "ok"})
    status, _, body = sim.call("POST", path, {"msgtype": "text", "text": {"content": "no at"},
                                              "at": {"atUserIds": ["bob"]}})
    assert body["errcode"] == 0
    msgs = sim.wait_messages(2, via="webhook")
    assert msgs[0]["conversation_id"] == CID and msgs[0]["msgtype"] == "markdown"
    assert msgs[0]["title"] == "T" and msgs[0]["at_user_ids"] == ["manager7675"]
    assert msgs[0]["problems"] == [] and msgs[0]["in_reply_to"] == sent["msg_id"]
    assert msgs[1]["problems"] == ["atUserIds has 'bob' but the text has no '@bob'"]

    sim.fail("/robot/sendBySession", body={"errcode": 410100, "errmsg": "发送速度太快而限流"})
    status, _, body = sim.call("POST", path, {"msgtype": "text", "text": {"content": "x"}})
    assert (status, body["errcode"]) == (200, 410100)
    sim.expire_webhooks()
    status, _, body = sim.call("POST", path, {"msgtype": "text", "text": {"content": "x"}})
    assert (status, body["errcode"]) == (200, 300005)
    status, _, body = sim.call("POST", "/robot/sendBySession?session=unknown",
                               {"msgtype": "text", "text": {"content": "x"}})
    assert body["errcode"] == 300005
    assert len(sim.messages()) == 2


def test_group_send_token_and_errors(sim):
    body = {"robotCode": CLIENT_ID, "openConversationId": CID, "msgKey": "sampleMarkdown",
            "msgParam": json.dumps({"title": "T", "text": "**hi**"})}
    path = "/v1.0/robot/groupMessages/send"
    status, headers, err = sim.call("POST", path, body, {"x-acs-dingtalk-access-token": "bad"})
    assert status == 400 and err["code"] == "InvalidAuthentication"
    assert err["message"] == "不合法的access_token" and headers["x-acs-request-id"]
    assert sim.call("POST", path, body)[2]["code"] == "InvalidAuthentication"

    auth = token(sim)
    assert token(sim) == auth  # same token while valid
    status, _, ok = sim.call("POST", path, body, auth)
    assert status == 200 and ok["processQueryKey"]
    m = sim.wait_messages(1, via="api")[0]
    assert (m["conversation_id"], m["msgtype"], m["text"], m["title"]) == (
        CID, "sampleMarkdown", "**hi**", "T")

    long = dict(body, msgParam=json.dumps({"title": "T", "text": "x" * 15000}))
    status, _, err = sim.call("POST", path, long, auth)
    assert (status, err["code"]) == (400, "invalidParameter.msgParam.tooLong")
    sim.fail("/v1.0/robot/", status=403)
    status, _, err = sim.call("POST", path, body, auth)
    assert (status, err["code"]) == (403, "Forbidden.AccessDenied.QpsLimitForApi")
    sim.fail("/v1.0/robot/", status=429)
    assert sim.call("POST", path, body, auth)[2]["code"] == "system.busy"
    sim.expire_tokens()
    assert sim.call("POST", path, body, auth)[2]["code"] == "InvalidAuthentication"
    status, _, err = sim.call("POST", "/v1.0/oauth2/accessToken",
                              {"appKey": CLIENT_ID, "appSecret": "nope"})
    assert (status, err["code"]) == (400, "invalidClientIdOrSecret")
    assert sim.state()["token_fetches"] == 2
    assert sim.call("GET", "/nope")[0] == 404


def test_card_create_callback_and_update(sim):
    auth = token(sim)
    create = {"cardTemplateId": "tpl-1.schema", "outTrackId": "card-001",
              "callbackType": "STREAM",
              "cardData": {"cardParamMap": {"title": "Build #42", "status": "pending"}},
              "openSpaceId": f"dtv1.card//IM_GROUP.{CID}",
              "imGroupOpenDeliverModel": {"robotCode": CLIENT_ID,
                                          "atUserIds": {"manager7675": "张三"}},
              "userIdType": 1}
    status, _, body = sim.call("POST", "/v1.0/card/instances/createAndDeliver", create, auth)
    assert status == 200 and body["success"] is True
    res = body["result"]["deliverResults"][0]
    assert res["spaceType"] == "IM_GROUP" and res["spaceId"] == CID and res["success"]
    bad = dict(create, outTrackId="card-002", cardData={"cardParamMap": {"n": 1}})
    assert sim.call("POST", "/v1.0/card/instances/createAndDeliver", bad, auth)[0] == 400

    async def scenario():
        async with websockets.connect(ws_url(sim)) as ws:
            await ctl(sim.wait_connected)
            sent = await ctl(sim.card_callback, CID, "manager7675", "card-001",
                             {"action": "accept"}, ["btn1"])
            frame = await recv_topic(ws, CARD_TOPIC)
            data = json.loads(frame["data"])
            assert data["type"] == "actionCallback" and data["outTrackId"] == "card-001"
            assert json.loads(data["content"]) == {
                "cardPrivateData": {"actionIds": ["btn1"], "params": {"action": "accept"}}}
            assert frame["headers"]["messageId"] == sent["message_id"]
            await ws.send(ack(frame, {"response": {
                "cardUpdateOptions": {"updateCardDataByKey": True},
                "cardData": {"cardParamMap": {"status": "accepted"}}}}))
            got = await ctl(sim.wait_acked, "card-001")
            assert got["problems"] == []
    run(scenario())

    upd = {"outTrackId": "card-001", "cardData": {"cardParamMap": {"note": "done"}},
           "cardUpdateOptions": {"updateCardDataByKey": True}}
    assert sim.call("PUT", "/v1.0/card/instances", upd, auth)[2] == {
        "success": True, "result": True}
    card = sim.card("card-001")
    assert card["card_data"] == {"title": "Build #42", "status": "accepted", "note": "done"}
    assert [u["via"] for u in card["updates"]] == ["callback", "api"]
    assert card["at_user_ids"] == ["manager7675"] and card["conversation_id"] == CID
    status, _, err = sim.call("PUT", "/v1.0/card/instances", dict(upd, outTrackId="x"), auth)
    assert (status, err["code"]) == (400, "param.cardNotExist")
