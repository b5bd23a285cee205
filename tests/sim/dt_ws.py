"""WebSocket side of the DingTalk simulator (PLATFORMS.md Part 2 §1.3–1.11).

Serves /connect?ticket=… with python3-websockets' legacy asyncio API.  The
ticket from /v1.0/gateway/connections/open is checked during the upgrade and
spent by any attempt.  All frames are JSON text frames.  Pushes (robot
messages, card callbacks, events) go to one random connection among those that
subscribed to the topic and are not draining after a SYSTEM disconnect.  Every
ACK is matched to the frame it answers by headers.messageId and checked against
§1.5–1.8; unacked robot messages are redelivered under a new messageId.
"""

import asyncio
import http
import itertools
import json
import logging
import random
import secrets
import time
import urllib.parse
import uuid
from typing import Optional

import websockets

from dt_openapi import apply_card_update
from dt_state import TOPIC_CARD_CALLBACK, Push, now_ms

log = logging.getLogger("dtsim.ws")


class Conn:
    """One accepted Stream connection."""

    def __init__(self, cid: int, ws, query: dict, subscriptions: list):
        self.id = cid
        self.ws = ws
        self.query = query
        self.subscriptions = subscriptions
        self.connection_id = str(uuid.uuid4())
        self.opened_mono = time.monotonic()
        self.opened_ms = now_ms()
        self.closed_mono: Optional[float] = None
        self.draining = False  # got SYSTEM disconnect: nothing more is pushed here
        self.server_closing = False

    @property
    def open(self) -> bool:
        return self.closed_mono is None

    def subscribed(self, frame_type: str, topic: str) -> bool:
        if frame_type == "SYSTEM":
            return True
        for sub in self.subscriptions:
            if not isinstance(sub, dict) or sub.get("type") != frame_type:
                continue
            if frame_type == "EVENT" and sub.get("topic") == "*":
                return True
            if frame_type == "CALLBACK" and sub.get("topic") == topic:
                return True
        return False

    def describe(self) -> dict:
        return {"id": self.id, "connection_id": self.connection_id, "open": self.open,
                "draining": self.draining, "subscriptions": self.subscriptions,
                "opened": self.opened_ms}


def _split(path: str) -> tuple:
    parts = urllib.parse.urlsplit(path)
    return parts.path, {k: v[0] for k, v in
                        urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}


def new_message_id() -> str:
    """Shaped like the real `212ca9d7_974_1898c159aa6_1783b`."""
    return (f"{secrets.token_hex(4)}_{secrets.randbelow(900) + 100}_"
            f"{now_ms():x}_{secrets.token_hex(3)[:5]}")


