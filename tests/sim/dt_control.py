"""Control API of the DingTalk simulator (JSON under /_sim/), used by tests.

Names mirror the Feishu simulator's where they apply.  Bad input answers HTTP
400 {"error": ...} so that a typo in a test fails loudly.
"""

import json
import logging
import secrets

from dt_cards import ClickRefused, click_params
from dt_state import TOPIC_BOT_MESSAGE, TOPIC_CARD_CALLBACK, FailRule, now_ms
from sim_control import ControlError, _get  # same validation helper as the Feishu sim
from sim_http import json_response

log = logging.getLogger("dtsim.control")


def _lwcp() -> str:
    return "$:LWCP_v1:$" + secrets.token_urlsafe(24)


def robot_message(store, *, conversation_id, sender_staff_id, text, sender_nick,
                  at_bot, conversation_type, msg_id, webhook_valid_s, conversation_title,
                  raw_text, at_users, sender_id) -> dict:
    """The `data` document of a /v1.0/im/bot/messages/get push (§2)."""
    create_at = now_ms()
    msg_id = msg_id or "msg" + secrets.token_urlsafe(18) + "=="
    expires = create_at + int(webhook_valid_s * 1000)
    session = store.new_session(conversation_id, msg_id, expires)
    if raw_text:
        content = text
    else:
        # The bot's @mention is stripped, leaving the leading space (§2).
        content = " " + text
    mentioned = [{"dingtalkId": store.chatbot_user_id}] if at_bot else []
    for user in at_users:
        mentioned.append({"dingtalkId": _lwcp(), "staffId": user})
    doc = {
        "conversationId": conversation_id, "conversationType": conversation_type,
        "msgId": msg_id, "msgtype": "text", "text": {"content": content},
        "senderNick": sender_nick, "senderStaffId": sender_staff_id,
        "senderId": sender_id or "$:LWCP_v1:$" + sender_staff_id,
        "senderCorpId": store.corp_id, "senderPlatform": "Mac", "isAdmin": False,
        "chatbotUserId": store.chatbot_user_id, "chatbotCorpId": store.corp_id,
        "robotCode": store.client_id, "isInAtList": bool(at_bot), "atUsers": mentioned,
        "sessionWebhook": store.session_url(session),
        "sessionWebhookExpiredTime": expires, "createAt": create_at,
    }
    if conversation_type == "2":
        doc["conversationTitle"] = conversation_title
    if not sender_staff_id:  # external users have no staff id (§2)
        del doc["senderStaffId"]
    return doc


