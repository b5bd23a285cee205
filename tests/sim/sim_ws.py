"""WebSocket side of the Feishu simulator (PLATFORMS.md §1.2–1.9).

Serves /ws/v2 with python3-websockets' legacy asyncio API.  It checks the
single-use ticket during the upgrade (process_request), answers ping frames
with a pong carrying ClientConfig, pushes data frames (optionally split into
fragments) to one random connection, matches ack frames to what was sent and
notes every way an ack deviates from "the received frame echoed back plus a
biz_rt header", and redelivers unacked events like the platform does.
"""

import asyncio
import base64
import binascii
import itertools
import json
import logging
import random
import secrets
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Optional

import websockets

from sim_cards import card_error, card_problem
from google.protobuf.message import DecodeError

import pbbp2
from sim_events import message_event
from sim_state import MAX_CONNECTIONS, Event, now_ms

log = logging.getLogger("sim.ws")

AUTH_BAD_TICKET = 1000040351  # retryable 514 auth code used for a bad/reused ticket
AUTH_TOO_MANY_CONNECTIONS = 1000040350  # fatal 514 auth code (§1.2)

_PHRASES = {403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
            514: "Auth Failed"}


class _Status(int):
    """An http.HTTPStatus look-alike: websockets needs .value/.phrase, and
    HTTPStatus has no 514, which Feishu uses for auth failures."""

    def __new__(cls, code: int):
        obj = super().__new__(cls, code)
        obj.phrase = _PHRASES.get(code, "Error")
        return obj

    @property
    def value(self):
        return int(self)


@dataclass
class Piece:
    """One fragment: the `sum`/`seq` header values and its payload bytes."""
    sum: str
    seq: str
    payload: bytes


@dataclass
class Delivery:
    """One logical data message on the wire; its fragments share frame_message_id."""
    frame_message_id: str
    frame_type: str
    event: Optional[Event]
    trace_id: str = field(default_factory=lambda: secrets.token_hex(16))
    sent: list = field(default_factory=list)  # one dict per frame actually written


class Conn:
    """An accepted client connection and the ids its endpoint URL carried."""

    def __init__(self, cid: int, ws, query: dict, service_id: int):
        self.id = cid
        self.ws = ws
        self.query = query
        self.service_id = service_id
        self.device_id = query.get("device_id", "")
        # Serialises writers so one push's fragments are not interleaved
        # with another's and pushes arrive in the order they were made.
        self.lock = asyncio.Lock()