class DtHub:
    """Live connections plus push/ack bookkeeping."""

    def __init__(self, store):
        self.store = store
        self.app_id = str(uuid.uuid4())  # headers.appId: a uuid, not the client id
        self.conns: dict = {}  # id -> Conn, every connection ever accepted
        self.deliveries: dict = {}  # headers.messageId -> delivery dict
        self._ids = itertools.count(1)
        self._keys = itertools.count(1)
        self._rng = random.Random()
        self._tasks: set = set()
        self._last_auto_ping = time.monotonic()

    def live(self) -> list:
        return [c for c in self.conns.values() if c.open]

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- handshake ---------------------------------------------------------------

    def _refuse(self, status: int, reason: str, query: dict):
        self.store.handshake_rejects.append({"query": query, "status": status,
                                             "reason": reason, "time": now_ms()})
        log.info("refusing ws upgrade: %s (%d)", reason, status)
        body = json.dumps({"code": status, "message": reason}).encode()
        return http.HTTPStatus(status), [("Content-Type", "application/json")], body

    async def process_request(self, path: str, request_headers):
        url_path, query = _split(path)
        if url_path != "/connect":
            return self._refuse(404, "no such path", query)
        ticket_id = query.get("ticket", "")
        ticket = self.store.tickets.get(ticket_id)
        if ticket is None:
            return self._refuse(401, "unknown ticket", query)
        if ticket.used:
            return self._refuse(403, "ticket already used", query)
        ticket.used = True  # any attempt spends it
        if time.monotonic() > ticket.expires:
            return self._refuse(403, "ticket expired", query)
        return None

    # -- connection lifetime ---------------------------------------------------------

    async def handler(self, ws):
        _, query = _split(ws.path)
        ticket = self.store.tickets[query["ticket"]]  # checked in process_request
        conn = Conn(next(self._ids), ws, query, ticket.subscriptions)
        self.conns[conn.id] = conn
        self.store.counters["connections_total"] += 1
        self.store.ws_queries.append({"path": ws.path, "query": query, "conn": conn.id})
        for rec in self.store.disconnects:
            if rec["make_before_break"] is False and rec["reconnected_after_ms"] is None:
                rec["reconnected_after_ms"] = int(
                    (conn.opened_mono - rec["_closed_mono"]) * 1000)
        log.info("ws conn %d open (connectionId=%s)", conn.id, conn.connection_id)
        self._flush_queue(conn)
        try:
            async for message in ws:
                self._on_message(conn, message)
        except websockets.ConnectionClosed:
            pass
        finally:
            self._closed(conn)

    def _closed(self, conn: Conn) -> None:
        if not conn.open:
            return
        conn.closed_mono = time.monotonic()
        for rec in self.store.disconnects:
            if rec["conn"] != conn.id or rec["make_before_break"] is not None:
                continue
            newer = [c for c in self.conns.values()
                     if c.id != conn.id and c.opened_mono > rec["_mono"]
                     and c.opened_mono <= conn.closed_mono]
            rec["make_before_break"] = bool(newer)
            rec["new_conn"] = newer[0].id if newer else None
            rec["closed_by"] = "server" if conn.server_closing else "client"
            rec["_closed_mono"] = conn.closed_mono
            rec["open_for_ms"] = int((conn.closed_mono - rec["_mono"]) * 1000)
        log.info("ws conn %d closed (code=%s)", conn.id, conn.ws.close_code)

    def _flush_queue(self, conn: Conn) -> None:
        for push in list(self.store.pushes.values()):
            if push.pending and conn.subscribed(push.frame_type, push.topic):
                push.pending = False
                self._spawn(self.send_push(push, conn))

    async def drop(self, abrupt=False) -> dict:
        conns = self.live()
        for conn in conns:
            conn.server_closing = True
            if abrupt:
                conn.ws.transport.abort()
            else:
                self._spawn(conn.ws.close(1000, "simulator drop"))
        return {"closed": len(conns)}

    # -- outbound --------------------------------------------------------------------

    def _headers(self, conn: Conn, frame_type: str, topic: str, message_id: str,
                 extra: Optional[dict] = None) -> dict:
        headers = {}
        if frame_type != "SYSTEM":
            headers.update(appId=self.app_id, connectionId=conn.connection_id)
        headers.update(contentType="application/json", messageId=message_id,
                       time=str(now_ms()), topic=topic)
        headers.update(extra or {})
        if self.store.config.extra_headers:  # §1.4: unknown keys must be tolerated
            headers["simUnknownHeader"] = "ignore-me"
            headers["traceid"] = secrets.token_hex(8)
        return headers

    async def _send_frame(self, conn: Conn, frame_type: str, topic: str, data,
                          extra_headers=None, **record) -> Optional[str]:
        """Write one downstream frame; returns its messageId, or None if conn is gone."""
        message_id = new_message_id()
        frame = {"specVersion": "1.0", "type": frame_type,
                 "headers": self._headers(conn, frame_type, topic, message_id, extra_headers),
                 "data": data}
        self.deliveries[message_id] = {"type": frame_type, "topic": topic, "data": data,
                                       "conn": conn.id, "mono": time.monotonic(),
                                       "acks": 0, **record}
        try:
            await conn.ws.send(json.dumps(frame, ensure_ascii=False))
        except websockets.ConnectionClosed:
            self.deliveries.pop(message_id, None)
            self._closed(conn)
            return None
        return message_id

    def _eligible(self, frame_type: str, topic: str) -> list:
        return [c for c in self.live() if not c.draining and c.subscribed(frame_type, topic)]

    def new_push(self, frame_type: str, topic: str, data: str, **fields) -> Push:
        push = Push(key=f"push-{next(self._keys)}", frame_type=frame_type, topic=topic,
                    data=data, **fields)
        self.store.pushes[push.key] = push
        return push

    async def send_push(self, push: Push, conn: Optional[Conn] = None) -> dict:
        """Deliver once (new messageId) to conn or a random eligible connection, else queue."""
        while True:
            if conn is None:
                choices = self._eligible(push.frame_type, push.topic)
                if not choices:
                    push.pending = True
                    log.info("%s %s queued: no eligible connection", push.frame_type, push.topic)
                    return {"message_id": None, "queued": True}
                conn = self._rng.choice(choices)
            message_id = await self._send_frame(conn, push.frame_type, push.topic, push.data,
                                                push.event_headers, push=push.key)
            if message_id is not None:
                break
            conn = None  # it died under us: pick another or queue
        push.pending = False
        push.deliveries += 1
        push.sent_at = time.monotonic()
        push.message_ids.append(message_id)
        return {"message_id": message_id, "queued": False, "conn": conn.id}

    def _targets(self, conn_id=None, include_draining=True) -> list:
        conns = [c for c in self.live() if include_draining or not c.draining]
        if conn_id is not None:
            conns = [c for c in conns if c.id == conn_id]
        return conns

    async def system_ping(self, conn_id=None) -> list:
        out = []
        for conn in self._targets(conn_id):
            opaque = str(uuid.uuid4())
            data = json.dumps({"opaque": opaque})
            rec = {"opaque": opaque, "conn": conn.id, "time": now_ms(),
                   "answered": False, "echo_ok": False}
            mid = await self._send_frame(conn, "SYSTEM", "ping", data, ping=opaque)
            if mid is None:
                continue
            rec["message_id"] = mid
            self.store.pings.append(rec)
            self.store.counters["pings_sent"] += 1
            out.append(mid)
        return out

    async def system(self, topic: str, data, conn_id=None) -> list:
        out = []
        for conn in self._targets(conn_id):
            mid = await self._send_frame(conn, "SYSTEM", topic, data)
            if mid is not None:
                out.append(mid)
        return out

    async def disconnect(self, close_after: float, conn_id=None, abrupt=False,
                         reason="persistent connection is timeout") -> Optional[dict]:
        conns = self._targets(conn_id, include_draining=False)
        if not conns:
            return None
        conn = max(conns, key=lambda c: c.opened_mono)  # "the current connection"
        conn.draining = True  # stops delivering on it at once (§1.6)
        rec = {"conn": conn.id, "time": now_ms(), "close_after": close_after,
               "make_before_break": None, "new_conn": None, "closed_by": None,
               "acked": False, "open_for_ms": None, "reconnected_after_ms": None,
               "_mono": time.monotonic(), "_closed_mono": None}
        self.store.disconnects.append(rec)
        rec["message_id"] = await self._send_frame(
            conn, "SYSTEM", "disconnect", json.dumps({"reason": reason}), disconnect=True)
        self._spawn(self._close_later(conn, close_after, abrupt))
        return rec

    async def _close_later(self, conn: Conn, delay: float, abrupt: bool) -> None:
        await asyncio.sleep(delay)
        if not conn.open:
            return
        conn.server_closing = True
        log.info("closing draining conn %d after %.1fs", conn.id, delay)
        if abrupt:
            conn.ws.transport.abort()
        else:
            await conn.ws.close(1000, "disconnect")

    async def raw_frame(self, text: str, conn_id=None) -> dict:
        conns = self._targets(conn_id, include_draining=False)
        if not conns:
            return {"sent": False}
        conn = self._rng.choice(conns)
        # A frame with a messageId is expected to be acked like any other:
        # registered so that its ack is matched, not reported as unknown.
        try:
            frame = json.loads(text)
        except ValueError:
            frame = None
        headers = frame.get("headers") if isinstance(frame, dict) else None
        mid = headers.get("messageId") if isinstance(headers, dict) else None
        if isinstance(mid, str) and mid:
            self.deliveries[mid] = {"type": frame.get("type"), "topic": headers.get("topic"),
                                    "data": frame.get("data"), "conn": conn.id,
                                    "mono": time.monotonic(), "acks": 0}
        try:
            await conn.ws.send(text)
        except websockets.ConnectionClosed:
            return {"sent": False}
        return {"sent": True, "conn": conn.id}

    async def redeliver(self, msg_id=None, force=False) -> list:
        out = []
        for push in list(self.store.pushes.values()):
            if msg_id is not None and push.msg_id != msg_id:
                continue
            if msg_id is None and not push.auto_redeliver:
                continue
            if push.pending or (push.acked and not force):
                continue
            out.append({"msg_id": push.msg_id, **await self.send_push(push)})
        return out

    async def background_loop(self, tick: float = 0.1) -> None:
        """Platform-style redelivery of unacked pushes and the optional SYSTEM pings."""
        while True:
            await asyncio.sleep(tick)
            cfg = self.store.config
            now = time.monotonic()
            for push in list(self.store.pushes.values()):
                if (push.auto_redeliver and not push.acked and not push.pending
                        and push.sent_at is not None
                        and push.deliveries <= cfg.max_redeliveries
                        and now - push.sent_at >= cfg.redeliver_after):
                    log.info("redelivering %s %s (delivery %d)", push.topic,
                             push.msg_id or push.key, push.deliveries + 1)
                    await self.send_push(push)
            if cfg.system_ping_interval > 0:
                if now - self._last_auto_ping >= cfg.system_ping_interval:
                    self._last_auto_ping = now
                    await self.system_ping()
            else:
                self._last_auto_ping = now

    # -- inbound -------------------------------------------------------------------------

    def _bad(self, conn: Conn, reason: str, raw) -> None:
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        self.store.bad_frames.append({"reason": reason, "conn": conn.id, "time": now_ms(),
                                      "raw": text[:4096], "binary": not isinstance(raw, str)})
        log.warning("bad frame from conn %d: %s", conn.id, reason)

    def _on_message(self, conn: Conn, message) -> None:
        if not isinstance(message, str):
            self._bad(conn, "binary WebSocket message (frames must be JSON text)", message)
            return
        try:
            body = json.loads(message)
        except ValueError:
            self._bad(conn, "not JSON", message)
            return
        if not isinstance(body, dict) or ("code" not in body and "headers" not in body):
            self._bad(conn, "not an ACK frame (clients only send ACKs)", message)
            return
        self._on_ack(conn, body, message)

    def _on_ack(self, conn: Conn, body: dict, raw: str) -> None:
        problems = []
        headers = body.get("headers")
        if not isinstance(headers, dict):
            problems.append("headers missing or not an object")
            headers = {}
        mid = headers.get("messageId")
        delivery = None
        if not isinstance(mid, str) or not mid:
            problems.append("headers.messageId missing")
            mid = None
        else:
            delivery = self.deliveries.get(mid)
            if delivery is None:
                problems.append("headers.messageId unknown")
        if headers.get("contentType") != "application/json":
            problems.append(f"headers.contentType is {headers.get('contentType')!r}, "
                            "not 'application/json'")
        code = body.get("code")
        if not isinstance(code, int) or isinstance(code, bool):
            problems.append("code is not an integer")
        if "message" in body and not isinstance(body["message"], str):
            problems.append("message is not a string")

        raw_data = body.get("data")
        data = None
        data_ok = False
        if not isinstance(raw_data, str):
            problems.append("data is not a string of JSON")
        else:
            try:
                data = json.loads(raw_data)
                data_ok = True
            except ValueError:
                problems.append("data is not a string of JSON")
            if isinstance(data, str):
                problems.append("data is JSON-encoded twice")
                try:
                    data = json.loads(data)
                except ValueError:
                    pass
        response = data.get("response") if isinstance(data, dict) else None
        if isinstance(response, str):
            try:
                response = json.loads(response)
            except ValueError:
                pass

        push = self.store.pushes.get(delivery.get("push")) if delivery else None
        latency = int((time.monotonic() - delivery["mono"]) * 1000) if delivery else None
        ftype = delivery["type"] if delivery else None
        topic = delivery["topic"] if delivery else None
        if delivery:
            if delivery["conn"] != conn.id:
                problems.append(f"ACK on conn {conn.id}, frame was sent on conn "
                                f"{delivery['conn']}")
            if delivery["acks"]:
                problems.append("duplicate ACK for this messageId")
            delivery["acks"] += 1
        if ftype == "CALLBACK" and not (isinstance(data, dict) and "response" in data):
            problems.append("CALLBACK ack data without 'response'")
        if ftype == "EVENT" and not (isinstance(data, dict)
                                     and data.get("status") in ("SUCCESS", "LATER")):
            problems.append("EVENT ack data without status SUCCESS or LATER")
        ping = None
        if ftype == "SYSTEM" and topic == "ping":
            ping = next((p for p in self.store.pings if p.get("message_id") == mid), None)
            echo = data_ok and raw_data is not None and (
                raw_data == delivery["data"] or data == json.loads(delivery["data"]))
            if not echo:
                problems.append("SYSTEM ping ack does not echo the ping's data")
            if ping is not None and not ping["answered"]:
                ping["answered"] = True
                ping["echo_ok"] = echo and code == 200
                ping["latency_ms"] = latency
                if ping["echo_ok"]:
                    self.store.counters["pings_answered"] += 1
        if ftype == "SYSTEM" and topic == "disconnect":
            for rec in self.store.disconnects:
                if rec.get("message_id") == mid:
                    rec["acked"] = True
        if (push is not None and push.topic == TOPIC_CARD_CALLBACK and latency is not None
                and latency > self.store.config.card_callback_deadline_ms):
            problems.append(f"card callback answered after {latency} ms "
                            f"(limit {self.store.config.card_callback_deadline_ms})")

        if push is not None and code == 200:
            later = push.frame_type == "EVENT" and isinstance(data, dict) and \
                data.get("status") == "LATER"
            if not later:
                push.acked = True
            if push.topic == TOPIC_CARD_CALLBACK and isinstance(response, dict):
                card = self.store.cards.get(push.out_track_id)
                if card is not None and response:
                    apply_card_update(card, response.get("cardData"),
                                      response.get("userPrivateData"),
                                      response.get("cardUpdateOptions"), via="callback",
                                      user_id=json.loads(push.data).get("userId"))
        self.store.acks.append({
            "message_id": mid, "type": ftype, "topic": topic,
            "msg_id": push.msg_id if push else None,
            "out_track_id": push.out_track_id if push else None,
            "code": code, "message": body.get("message"), "data": data,
            "response": response, "raw": raw, "headers": headers,
            "problems": problems, "latency_ms": latency, "conn": conn.id, "time": now_ms(),
        })
        log.info("ack %s (%s %s) code=%s%s", mid, ftype, topic, code,
                 f" problems={problems}" if problems else "")
