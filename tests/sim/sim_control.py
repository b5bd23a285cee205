"""Control API of the Feishu simulator (JSON under /_sim/), used by tests.

Tests inject events, break things on purpose (failures, drops, expired
tokens) and read back what the daemon did (acks, posted messages, OpenAPI
calls, counters).  Bad input answers HTTP 400 {"error": ...} so a typo in a
test fails loudly instead of silently injecting nothing.
"""

import base64
import binascii
import json
import logging

from sim_events import card_action_event, message_event
from sim_http import json_response
from sim_state import FailRule

log = logging.getLogger("sim.control")


class ControlError(Exception):
    """A malformed control request (answered with HTTP 400)."""


def _get(body: dict, key: str, kind, default=..., allow_none=False):
    """body[key] checked against kind; `...` as default means required."""
    if key not in body or (body[key] is None and not allow_none):
        if default is ...:
            raise ControlError(f"missing field {key!r}")
        return default
    value = body[key]
    if value is None and allow_none:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        raise ControlError(f"field {key!r} must be {getattr(kind, '__name__', kind)}")
    return value


def _fragments(body: dict) -> int:
    n = _get(body, "fragments", int, 1)
    if n < 1:
        raise ControlError("fragments must be >= 1")
    return n


def _order(body: dict, n: int):
    order = _get(body, "order", list, None)
    if order is not None and sorted(order) != list(range(n)):
        raise ControlError(f"order must be a permutation of 0..{n - 1}")
    return order


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ControlError(f"bad base64: {exc}") from None