def split_payload(payload: bytes, n: int) -> list:
    """Cut payload into n consecutive pieces (the last ones may be short or empty)."""
    size = max(1, -(-len(payload) // n))
    return [payload[i * size:(i + 1) * size] for i in range(n)]


def _query(path: str) -> tuple:
    parts = urllib.parse.urlsplit(path)
    return parts.path, {k: v[0] for k, v in
                        urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}


class WsHub:
    """All live connections plus the push/ack bookkeeping."""

    def __init__(self, store):
        self.store = store
        self.conns: dict = {}  # id -> Conn, accepted and not being dropped
        self.queue: list = []  # step lists waiting for a client to connect
        self.deliveries: dict = {}  # frame message_id -> Delivery
        self._conn_ids = itertools.count(1)
        self._seq_ids = itertools.count(1)
        self._event_keys = itertools.count(1)
        self._rng = random.Random()
        self._tasks: set = set()  # strong refs to fire-and-forget tasks

    # -- handshake --------------------------------------------------------------

    def _refuse(self, status: int, msg: str, autherrcode, query: dict, reason: str):
        self.store.handshake_rejects.append(
            {"query": query, "status": status, "autherrcode": autherrcode,
             "reason": reason, "time": now_ms()})
        log.info("refusing ws upgrade: %s (%d)", reason, status)
        headers = [("handshake-status", str(status)), ("handshake-msg", msg)]
        if autherrcode is not None:
            headers.append(("handshake-autherrcode", str(autherrcode)))
        return _Status(status), headers, f"{status} {msg}\n".encode()

    async def process_request(self, path: str, request_headers):
        """websockets hook: return None to accept, or a response to refuse."""
        url_path, query = _query(path)
        if url_path != "/ws/v2":
            return self._refuse(404, "not found", None, query, "bad path")
        ticket = self.store.tickets.get(query.get("ticket", ""))
        fresh = ticket is not None and not ticket.used
        if ticket is not None:
            ticket.used = True  # any attempt spends it; the client must bootstrap again
        injected = self.store.take_counted(self.store.handshake_fail)
        if injected:
            return self._refuse(injected["status"], injected.get("msg") or "simulated failure",
                                injected.get("autherrcode"), query, "injected")
        if not fresh:
            return self._refuse(514, "invalid ticket", AUTH_BAD_TICKET, query,
                                "unknown or reused ticket")
        if (query.get("access_key") != ticket.access_key
                or query.get("service_id") != str(ticket.service_id)):
            return self._refuse(514, "invalid ticket", AUTH_BAD_TICKET, query,
                                "access_key/service_id do not match the ticket")
        if len(self.conns) >= MAX_CONNECTIONS:
            return self._refuse(514, "exceeded connection limit", AUTH_TOO_MANY_CONNECTIONS,
                                query, "connection limit")
        return None

    # -- connection lifetime -------------------------------------------------------

    async def handler(self, ws):
        _, query = _query(ws.path)
        ticket = self.store.tickets[query["ticket"]]  # validated in process_request
        conn = Conn(next(self._conn_ids), ws, query, ticket.service_id)
        self.conns[conn.id] = conn
        self.store.counters["connections_total"] += 1
        self.store.ws_queries.append(query)
        log.info("ws conn %d open (device_id=%s service=%d)", conn.id, conn.device_id,
                 conn.service_id)
        self._flush_queue(conn)
        try:
            async for message in ws:
                await self._on_message(conn, message)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.conns.pop(conn.id, None)
            log.info("ws conn %d closed (code=%s)", conn.id, ws.close_code)

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _flush_queue(self, conn: Conn) -> None:
        pending, self.queue = self.queue, []
        for steps in pending:
            self._spawn(self._transmit(conn, steps))

    async def drop(self, mid_frame=False, abrupt=False, **message) -> dict:
        """Close every connection; with mid_frame, first send half of a 2-fragment push."""
        conns = list(self.conns.values())
        self.conns.clear()  # new pushes queue instead of racing the close
        result = {"closed": len(conns)}
        if mid_frame and conns:
            doc = message_event(self.store,
                                chat_id=message.get("chat_id", "oc_sim_drop"),
                                sender_open_id=message.get("sender_open_id", "ou_sim_user"),
                                text=message.get("text", "mid-frame drop"))
            event = self.register_event(json.dumps(doc).encode(), doc["header"]["event_id"],
                                        doc["event"]["message"]["message_id"], fragments=2)
            steps = self._event_steps(event)
            await self._transmit(conns[0], steps[:1], requeue=False)
            result.update(event_id=event.event_id, message_id=event.message_id,
                          frame_message_id=event.frame_message_ids[-1])
        for conn in conns:
            if abrupt:
                conn.ws.transport.abort()  # TCP reset-ish: no close frame at all
            else:
                self._spawn(conn.ws.close(1000, "simulator drop"))
        return result

    # -- inbound frames ------------------------------------------------------------

    def _bad(self, conn: Conn, reason: str, raw, frame=None) -> None:
        raw_bytes = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        self.store.bad_frames.append({
            "reason": reason, "conn": conn.id, "time": now_ms(),
            "b64": base64.b64encode(raw_bytes).decode(),
            "frame": pbbp2.describe(frame) if frame is not None else None,
        })
        log.warning("bad frame from conn %d: %s", conn.id, reason)

    async def _on_message(self, conn: Conn, message) -> None:
        if isinstance(message, str):
            self._bad(conn, "text WebSocket message (frames must be binary)", message)
            return
        try:
            frame = pbbp2.decode(message)
        except DecodeError:
            self._bad(conn, "not a valid pbbp2.Frame (garbage or missing required field)",
                      message)
            return
        ftype = pbbp2.header_dict(frame).get("type")
        if frame.method == pbbp2.METHOD_CONTROL and ftype == "ping":
            await self._on_ping(conn, frame)
        elif frame.method == pbbp2.METHOD_DATA:
            self._on_ack(conn, frame, message)
        else:
            self._bad(conn, f"unexpected frame method={frame.method} type={ftype}",
                      message, frame)

    async def _on_ping(self, conn: Conn, frame) -> None:
        counters = self.store.counters
        counters["pings"] += 1
        if frame.service not in self.store.ping_service_ids:
            self.store.ping_service_ids.append(frame.service)
        config = json.dumps(self.store.config.client_config()).encode()
        pong = pbbp2.make_frame(frame.SeqID, frame.LogID, frame.service,
                                pbbp2.METHOD_CONTROL, [("type", "pong")], config)
        try:
            async with conn.lock:
                await conn.ws.send(pbbp2.encode(pong))
        except websockets.ConnectionClosed:
            pass

    def _on_ack(self, conn: Conn, frame, raw: bytes) -> None:
        headers = pbbp2.header_dict(frame)
        delivery = self.deliveries.get(headers.get("message_id"))
        if delivery is None:
            self._bad(conn, "data frame whose message_id header matches nothing sent",
                      raw, frame)
            return
        try:
            body = json.loads(frame.payload.decode("utf-8"))
            code = body["code"]
            if isinstance(code, bool) or not isinstance(code, int):
                raise TypeError
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            self._bad(conn, 'ack payload is not JSON {"code": <int>, ...}', raw, frame)
            return
        problems = self._echo_problems(conn, delivery, frame)
        data = self._ack_data(body, problems)
        event = delivery.event
        sent_at = delivery.sent[-1]["mono"] if delivery.sent else time.monotonic()
        self.store.acks.append({
            "frame_message_id": delivery.frame_message_id,
            "event_id": event.event_id if event else None,
            "seq_id": frame.SeqID, "log_id": frame.LogID,
            "service": frame.service, "method": frame.method,
            "headers": headers, "biz_rt": headers.get("biz_rt"),
            "code": code, "data": data,
            "raw_payload": frame.payload.decode("utf-8", "replace"),
            "duplicate": bool(event and event.acked),
            "latency_ms": int((time.monotonic() - sent_at) * 1000),
            "problems": problems, "conn": conn.id, "time": now_ms(),
        })
        if event is not None and event.card_message_id and not (event.acked and code == 200):
            self._card_answered(event.card_message_id, data, problems)
        if code == 200 and event is not None:
            event.acked = True
        log.info("ack for %s code=%s%s", delivery.frame_message_id, code,
                 f" problems={problems}" if problems else "")

    def _card_answered(self, message_id: str, data, problems: list) -> None:
        """A click answered: the card unlocks; a card in the answer replaces it
        (checked against the same rules as a send)."""
        self.store.card_locks.answered(message_id)
        card = data.get("card") if isinstance(data, dict) else None
        if card is None:
            return
        if not isinstance(card, dict) or card.get("type") != "raw" or not isinstance(card.get("data"), dict):
            problems.append("callback 'card' is not {\"type\": \"raw\", \"data\": {card JSON}}")
            return
        bad = card_problem(card["data"], self.store.left_users)
        if bad:
            problems.append(f"callback card refused: {card_error(*bad)}")
            return
        record = self.store.bot_messages.get(message_id)
        if record is None:
            problems.append("callback card for a message this bot did not send")
            return
        record.setdefault("callback_cards", []).append(card["data"])
        record["shown"] = card["data"]  # the card as users see it now

    @staticmethod
    def _ack_data(body: dict, problems: list):
        """Decode the ack's `data`: a base64 string of JSON, or absent/null (§1.7)."""
        if "headers" in body and body["headers"] is not None and not isinstance(
                body["headers"], dict):
            problems.append("ack 'headers' is neither null nor an object")
        raw = body.get("data")
        if raw is None:
            return None
        if not isinstance(raw, str):
            problems.append("ack 'data' is not a base64 string")
            return None
        try:
            return json.loads(base64.b64decode(raw, validate=True).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            problems.append("ack 'data' is not base64 of UTF-8 JSON")
            return None

    @staticmethod
    def _echo_problems(conn: Conn, delivery: Delivery, frame) -> list:
        """How the ack differs from 'the received frame, plus biz_rt' (§1.7)."""
        problems = []
        sent = next((s for s in delivery.sent
                     if s["seq_id"] == frame.SeqID and s["log_id"] == frame.LogID), None)
        if sent is None:
            problems.append("SeqID/LogID match no frame sent with this message_id")
            if not delivery.sent:
                return problems
            sent = delivery.sent[-1]
        if frame.service != sent["service"]:
            problems.append(f"service {frame.service} != sent {sent['service']}")
        got = pbbp2.header_list(frame)
        biz = [v for k, v in got if k == "biz_rt"]
        if len(biz) != 1:
            problems.append(f"expected exactly one biz_rt header, got {len(biz)}")
        elif not biz[0].isdigit():
            problems.append(f"biz_rt {biz[0]!r} is not a non-negative decimal")
        elif got[-1][0] != "biz_rt":
            problems.append("biz_rt is not appended after the original headers")
        rest = [h for h in got if h[0] != "biz_rt"]
        missing = [k for k, v in sent["headers"] if (k, v) not in rest]
        extra = [k for k, v in rest if (k, v) not in sent["headers"]]
        if missing:
            problems.append(f"headers not echoed unchanged: {missing}")
        if extra:
            problems.append(f"unexpected headers added: {extra}")
        if sent["log_id_new"] is not None and frame.LogIDNew != sent["log_id_new"]:
            problems.append("LogIDNew not echoed")
        return problems

    # -- outbound pushes ---------------------------------------------------------------

    def register_event(self, payload: bytes, event_id=None, message_id=None, *,
                       frame_type="event", fragments=1, order=None,
                       auto_redeliver=True) -> Event:
        key = event_id or f"sim-{next(self._event_keys)}"
        event = Event(key=key, event_id=event_id, message_id=message_id, payload=payload,
                      frame_type=frame_type, fragments=max(1, int(fragments)), order=order,
                      auto_redeliver=auto_redeliver and event_id is not None)
        self.store.events[key] = event
        return event

    def _new_delivery(self, frame_type: str, event=None, frame_message_id=None) -> Delivery:
        delivery = Delivery(frame_message_id or str(uuid.uuid4()), frame_type, event)
        self.deliveries[delivery.frame_message_id] = delivery
        return delivery

    def _event_steps(self, event: Event) -> list:
        delivery = self._new_delivery(event.frame_type, event)
        event.frame_message_ids.append(delivery.frame_message_id)
        n = event.fragments
        pieces = [Piece(str(n), str(i), chunk)
                  for i, chunk in enumerate(split_payload(event.payload, n))]
        order = event.order if event.order is not None else range(n)
        return [("piece", delivery, pieces[i]) for i in order]

    async def push_event(self, event: Event) -> dict:
        """Send (or queue) one delivery of event with a new frame message_id."""
        steps = self._event_steps(event)
        conn = await self._dispatch(steps)
        return {"frame_message_id": event.frame_message_ids[-1], "queued": conn is None}

    async def push_raw(self, blobs: list) -> dict:
        conn = await self._dispatch([("raw", blob) for blob in blobs])
        return {"queued": conn is None}

    async def push_fragments(self, specs: list, frame_type="event") -> dict:
        """Hand-made fragment frames, sent in the given order, header values as given."""
        steps = []
        for spec in specs:
            fmid = str(spec["message_id"])
            delivery = self.deliveries.get(fmid) or self._new_delivery(
                spec.get("type", frame_type), None, fmid)
            steps.append(("piece", delivery, Piece(str(spec["sum"]), str(spec["seq"]),
                                                   base64.b64decode(spec["payload_b64"]))))
        conn = await self._dispatch(steps)
        return {"queued": conn is None}

    async def _dispatch(self, steps: list) -> Optional[Conn]:
        # Cluster mode: each push goes to one random connection (§1.10).
        if not self.conns:
            self._enqueue(steps)
            return None
        conn = self._rng.choice(list(self.conns.values()))
        return conn if await self._transmit(conn, steps) else None

    def _enqueue(self, steps: list) -> None:
        for step in steps:
            if step[0] == "piece" and step[1].event is not None:
                step[1].event.pending = True
        self.queue.append(steps)

    def _data_frame(self, conn: Conn, delivery: Delivery, piece: Piece) -> bytes:
        log_id = secrets.randbits(64)  # full uint64 range: catches signed-int codecs
        headers = [("type", delivery.frame_type), ("message_id", delivery.frame_message_id),
                   ("sum", piece.sum), ("seq", piece.seq), ("trace_id", delivery.trace_id),
                   ("timestamp", str(now_ms()))]
        log_id_new = f"{log_id:x}-{secrets.token_hex(4)}"
        frame = pbbp2.make_frame(next(self._seq_ids), log_id, conn.service_id,
                                 pbbp2.METHOD_DATA, headers, piece.payload, log_id_new)
        delivery.sent.append({"seq_id": frame.SeqID, "log_id": log_id,
                              "service": conn.service_id, "headers": headers,
                              "log_id_new": log_id_new, "mono": time.monotonic()})
        return pbbp2.encode(frame)

    async def _transmit(self, conn: Conn, steps: list, requeue=True) -> bool:
        """Write steps to conn in order; on a dead connection queue them again."""
        try:
            async with conn.lock:
                for step in steps:
                    if step[0] == "raw":
                        await conn.ws.send(step[1])
                    else:
                        await conn.ws.send(self._data_frame(conn, step[1], step[2]))
        except websockets.ConnectionClosed:
            self.conns.pop(conn.id, None)
            log.info("conn %d gone while sending; %s", conn.id,
                     "requeued" if requeue else "dropped")
            if requeue:
                self._enqueue(steps)
            return False
        for event in {id(s[1].event): s[1].event for s in steps
                      if s[0] == "piece" and s[1].event is not None}.values():
            event.pending = False
            event.deliveries += 1
            event.sent_at = time.monotonic()
        return True

    async def redeliver(self, event_id=None, force=False) -> list:
        """Resend unacked events (or the one given; with force, even if acked)."""
        out = []
        for event in list(self.store.events.values()):
            if event_id is not None and event.event_id != event_id:
                continue
            if event.event_id is None or event.pending or (event.acked and not force):
                continue
            sent = await self.push_event(event)
            out.append({"event_id": event.event_id, **sent})
        return out

    async def redelivery_loop(self, tick: float = 0.1) -> None:
        """Platform-style retry: resend an event unacked `redeliver_after` s after sending."""
        while True:
            await asyncio.sleep(tick)
            if not self.conns:
                continue  # pushes only happen while a client is online
            cfg = self.store.config
            now = time.monotonic()
            for event in list(self.store.events.values()):
                due = (event.auto_redeliver and not event.acked and not event.pending
                       and event.sent_at is not None
                       and event.deliveries <= cfg.max_redeliveries
                       and now - event.sent_at >= cfg.redeliver_after)
                if due:
                    log.info("auto-redelivering %s (delivery %d)", event.key,
                             event.deliveries + 1)
                    await self.push_event(event)