class DtControl:
    def __init__(self, store, hub):
        self.store = store
        self.hub = hub
        self.routes = {
            ("POST", "/_sim/message"): self.message,
            ("POST", "/_sim/card_callback"): self.card_callback,
            ("POST", "/_sim/card_click"): self.card_click,
            ("POST", "/_sim/event"): self.event,
            ("POST", "/_sim/raw_frame"): self.raw_frame,
            ("POST", "/_sim/system_ping"): self.system_ping,
            ("POST", "/_sim/system"): self.system,
            ("POST", "/_sim/disconnect"): self.disconnect,
            ("POST", "/_sim/drop"): self.drop,
            ("GET", "/_sim/acks"): self.acks,
            ("GET", "/_sim/messages"): self.messages,
            ("GET", "/_sim/requests"): self.requests,
            ("GET", "/_sim/state"): self.state,
            ("POST", "/_sim/fail"): self.fail,
            ("POST", "/_sim/fail_open"): self.fail_open,
            ("POST", "/_sim/expire_tokens"): self.expire_tokens,
            ("POST", "/_sim/expire_webhooks"): self.expire_webhooks,
            ("GET", "/_sim/config"): self.config,
            ("POST", "/_sim/config"): self.config,
            ("POST", "/_sim/redeliver"): self.redeliver,
            ("POST", "/_sim/reset_logs"): self.reset_logs,
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
        except ClickRefused as exc:
            log.info("control %s: refused: %s", req.path, exc)
            return json_response(409, {"error": str(exc), "refused": True})
        return json_response(200, result)

    # -- pushes ------------------------------------------------------------------------

    async def message(self, body: dict) -> dict:
        ctype = _get(body, "conversation_type", str, "2")
        if ctype not in ("1", "2"):
            raise ControlError("conversation_type must be '1' or '2'")
        at_users = _get(body, "at_users", list, [])
        if not all(isinstance(u, str) for u in at_users):
            raise ControlError("at_users must be a list of staff ids")
        doc = robot_message(
            self.store,
            conversation_id=_get(body, "conversation_id", str),
            sender_staff_id=_get(body, "sender_staff_id", str),
            text=_get(body, "text", str),
            sender_nick=_get(body, "sender_nick", str, "模拟用户"),
            at_bot=_get(body, "at_bot", bool, True),
            conversation_type=ctype,
            msg_id=_get(body, "msg_id", str, None),
            webhook_valid_s=_get(body, "webhook_valid_s", float,
                                 self.store.config.webhook_valid_s),
            conversation_title=_get(body, "conversation_title", str, "模拟测试群"),
            raw_text=_get(body, "raw_text", bool, False),
            at_users=at_users,
            sender_id=_get(body, "sender_id", str, None))
        push = self.hub.new_push("CALLBACK", TOPIC_BOT_MESSAGE,
                                 json.dumps(doc, ensure_ascii=False), msg_id=doc["msgId"],
                                 auto_redeliver=_get(body, "auto_redeliver", bool, True))
        sent = await self.hub.send_push(push)
        return {"msg_id": doc["msgId"], "session_webhook": doc["sessionWebhook"],
                "data": doc, **sent}

    async def card_callback(self, body: dict) -> dict:
        action_ids = _get(body, "action_ids", list, None)
        params = _get(body, "params", dict, {})
        card = self.store.cards.get(_get(body, "out_track_id", str))
        if card is not None and card.get("card_template_id") == "StandardCard":
            raise ClickRefused("StandardCard (互动卡片普通版) clicks are not delivered over Stream")
        if card is not None and card.get("callback_type") != "STREAM":
            raise ClickRefused(f"the card was created with callbackType {card.get('callback_type')!r}: "
                               "its clicks do not come over Stream")
        return await self._push_callback(body, params, action_ids)

    async def card_click(self, body: dict) -> dict:
        """A click on a generic-template card as a user sees it: the button with
        `label`, or (no label) the input submitted with `input`."""
        otid = _get(body, "out_track_id", str)
        card = self.store.cards.get(otid)
        if card is None:
            raise ControlError(f"no card {otid!r}")
        params = click_params(card, self.store, _get(body, "label", str, None),
                              _get(body, "input", str, None))
        body = dict(body, conversation_id=card.get("conversation_id") or "")
        return await self._push_callback(body, params, ["node_collabd_button" if "label" in body
                                                        else "node_collabd_input"])

    async def _push_callback(self, body: dict, params: dict, action_ids) -> dict:
        content = {"cardPrivateData": {"actionIds": action_ids if action_ids is not None
                                       else ["sim_action"], "params": params}}
        cid = _get(body, "conversation_id", str)
        doc = {"type": "actionCallback", "outTrackId": _get(body, "out_track_id", str),
               "corpId": self.store.corp_id, "userId": _get(body, "user_id", str),
               "userIdType": 1, "spaceType": _get(body, "space_type", str, "IM_GROUP"),
               "spaceId": cid, "extension": "{}",
               "content": json.dumps(content, ensure_ascii=False)}
        # Card callbacks are not redelivered.
        push = self.hub.new_push("CALLBACK", TOPIC_CARD_CALLBACK,
                                 json.dumps(doc, ensure_ascii=False),
                                 out_track_id=doc["outTrackId"])
        sent = await self.hub.send_push(push)
        return {"data": doc, **sent}

    async def event(self, body: dict) -> dict:
        etype = _get(body, "event_type", str)
        payload = _get(body, "data", dict, {})
        event_id = _get(body, "event_id", str, secrets.token_hex(16))
        headers = {"eventType": etype, "eventId": event_id,
                   "eventBornTime": str(now_ms()), "eventCorpId": self.store.corp_id,
                   "eventUnifiedAppId": self.hub.app_id}
        push = self.hub.new_push("EVENT", etype, json.dumps(payload, ensure_ascii=False),
                                 event_headers=headers,
                                 auto_redeliver=_get(body, "auto_redeliver", bool, True))
        push.msg_id = None
        sent = await self.hub.send_push(push)
        return {"event_id": event_id, "push": push.key, **sent}

    async def raw_frame(self, body: dict) -> dict:
        return await self.hub.raw_frame(_get(body, "text", str), _get(body, "conn", int, None))

    async def system_ping(self, body: dict) -> dict:
        return {"message_ids": await self.hub.system_ping(_get(body, "conn", int, None))}

    async def system(self, body: dict) -> dict:
        data = body.get("data", "{}")
        if data is not None and not isinstance(data, str):
            raise ControlError("data must be a string (or null)")
        return {"message_ids": await self.hub.system(_get(body, "topic", str), data,
                                                      _get(body, "conn", int, None))}

    async def disconnect(self, body: dict) -> dict:
        rec = await self.hub.disconnect(_get(body, "close_after", float, 10.0),
                                        _get(body, "conn", int, None),
                                        _get(body, "abrupt", bool, False),
                                        _get(body, "reason", str,
                                             "persistent connection is timeout"))
        if rec is None:
            raise ControlError("no open, non-draining connection")
        return _public(rec)

    async def drop(self, body: dict) -> dict:
        return await self.hub.drop(_get(body, "abrupt", bool, False))

    # -- reading back ---------------------------------------------------------------------

    async def acks(self, body: dict) -> dict:
        return {"acks": self.store.acks, "bad_frames": self.store.bad_frames}

    async def messages(self, body: dict) -> dict:
        return {"messages": self.store.messages}

    async def requests(self, body: dict) -> dict:
        return {"requests": self.store.requests}

    async def state(self, body: dict) -> dict:
        store, hub = self.store, self.hub
        live = hub.live()
        return {
            "connected": len(live),
            "connections": [c.describe() for c in hub.conns.values()],
            **store.counters,
            "opens": store.opens,
            "unacked": store.unacked(),
            "queued": sum(1 for p in store.pushes.values() if p.pending),
            "pings": store.pings,
            "disconnects": [_public(r) for r in store.disconnects],
            "ws_queries": store.ws_queries,
            "handshake_rejects": store.handshake_rejects,
            "pushes": [{"key": p.key, "type": p.frame_type, "topic": p.topic,
                        "msg_id": p.msg_id, "out_track_id": p.out_track_id,
                        "acked": p.acked, "deliveries": p.deliveries, "pending": p.pending,
                        "message_ids": p.message_ids} for p in store.pushes.values()],
            "app_id": hub.app_id,
            "config": vars(store.config),
        }

    # -- breaking things -------------------------------------------------------------------

    async def fail(self, body: dict) -> dict:
        raw = body.get("body")
        if raw is not None and not isinstance(raw, (dict, str)):
            raise ControlError("body must be an object or a string")
        rule = FailRule(path_prefix=_get(body, "path_prefix", str),
                        status=_get(body, "status", int, None), body=raw,
                        count=_get(body, "count", int, 1),
                        delay_ms=_get(body, "delay_ms", int, 0))
        if rule.status is None and isinstance(raw, dict) and "errcode" in raw:
            rule.status = 200  # webhook style: HTTP 200 with a non-zero errcode
        if rule.status is None and not rule.delay_ms:
            raise ControlError("need status, delay_ms or a body with errcode")
        self.store.fail_rules.append(rule)
        return {"ok": True, "rules": len(self.store.fail_rules)}

    async def fail_open(self, body: dict) -> dict:
        raw = body.get("body")
        if raw is not None and not isinstance(raw, (dict, str)):
            raise ControlError("body must be an object or a string")
        self.store.open_fail = {"status": _get(body, "status", int, 500), "body": raw,
                                "count": _get(body, "count", int, 1)}
        return {"ok": True}

    async def expire_tokens(self, body: dict) -> dict:
        return {"expired": self.store.expire_tokens()}

    async def expire_webhooks(self, body: dict) -> dict:
        return {"expired": self.store.expire_webhooks()}

    async def config(self, body: dict) -> dict:
        cfg = self.store.config
        for key in ("redeliver_after", "token_expire", "system_ping_interval",
                    "ticket_valid_s", "webhook_valid_s"):
            if key in body:
                setattr(cfg, key, _get(body, key, float))
        for key in ("max_redeliveries", "card_callback_deadline_ms"):
            if key in body:
                setattr(cfg, key, _get(body, key, int))
        if "generic_template_id" in body:
            cfg.generic_template_id = _get(body, "generic_template_id", str)
        if "undeliverable" in body:
            cfg.undeliverable = _get(body, "undeliverable", list)
        if "extra_headers" in body:
            cfg.extra_headers = _get(body, "extra_headers", bool)
        return vars(cfg)

    async def redeliver(self, body: dict) -> dict:
        return {"redelivered": await self.hub.redeliver(_get(body, "msg_id", str, None),
                                                        _get(body, "force", bool, False))}

    async def reset_logs(self, body: dict) -> dict:
        self.store.reset_logs()
        return {"ok": True}


def _public(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if not k.startswith("_")}