class Control:
    """Dispatches /_sim/* requests to the store and the WebSocket hub."""

    def __init__(self, store, hub):
        self.store = store
        self.hub = hub
        self.routes = {
            ("POST", "/_sim/message"): self.message,
            ("POST", "/_sim/card_action"): self.card_action,
            ("POST", "/_sim/event"): self.event,
            ("POST", "/_sim/raw_frame"): self.raw_frame,
            ("POST", "/_sim/fragments"): self.fragments,
            ("GET", "/_sim/acks"): self.acks,
            ("GET", "/_sim/messages"): self.messages,
            ("GET", "/_sim/chats"): self.chats,
            ("GET", "/_sim/requests"): self.requests,
            ("GET", "/_sim/state"): self.state,
            ("POST", "/_sim/drop"): self.drop,
            ("POST", "/_sim/fail"): self.fail,
            ("POST", "/_sim/fail_endpoint"): self.fail_endpoint,
            ("POST", "/_sim/fail_handshake"): self.fail_handshake,
            ("POST", "/_sim/expire_tokens"): self.expire_tokens,
            ("GET", "/_sim/config"): self.config,
            ("POST", "/_sim/config"): self.config,
            ("POST", "/_sim/redeliver"): self.redeliver,
            ("POST", "/_sim/reset_logs"): self.reset_logs,
            ("POST", "/_sim/users_left"): self.users_left,
            ("POST", "/_sim/lock_card"): self.lock_card,
        }

    async def handle(self, req):
        handler = self.routes.get((req.method, req.path))
        if handler is None:
            return json_response(404, {"error": f"no control endpoint {req.method} {req.path}"})
        try:
            body = req.json() if req.body.strip() else {}
            if not isinstance(body, dict):
                raise ControlError("body must be a JSON object")
            result = await handler(body)
        except (ControlError, ValueError, UnicodeDecodeError) as exc:
            log.warning("control %s: %s", req.path, exc)
            return json_response(400, {"error": str(exc)})
        return json_response(200, result)

    # -- injecting pushes ----------------------------------------------------

    async def message(self, body: dict) -> dict:
        mentions = _get(body, "mentions", list, None)
        for m in mentions or []:
            if not (isinstance(m, dict) and isinstance(m.get("key"), str)
                    and isinstance(m.get("open_id"), str)):
                raise ControlError("each mention needs string 'key' and 'open_id'")
        content = _get(body, "content", dict, None)
        doc = message_event(
            self.store,
            chat_id=_get(body, "chat_id", str),
            sender_open_id=_get(body, "sender_open_id", str),
            text=_get(body, "text", str, "" if content is not None else ...),
            mentions=mentions,
            chat_type=_get(body, "chat_type", str, "group"),
            message_id=_get(body, "message_id", str, None),
            event_id=_get(body, "event_id", str, None),
            message_type=_get(body, "message_type", str, "text"),
            content=content,
            root_id=_get(body, "root_id", str, ""),
            parent_id=_get(body, "parent_id", str, ""),
            sender_type=_get(body, "sender_type", str, "user"),
        )
        msg = doc["event"]["message"]
        # Replies to this message should land in its chat (§3.3 bookkeeping).
        self.store.known_messages[msg["message_id"]] = {
            "chat_id": msg["chat_id"], "from_bot": False, "msg_type": msg["message_type"]}
        n = _fragments(body)
        event = self.hub.register_event(json.dumps(doc, ensure_ascii=False).encode("utf-8"),
                                        doc["header"]["event_id"], msg["message_id"],
                                        fragments=n, order=_order(body, n))
        sent = await self.hub.push_event(event)
        return {"event_id": event.event_id, "message_id": event.message_id, **sent}

    async def card_action(self, body: dict) -> dict:
        doc = card_action_event(
            self.store,
            chat_id=_get(body, "chat_id", str),
            operator_open_id=_get(body, "operator_open_id", str),
            open_message_id=_get(body, "open_message_id", str),
            value=_get(body, "value", (dict, str), {}),
            tag=_get(body, "tag", str, "button"),
            name=_get(body, "name", str, None),
            event_id=_get(body, "event_id", str, None),
            **{k: body.get(k) for k in ("form_value", "input_value", "option", "options",
                                        "checked", "timezone")},
        )
        n = _fragments(body)
        # Card callbacks are not retried by the platform (§1.11), so no auto-redelivery.
        event = self.hub.register_event(json.dumps(doc, ensure_ascii=False).encode("utf-8"),
                                        doc["header"]["event_id"], fragments=n,
                                        order=_order(body, n), auto_redeliver=False)
        # The card is locked while its click is handled (answered by the ack).
        event.card_message_id = doc["event"]["context"]["open_message_id"]
        self.store.card_locks.lock(event.card_message_id)
        sent = await self.hub.push_event(event)
        return {"event_id": event.event_id, **sent}

    async def event(self, body: dict) -> dict:
        frame_type = _get(body, "type", str, "event")
        event_id = message_id = None
        if "raw_payload_b64" in body:
            payload = _b64(_get(body, "raw_payload_b64", str))
        elif "payload" in body:
            doc = body["payload"]
            payload = json.dumps(doc, ensure_ascii=False).encode("utf-8")
            if isinstance(doc, dict):
                header = doc.get("header") if isinstance(doc.get("header"), dict) else {}
                event_id = header.get("event_id") if isinstance(
                    header.get("event_id"), str) else None
                message = (doc.get("event") or {}).get("message") if isinstance(
                    doc.get("event"), dict) else None
                if isinstance(message, dict) and isinstance(message.get("message_id"), str):
                    message_id = message["message_id"]
        else:
            raise ControlError("need 'payload' or 'raw_payload_b64'")
        n = _fragments(body)
        # Default: retry ordinary events like the platform; never card-type frames.
        auto = _get(body, "auto_redeliver", bool, frame_type == "event")
        event = self.hub.register_event(payload, event_id, message_id, frame_type=frame_type,
                                        fragments=n, order=_order(body, n),
                                        auto_redeliver=auto)
        sent = await self.hub.push_event(event)
        return {"event_id": event_id, **sent}

    async def raw_frame(self, body: dict) -> dict:
        return await self.hub.push_raw([_b64(_get(body, "b64", str))])

    async def fragments(self, body: dict) -> dict:
        specs = _get(body, "frames", list)
        for spec in specs:
            if not isinstance(spec, dict) or not all(
                    k in spec for k in ("message_id", "sum", "seq", "payload_b64")):
                raise ControlError("each frame needs message_id, sum, seq, payload_b64")
            _b64(spec["payload_b64"])
        return await self.hub.push_fragments(specs, _get(body, "type", str, "event"))

    # -- reading back --------------------------------------------------------

    async def acks(self, body: dict) -> dict:
        return {"acks": self.store.acks, "bad_frames": self.store.bad_frames}

    async def messages(self, body: dict) -> dict:
        return {"messages": self.store.messages}

    async def chats(self, body: dict) -> dict:
        return {"chats": self.store.chats}

    async def requests(self, body: dict) -> dict:
        return {"requests": self.store.requests}

    async def state(self, body: dict) -> dict:
        store, hub = self.store, self.hub
        return {
            "connected": len(hub.conns),
            **store.counters,
            "ping_service_ids": store.ping_service_ids,
            "unacked": store.unacked_event_ids(),
            "ws_queries": store.ws_queries,
            "handshake_rejects": store.handshake_rejects,
            "queued": len(hub.queue),
            "connections": [{"id": c.id, "device_id": c.device_id, "service_id": c.service_id}
                            for c in hub.conns.values()],
            "events": [{"event_id": e.event_id, "message_id": e.message_id, "acked": e.acked,
                        "deliveries": e.deliveries, "pending": e.pending,
                        "frame_message_ids": e.frame_message_ids}
                       for e in store.events.values()],
            "config": vars(store.config),
        }

    # -- breaking things -------------------------------------------------------

    async def drop(self, body: dict) -> dict:
        return await self.hub.drop(
            mid_frame=_get(body, "mid_frame", bool, False),
            abrupt=_get(body, "abrupt", bool, False),
            **{k: body[k] for k in ("chat_id", "sender_open_id", "text")
               if isinstance(body.get(k), str)})

    async def fail(self, body: dict) -> dict:
        rule = FailRule(path_prefix=_get(body, "path_prefix", str),
                        status=_get(body, "status", int, None),
                        code=_get(body, "code", int, None),
                        count=_get(body, "count", int, 1),
                        reset=_get(body, "reset", (int, float), 1),
                        delay_ms=_get(body, "delay_ms", int, 0),
                        msg=_get(body, "msg", str, None))
        if rule.count == 0:
            # count 0: the rules already set under this prefix are cleared.
            self.store.fail_rules = [r for r in self.store.fail_rules
                                     if not r.path_prefix.startswith(rule.path_prefix)]
        else:
            self.store.fail_rules.append(rule)
        return {"ok": True, "rules": len(self.store.fail_rules)}

    async def fail_endpoint(self, body: dict) -> dict:
        self.store.endpoint_fail = {"code": _get(body, "code", int, None),
                                    "http_status": _get(body, "http_status", int, None),
                                    "count": _get(body, "count", int, 1)}
        return {"ok": True}

    async def fail_handshake(self, body: dict) -> dict:
        self.store.handshake_fail = {"status": _get(body, "status", int),
                                     "autherrcode": _get(body, "autherrcode", int, None),
                                     "msg": _get(body, "msg", str, None),
                                     "count": _get(body, "count", int, 1)}
        return {"ok": True}

    async def expire_tokens(self, body: dict) -> dict:
        return {"expired": self.store.expire_tokens()}

    async def config(self, body: dict) -> dict:
        cfg = self.store.config
        for key in ("ping_interval", "reconnect_interval", "reconnect_nonce",
                    "token_expire", "redeliver_after"):
            if key in body:
                setattr(cfg, key, _get(body, key, float))
        if "max_redeliveries" in body:
            cfg.max_redeliveries = _get(body, "max_redeliveries", int)
        return vars(cfg)

    async def redeliver(self, body: dict) -> dict:
        out = await self.hub.redeliver(_get(body, "event_id", str, None),
                                       _get(body, "force", bool, False))
        return {"redelivered": out}

    async def users_left(self, body: dict) -> dict:
        """People Feishu can no longer resolve: a card @-mentioning one is refused."""
        ids = _get(body, "open_ids", list)
        if not all(isinstance(i, str) and i for i in ids):
            raise ControlError("open_ids must be a list of ids")
        self.store.left_users = set(ids)
        return {"left": sorted(self.store.left_users)}

    async def lock_card(self, body: dict) -> dict:
        """Lock a card as if someone's click on it were being handled (seconds),
        and/or keep clicked cards locked `linger` seconds after their answer."""
        locks = self.store.card_locks
        if "linger" in body:
            locks.linger = float(_get(body, "linger", (int, float)))
        if "message_id" in body:
            locks.lock(_get(body, "message_id", str), float(_get(body, "seconds", (int, float), 3)))
        return {"locked": sorted(locks.until), "linger": locks.linger}

    async def reset_logs(self, body: dict) -> dict:
        self.store.reset_logs()
        return {"ok": True}
